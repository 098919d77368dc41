package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.SUCCESS;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Deadlines and timeouts: expiry cancels the scope, and nested scopes use the earliest deadline. */
class DeadlineTest {

    @Test
    @Timeout(10)
    void join_timeoutPasses_throwsDeadlineExceededAndSubtasksEndCancelled() throws Exception {
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withTimeout(Duration.ofMillis(200)))) {
            Subtask<Object> s = scope.fork(() -> blockUntilInterrupted());
            assertThatThrownBy(scope::join).isInstanceOf(DeadlineExceededException.class);
            assertThat(scope.isCancelled()).isTrue();
            assertThat(s.state()).isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void join_deadlinePasses_exceptionNamesTheDeadline() throws Exception {
        Instant deadline = Instant.now().plusMillis(200);
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withDeadline(deadline))) {
            scope.fork(() -> blockUntilInterrupted());
            Throwable thrown = catchThrowable(scope::join);
            assertThat(thrown).isInstanceOf(DeadlineExceededException.class);
            assertThat(((DeadlineExceededException) thrown).deadline()).isEqualTo(deadline);
        }
    }

    @Test
    @Timeout(10)
    void join_subtasksFinishBeforeDeadline_returnsNormally() throws Exception {
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withTimeout(Duration.ofMinutes(5)))) {
            scope.fork(() -> "in time");
            assertThat(scope.join()).containsExactly("in time");
            assertThat(scope.isCancelled()).isFalse();
        }
    }

    @Test
    @Timeout(10)
    void open_zeroOrNegativeTimeoutOrPastDeadline_scopeIsCancelledAtOnce() throws Exception {
        for (var cfg : List.<UnaryOperator<TaskScope.Configuration>>of(
                c -> c.withTimeout(Duration.ZERO),
                c -> c.withTimeout(Duration.ofSeconds(-1)),
                c -> c.withDeadline(Instant.now().minusSeconds(1)))) {
            try (var scope = TaskScope.open(Joiner.awaitAll(), cfg)) {
                assertThat(scope.isCancelled()).isTrue();
                Subtask<Object> s = scope.fork(() -> "never");
                assertThat(s.state()).isEqualTo(CANCELLED);
                assertThatThrownBy(scope::join).isInstanceOf(DeadlineExceededException.class);
            }
        }
    }

    @Test
    @Timeout(10)
    void withTimeoutAndWithDeadline_laterCallReplacesEarlier() throws Exception {
        Instant fixed = Instant.now().plus(Duration.ofHours(3));
        var seen = new AtomicReference<Optional<Instant>>();
        try (var scope = TaskScope.open(Joiner.awaitAll(),
                c -> c.withTimeout(Duration.ofMillis(1)).withDeadline(fixed))) {
            scope.fork(() -> seen.set(Cancellation.deadline()));
            scope.join();
        }
        assertThat(seen.get()).contains(fixed);

        Instant before = Instant.now();
        try (var scope = TaskScope.open(Joiner.awaitAll(),
                c -> c.withDeadline(Instant.now().minusSeconds(5)).withTimeout(Duration.ofHours(1)))) {
            assertThat(scope.isCancelled()).isFalse();
            scope.fork(() -> seen.set(Cancellation.deadline()));
            scope.join();
        }
        Instant after = Instant.now();
        assertThat(seen.get()).hasValueSatisfying(d -> assertThat(d)
                .isBetween(before.plus(Duration.ofHours(1)), after.plus(Duration.ofHours(1))));
    }

    @Test
    @Timeout(10)
    void nestedScopeInSubtask_ownDeadlinePasses_nestedJoinThrowsDeadlineExceededOuterUnaffected() throws Exception {
        var innerFailure = new AtomicReference<Throwable>();
        try (var scope = TaskScope.<String>open()) {
            Subtask<String> child = scope.fork(() -> {
                try (var inner = TaskScope.open(Joiner.awaitAll(), c -> c.withTimeout(Duration.ofMillis(200)))) {
                    inner.fork(() -> blockUntilInterrupted());
                    innerFailure.set(catchThrowable(inner::join));
                }
                return Cancellation.isRequested() ? "outer cancelled" : "carried on";
            });
            scope.join();
            assertThat(innerFailure.get()).isInstanceOf(DeadlineExceededException.class);
            assertThat(scope.isCancelled()).isFalse();
            assertThat(child.state()).isEqualTo(SUCCESS);
            assertThat(child.get()).isEqualTo("carried on");
        }
    }

    @Test
    @Timeout(10)
    void nestedScopeOnOwner_enclosingDeadlinePasses_nestedJoinThrowsPlainCancelledException() throws Exception {
        try (var outer = TaskScope.open(Joiner.awaitAll(), c -> c.withTimeout(Duration.ofMillis(500)))) {
            try (var inner = TaskScope.open(Joiner.awaitAll(), c -> c.withTimeout(Duration.ofHours(1)))) {
                Subtask<Object> s = inner.fork(() -> blockUntilInterrupted());
                Throwable thrown = catchThrowable(inner::join);
                assertThat(thrown).as("the enclosing scope reports the deadline")
                        .isExactlyInstanceOf(CancelledException.class);
                assertThat(s.state()).isEqualTo(CANCELLED);
            }
            assertThatThrownBy(outer::join).isInstanceOf(DeadlineExceededException.class);
        }
    }

    @Test
    @Timeout(10)
    void nestedScopeInSubtask_enclosingDeadlinePasses_nestedJoinThrowsPlainCancelledAndSubtaskCancelled() throws Exception {
        var innerFailure = new AtomicReference<Throwable>();
        // Long enough for the child to start and open its scope on a loaded machine.
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withTimeout(Duration.ofSeconds(2)))) {
            Subtask<Object> child = scope.fork(() -> {
                try (var inner = TaskScope.open(Joiner.awaitAll(), c -> c.withTimeout(Duration.ofHours(1)))) {
                    inner.fork(() -> blockUntilInterrupted());
                    try {
                        inner.join();
                    } catch (CancelledException e) {
                        innerFailure.set(e);
                        throw e;
                    }
                    return "inner joined";
                }
            });
            assertThatThrownBy(scope::join).isInstanceOf(DeadlineExceededException.class);
            assertThat(innerFailure.get()).isExactlyInstanceOf(CancelledException.class);
            assertThat(child.state()).isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void effectiveDeadline_enclosingEarlier_subtasksOfNestedScopeSeeEnclosingDeadline() throws Exception {
        Instant early = Instant.now().plus(Duration.ofHours(1));
        Instant late = early.plus(Duration.ofHours(1));
        assertThat(deadlinesSeenInNestedScopes(early, late)).containsExactly(Optional.of(early), Optional.of(early));
    }

    @Test
    @Timeout(10)
    void effectiveDeadline_nestedEarlier_subtasksOfNestedScopeSeeTheirOwnDeadline() throws Exception {
        Instant early = Instant.now().plus(Duration.ofHours(1));
        Instant late = early.plus(Duration.ofHours(1));
        assertThat(deadlinesSeenInNestedScopes(late, early)).containsExactly(Optional.of(early), Optional.of(early));
    }

    /**
     * Opens a scope with deadline {@code outer}, and inside it two scopes with deadline
     * {@code inner}: one opened by a subtask, one by the owner. Returns what
     * {@code Cancellation.deadline()} reads in a subtask of each, in that order.
     */
    private static List<Optional<Instant>> deadlinesSeenInNestedScopes(Instant outer, Instant inner) throws Exception {
        var inSubtaskScope = new AtomicReference<Optional<Instant>>();
        var inOwnerScope = new AtomicReference<Optional<Instant>>();
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withDeadline(outer))) {
            scope.fork(() -> {
                try (var nested = TaskScope.open(Joiner.awaitAll(), c -> c.withDeadline(inner))) {
                    nested.fork(() -> inSubtaskScope.set(Cancellation.deadline()));
                    nested.join();
                }
                return null;
            });
            try (var nested = TaskScope.open(Joiner.awaitAll(), c -> c.withDeadline(inner))) {
                nested.fork(() -> inOwnerScope.set(Cancellation.deadline()));
                nested.join();
            }
            scope.join();
        }
        return List.of(inSubtaskScope.get(), inOwnerScope.get());
    }

    @Test
    @Timeout(10)
    void effectiveDeadline_onlyEnclosingHasOne_nestedScopeInheritsItAtAnyDepth() throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofHours(1));
        var seen = new AtomicReference<Optional<Instant>>();
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withDeadline(deadline))) {
            scope.fork(() -> {
                try (var inner = TaskScope.open(Joiner.awaitAll())) {
                    inner.fork(() -> {
                        try (var innermost = TaskScope.open(Joiner.awaitAll())) {
                            innermost.fork(() -> seen.set(Cancellation.deadline()));
                            innermost.join();
                        }
                        return null;
                    });
                    inner.join();
                }
                return null;
            });
            scope.join();
        }
        assertThat(seen.get()).contains(deadline);
    }
}

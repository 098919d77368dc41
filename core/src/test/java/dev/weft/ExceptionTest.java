package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.FAILED;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.awaitTerminated;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Failures reach join: the first is the cause, later ones are suppressed, Errors are never swallowed. */
class ExceptionTest {

    /** An Error a task may throw. */
    static final class BoomError extends Error {
        private static final long serialVersionUID = 1L;

        BoomError(String message) {
            super(message);
        }
    }

    @Test
    @Timeout(10)
    void join_subtaskThrowsCheckedException_causeIsThatSameException() throws Exception {
        var failure = new IOException("disk on fire");
        try (var scope = TaskScope.open()) {
            Subtask<Object> s = scope.fork(() -> {
                throw failure;
            });
            assertThatThrownBy(scope::join).isInstanceOf(ExecutionException.class).cause().isSameAs(failure);
            assertThat(s.state()).isEqualTo(FAILED);
            assertThat(s.exception()).isSameAs(failure);
        }
    }

    @Test
    @Timeout(10)
    void join_laterFailureNotCausedByCancellation_suppressedAndCancelledSubtasksNotAttached() throws Exception {
        var first = new IllegalStateException("first");
        var later = new IllegalArgumentException("later, during clean-up");
        try (var scope = TaskScope.open()) {
            // Forked before the first failure's subtask: the cause is the first in completion order.
            Subtask<Object> failsLater = scope.fork(() -> {
                try {
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    throw later;
                }
            });
            Subtask<Object> plainCancelled = scope.fork(() -> blockUntilInterrupted());
            Subtask<Object> checkCancelled = scope.fork(() -> {
                try {
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    Cancellation.check();
                    return "not reached";
                }
            });
            awaitBlocked(failsLater);
            awaitBlocked(plainCancelled);
            awaitBlocked(checkCancelled);
            scope.fork(() -> {
                throw first;
            });
            Throwable thrown = catchThrowable(scope::join);
            assertThat(thrown).isInstanceOf(ExecutionException.class).cause().isSameAs(first);
            assertThat(thrown.getSuppressed()).containsExactly(later);
            assertThat(failsLater.state()).isEqualTo(FAILED);
            assertThat(plainCancelled.state()).isEqualTo(CANCELLED);
            assertThat(checkCancelled.state()).isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void join_subtaskThrowsError_errorIsTheCause() throws Exception {
        var error = new BoomError("fatal");
        try (var scope = TaskScope.open()) {
            Subtask<Object> blocked = scope.fork(() -> blockUntilInterrupted());
            awaitBlocked(blocked);
            Subtask<Object> s = scope.fork(() -> {
                throw error;
            });
            assertThatThrownBy(scope::join).isInstanceOf(ExecutionException.class).cause().isSameAs(error);
            assertThat(s.state()).isEqualTo(FAILED);
            assertThat(s.exception()).isSameAs(error);
            assertThat(blocked.state()).as("an Error is a failure like any other: fail-fast").isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void join_assertionErrorInSubtask_isAFailureNotSwallowed() throws Exception {
        try (var scope = TaskScope.open(Joiner.<Object>allSuccessfulOrThrow())) {
            scope.fork(() -> {
                assertThat(1).isEqualTo(2);
                return "unreachable";
            });
            assertThatThrownBy(scope::join).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(AssertionError.class);
        }
    }

    @Test
    @Timeout(10)
    void join_laterErrorDuringCancellation_suppressed() throws Exception {
        var first = new IllegalStateException("first");
        var laterError = new BoomError("later error");
        try (var scope = TaskScope.open()) {
            Subtask<Object> failsLater = scope.fork(() -> {
                try {
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    throw laterError;
                }
            });
            awaitBlocked(failsLater);
            scope.fork(() -> {
                throw first;
            });
            Throwable thrown = catchThrowable(scope::join);
            assertThat(thrown).isInstanceOf(ExecutionException.class).cause().isSameAs(first);
            assertThat(thrown.getSuppressed()).containsExactly(laterError);
        }
    }

    @Test
    @Timeout(10)
    void join_errorInSupervisorScope_readableFromSubtask() throws Exception {
        var error = new BoomError("fatal");
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> s = scope.fork(() -> {
                throw error;
            });
            scope.join();
            assertThat(s.state()).isEqualTo(FAILED);
            assertThat(s.exception()).isSameAs(error);
            assertThatThrownBy(s::get).isInstanceOf(IllegalStateException.class).cause().isSameAs(error);
        }
    }

    @Test
    @Timeout(10)
    void join_explicitCancelAfterRecordedFailure_failureSuppressedOnCancelledException() throws Exception {
        var failure = new IllegalStateException("failed before the cancel");
        var reason = new RuntimeException("stop");
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> failing = scope.fork(() -> {
                throw failure;
            });
            Subtask<Object> blocked = scope.fork(() -> blockUntilInterrupted());
            awaitTerminated(failing);
            awaitBlocked(blocked);
            scope.cancel(reason);
            Throwable thrown = catchThrowable(scope::join);
            assertThat(thrown).isExactlyInstanceOf(CancelledException.class).cause().isSameAs(reason);
            assertThat(thrown.getSuppressed()).containsExactly(failure);
        }
    }

    @Test
    @Timeout(10)
    void join_deadlineAfterRecordedFailure_failureSuppressedOnDeadlineExceeded() throws Exception {
        var failure = new IllegalStateException("failed before the deadline");
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withTimeout(Duration.ofSeconds(1)))) {
            scope.fork(() -> {
                throw failure;
            });
            scope.fork(() -> blockUntilInterrupted());
            Throwable thrown = catchThrowable(scope::join);
            assertThat(thrown).isInstanceOf(DeadlineExceededException.class);
            assertThat(thrown.getSuppressed()).containsExactly(failure);
        }
    }

    @Test
    @Timeout(10)
    void join_subtaskThrowsInterruptedExceptionWithoutBeingCancelled_isFailed() throws Exception {
        var own = new InterruptedException("not from weft");
        try (var scope = TaskScope.open()) {
            Subtask<Object> s = scope.fork(() -> {
                throw own;
            });
            assertThatThrownBy(scope::join).isInstanceOf(ExecutionException.class).cause().isSameAs(own);
            assertThat(s.state()).isEqualTo(FAILED);
        }
    }

    @Test
    @Timeout(10)
    void join_manyFailuresInSupervisorThenCancel_eachFailureAttachedOnce() throws Exception {
        var reason = new RuntimeException("stop");
        List<Throwable> failures = new ArrayList<>();
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            List<Subtask<Object>> failing = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                var f = new IllegalStateException("failure " + i);
                failures.add(f);
                failing.add(scope.fork(() -> {
                    throw f;
                }));
            }
            for (Subtask<Object> s : failing) {
                awaitTerminated(s);
            }
            scope.cancel(reason);
            Throwable thrown = catchThrowable(scope::join);
            assertThat(thrown.getSuppressed()).containsExactlyInAnyOrderElementsOf(failures);
        }
    }
}

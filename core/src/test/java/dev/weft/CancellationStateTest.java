package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static dev.weft.TestSupport.onNewThread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link Cancellation}'s view of the current task: inside tasks at any depth, and outside any scope. */
class CancellationStateTest {

    @Test
    @Timeout(10)
    void isRequested_insideTask_falseUntilCancelledThenTrue() throws Exception {
        var before = new AtomicReference<Boolean>();
        var started = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.<String>awaitAll())) {
            Subtask<String> s = scope.fork(() -> {
                before.set(Cancellation.isRequested());
                started.countDown();
                long end = System.nanoTime() + 8_000_000_000L;
                while (!Cancellation.isRequested() && System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
                return Cancellation.isRequested() ? "saw it" : "timed out";
            });
            await(started);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThat(before.get()).isFalse();
            assertThat(s.get()).isEqualTo("saw it");
        }
    }

    @Test
    @Timeout(10)
    void isRequested_interruptSwallowedByTask_staysTrue() throws Exception {
        try (var scope = TaskScope.open(Joiner.<List<Boolean>>awaitAll())) {
            Subtask<List<Boolean>> s = scope.fork(() -> {
                try {
                    return blockUntilInterrupted();
                } catch (InterruptedException swallowed) {
                    return List.of(Thread.currentThread().isInterrupted(), Cancellation.isRequested());
                }
            });
            awaitBlocked(s);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThat(s.get()).containsExactly(false, true);
        }
    }

    @Test
    @Timeout(10)
    void check_insideCancelledTask_throwsCancelledExceptionWithReasonAndKeepsInterruptStatus() throws Exception {
        var reason = new IllegalStateException("why");
        var thrown = new AtomicReference<Throwable>();
        var interruptedAfter = new AtomicReference<Boolean>();
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> s = scope.fork(() -> {
                try {
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    Cancellation.check();                // interrupt status is clear here: must not matter
                    return "check did not throw";
                } finally {
                    interruptedAfter.set(Thread.currentThread().isInterrupted());
                }
            });
            awaitBlocked(s);
            scope.cancel(reason);
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            thrown.set(s.exception());
        }
        assertThat(thrown.get()).isInstanceOf(CancelledException.class).cause().isSameAs(reason);
        assertThat(interruptedAfter.get()).as("check() does not set the interrupt status").isFalse();
    }

    @Test
    @Timeout(10)
    void check_insideTaskNotCancelled_doesNothing() throws Exception {
        try (var scope = TaskScope.<String>open()) {
            Subtask<String> s = scope.fork(() -> {
                Cancellation.check();
                return Cancellation.isRequested() ? "requested" : "fine";
            });
            scope.join();
            assertThat(s.get()).isEqualTo("fine");
        }
    }

    @Test
    @Timeout(10)
    void isRequestedAndCheck_grandchildOfCancelledScope_seeCancellation() throws Exception {
        var grandchild = new AtomicReference<Subtask<String>>();
        var forked = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            scope.fork(() -> {
                try (var inner = TaskScope.open(Joiner.<String>awaitAll())) {
                    grandchild.set(inner.fork(() -> {
                        try {
                            return blockUntilInterrupted();
                        } catch (InterruptedException e) {
                            String seen = "requested=" + Cancellation.isRequested();
                            try {
                                Cancellation.check();
                                return seen + ", check passed";
                            } catch (CancelledException c) {
                                return seen + ", check threw";
                            }
                        }
                    }));
                    forked.countDown();
                    inner.join();
                }
                return null;
            });
            await(forked);
            awaitBlocked(grandchild.get());
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThat(grandchild.get().get()).isEqualTo("requested=true, check threw");
        }
    }

    @Test
    @Timeout(10)
    void isRequested_siblingOfCancelledSubtask_staysFalse() throws Exception {
        var release = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.<Boolean>awaitAll())) {
            Subtask<Boolean> victim = scope.fork(() -> blockUntilInterrupted());
            Subtask<Boolean> sibling = scope.fork(() -> {
                await(release);
                return Cancellation.isRequested();
            });
            awaitBlocked(victim);
            victim.cancel();
            TestSupport.awaitTerminated(victim);
            release.countDown();
            scope.join();
            assertThat(victim.state()).isEqualTo(CANCELLED);
            assertThat(sibling.get()).isFalse();
        }
    }

    @Test
    @Timeout(10)
    void deadline_insideTask_isTheScopeDeadlineOrEmpty() throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofHours(1));
        try (var scope = TaskScope.open(Joiner.<Optional<Instant>>awaitAll(), c -> c.withDeadline(deadline))) {
            Subtask<Optional<Instant>> s = scope.fork(Cancellation::deadline);
            scope.join();
            assertThat(s.get()).contains(deadline);
        }
        try (var scope = TaskScope.open(Joiner.<Object>awaitAll())) {
            Subtask<Optional<Instant>> s = scope.fork(Cancellation::deadline);
            Subtask<Optional<Duration>> r = scope.fork(Cancellation::remaining);
            scope.join();
            assertThat(s.get()).isEmpty();
            assertThat(r.get()).isEmpty();
        }
    }

    @Test
    @Timeout(10)
    void remaining_insideTask_positiveAndAtMostTheTimeout() throws Exception {
        Duration timeout = Duration.ofHours(1);
        try (var scope = TaskScope.open(Joiner.<Optional<Duration>>awaitAll(), c -> c.withTimeout(timeout))) {
            Subtask<Optional<Duration>> s = scope.fork(Cancellation::remaining);
            scope.join();
            assertThat(s.get()).hasValueSatisfying(d -> assertThat(d)
                    .isPositive().isLessThanOrEqualTo(timeout).isGreaterThan(timeout.minusMinutes(1)));
        }
    }

    @Test
    @Timeout(10)
    void remaining_afterDeadlinePassed_isZeroNeverNegative() throws Exception {
        // One second: long enough for the subtask to start before the deadline on a loaded machine.
        try (var scope = TaskScope.open(Joiner.<Optional<Duration>>awaitAll(), c -> c.withTimeout(Duration.ofSeconds(1)))) {
            Subtask<Optional<Duration>> s = scope.fork(() -> {
                try {
                    return blockUntilInterrupted();
                } catch (InterruptedException deadline) {
                    return Cancellation.remaining();
                }
            });
            assertThatThrownBy(scope::join).isInstanceOf(DeadlineExceededException.class);
            assertThat(s.get()).contains(Duration.ZERO);
        }
    }

    @Test
    @Timeout(10)
    void outsideAnyScope_reflectsInterruptStatusWithoutClearingIt() throws Exception {
        String result = onNewThread(() -> {
            StringBuilder sb = new StringBuilder();
            sb.append(Cancellation.isRequested()).append(',');
            assertThatCode(Cancellation::check).doesNotThrowAnyException();
            Thread.currentThread().interrupt();
            sb.append(Cancellation.isRequested()).append(',');
            sb.append(catchThrowable(Cancellation::check) instanceof CancelledException).append(',');
            sb.append(Thread.currentThread().isInterrupted()).append(',');
            sb.append(Cancellation.deadline().isEmpty()).append(',').append(Cancellation.remaining().isEmpty());
            Thread.interrupted();
            sb.append(',').append(Cancellation.isRequested());
            return sb.toString();
        });
        assertThat(result).isEqualTo("false,true,true,true,true,true,false");
    }

    @Test
    @Timeout(10)
    void outsideAnyTask_ownerOfCancelledScopeWithDeadline_seesOnlyItsInterruptStatus() throws Exception {
        String result = onNewThread(() -> {
            try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withTimeout(Duration.ofHours(1)))) {
                scope.cancel();
                String seen = Cancellation.isRequested() + "," + Cancellation.deadline().isEmpty();
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
                return seen;
            }
        });
        assertThat(result).isEqualTo("false,true");
    }
}

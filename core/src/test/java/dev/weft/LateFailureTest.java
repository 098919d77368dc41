package dev.weft;

import static dev.weft.TestSupport.threadOf;
import static dev.weft.TestSupport.whenBlockedIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Nothing is lost: a subtask that fails after {@code join()} stopped waiting for it (its owner was
 * interrupted during the wait for cancelled subtasks, or the grace period ran out) is no longer
 * attached to join's exception; its failure must then be reported as a late failure, as it is for a
 * straggler that fails after {@code close()}. Found by {@link StressTest} (regression tests).
 */
class LateFailureTest {

    /** Keeps the intentional warnings (late failures) off the build log. */
    @RegisterExtension
    static final LogCapture LOG = new LogCapture();

    private static final Duration WAIT = TestSupport.WAIT;

    /** A failure that a cancelled subtask throws on its way out. */
    private static final class CleanupError extends Error {
        private static final long serialVersionUID = 1L;

        CleanupError() {
            super("cleanup failed after cancellation");
        }
    }

    @Test
    @Timeout(30)
    void join_ownerInterruptedWhileWaitingForCancelledSubtask_laterFailureIsReported() throws Exception {
        var error = new CleanupError();
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        Subtask<Object> subtask;
        try (var incidents = new ShutdownSupport.Incidents()) {
            try (var scope = TaskScope.open(Joiner.awaitAll())) {
                subtask = scope.fork(() -> {
                    ShutdownSupport.ignoreInterruptsUntil(started, release);
                    throw error;
                });
                try {
                    TestSupport.await(started);
                    scope.cancel();
                    Thread owner = Thread.currentThread();
                    var interrupter = whenBlockedIn(owner, "join", owner::interrupt);
                    assertThatThrownBy(scope::join).as("join stops waiting when its owner is interrupted")
                            .isInstanceOf(CancelledException.class);
                    assertThat(Thread.interrupted()).as("join re-asserted the interrupt").isTrue();
                    interrupter.get();
                    assertThat(subtask.state()).isEqualTo(Subtask.State.RUNNING);
                } finally {
                    release.countDown();          // the subtask now fails, after join() returned
                }
            }
            assertThat(subtask.state()).isEqualTo(Subtask.State.FAILED);
            assertThat(subtask.exception()).isSameAs(error);
            Reports.Incident report = incidents.await(i -> i.error() == error, WAIT);
            assertThat(report.kind()).isEqualTo("failure");
            assertThat(report.message()).contains("failed", "was not reported by join()");
        }
    }

    @Test
    @Timeout(30)
    void nestedJoin_owningSubtaskCancelled_failureOfNestedSubtaskAfterJoinIsReported() throws Exception {
        var error = new CleanupError();
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var nestedSubtask = new AtomicReference<Subtask<Object>>();
        try (var incidents = new ShutdownSupport.Incidents()) {
            try (var scope = TaskScope.open(Joiner.awaitAll())) {
                Subtask<Object> owner = scope.fork(() -> {
                    try (var nested = TaskScope.open(Joiner.awaitAll())) {
                        nestedSubtask.set(nested.fork(() -> {
                            ShutdownSupport.ignoreInterruptsUntil(started, release);
                            throw error;
                        }));
                        // Cancelling the owning subtask cancels this scope, then interrupts this thread:
                        // join() stops waiting for the stubborn subtask and throws.
                        return nested.join();
                    }                  // close() waits; the nested subtask fails meanwhile
                });
                TestSupport.await(started);
                var releaser = whenBlockedIn(threadOf(owner), "close", release::countDown);
                scope.cancel();
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
                releaser.get();
                assertThat(owner.state()).isEqualTo(Subtask.State.CANCELLED);
                assertThat(owner.exception()).isInstanceOf(CancelledException.class);
            }
            assertThat(nestedSubtask.get().state()).isEqualTo(Subtask.State.FAILED);
            assertThat(nestedSubtask.get().exception()).isSameAs(error);
            Reports.Incident report = incidents.await(i -> i.error() == error, WAIT);
            assertThat(report.kind()).isEqualTo("failure");
        }
    }
}

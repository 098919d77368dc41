package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TestSupport.WAIT;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.awaitBlockedIn;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static dev.weft.TestSupport.whenBlockedIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link TaskScope#close()}: cancels what has not finished and waits for it. */
class CloseTest {

    @Test
    @Timeout(10)
    void close_afterCancelWithoutJoin_waitsForSubtasksToEnd() throws Exception {
        var trail = new EventTrail();
        var started = new CountDownLatch(1);
        var scope = TaskScope.open();
        Subtask<Object> s = scope.fork(() -> {
            try {
                started.countDown();
                return blockUntilInterrupted();
            } finally {
                Thread.sleep(200);                      // slow clean-up after the interrupt
                trail.add("subtask ended");
            }
        });
        await(started);
        scope.cancel();
        scope.close();
        trail.add("close returned");
        trail.assertContainsInOrder("subtask ended", "close returned");
        assertThat(s.state()).isEqualTo(CANCELLED);
    }

    @Test
    @Timeout(20)
    void close_afterInterruptedJoin_cancelsRunningSubtasksAndDoesNotThrow() throws Exception {
        Thread owner = Thread.currentThread();
        var scope = TaskScope.open();
        Subtask<Object> s = scope.fork(() -> blockUntilInterrupted());
        var helper = whenBlockedIn(owner, "join", owner::interrupt);
        assertThatThrownBy(scope::join).isInstanceOf(InterruptedException.class);
        helper.get(10, TimeUnit.SECONDS);
        assertThatCode(scope::close).as("join was called").doesNotThrowAnyException();
        assertThat(s.state()).isEqualTo(CANCELLED);
    }

    @Test
    @Timeout(20)
    void close_ownerInterruptedWhileWaiting_keepsWaitingThenReassertsInterrupt() throws Exception {
        var trail = new EventTrail();
        var release = new CountDownLatch(1);
        var ignoredInterrupt = new CountDownLatch(1);
        Thread owner = Thread.currentThread();
        var scope = TaskScope.open(Joiner.awaitAll());
        Subtask<Object> stubborn = scope.fork(() -> {
            for (;;) {
                try {
                    release.await();
                    trail.add("subtask ended");
                    return "done";
                } catch (InterruptedException e) {
                    ignoredInterrupt.countDown();       // ignores the cancellation
                }
            }
        });
        awaitBlocked(stubborn);
        scope.cancel();
        await(ignoredInterrupt);
        var helper = whenBlockedIn(owner, "close", () -> {
            try {
                owner.interrupt();
                long end = System.nanoTime() + WAIT.toNanos();
                while (owner.isInterrupted()) {         // close consumed the interrupt...
                    if (System.nanoTime() > end) {
                        throw new TimeoutException("owner's interrupt status never cleared");
                    }
                    Thread.yield();
                }
                awaitBlockedIn(owner, "close", WAIT);   // ...and went back to waiting
            } finally {
                release.countDown();
            }
        });
        scope.close();
        boolean interrupted = Thread.interrupted();
        trail.add("close returned");
        helper.get(10, TimeUnit.SECONDS);
        assertThat(interrupted).as("close re-asserted the interrupt status").isTrue();
        trail.assertContainsInOrder("subtask ended", "close returned");
    }

    @Test
    @Timeout(10)
    void close_afterJoinerCancelled_waitsForCancelledSubtasks() throws Exception {
        var trail = new EventTrail();
        var started = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.<String>anySuccessfulOrThrow())) {
            scope.fork(() -> {
                try {
                    started.countDown();
                    return blockUntilInterrupted();
                } finally {
                    Thread.sleep(100);
                    trail.add("loser ended");
                }
            });
            await(started);
            scope.fork(() -> "winner");
            assertThat(scope.join()).isEqualTo("winner");
            trail.add("join returned");
        }
        trail.add("close returned");
        trail.assertContainsInOrder("loser ended", "join returned", "close returned");
    }

    @Test
    @Timeout(30)
    void close_afterJoinWaitedOutTheGrace_waitsOnlyForWhatIsLeftOfIt() throws Exception {
        // One grace period covers the whole stop: join() after a cancel waits for it, close() for the rest.
        var release = new CountDownLatch(1);
        var started = new CountDownLatch(1);
        var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withGrace(java.time.Duration.ofSeconds(2)));
        try {
            scope.fork("stubborn", () -> {
                started.countDown();
                while (release.getCount() > 0) {
                    try {
                        release.await();
                    } catch (InterruptedException ignored) {
                        // swallows the cancellation: a straggler
                    }
                }
                return null;
            });
            await(started);
            scope.cancel();
            long joinStart = System.nanoTime();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            long joinNanos = System.nanoTime() - joinStart;
            assertThat(joinNanos).as("join waited for the grace period").isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(1900));
            long closeStart = System.nanoTime();
            assertThatThrownBy(scope::close).isInstanceOf(GracePeriodExceededException.class);
            long closeNanos = System.nanoTime() - closeStart;
            assertThat(closeNanos).as("close did not wait a second grace period").isLessThan(TimeUnit.MILLISECONDS.toNanos(1500));
        } finally {
            release.countDown();
        }
    }
}

package dev.weft;

import static dev.weft.RegressionSupport.async;
import static dev.weft.RegressionSupport.finishes;
import static dev.weft.RegressionSupport.thrownBy;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.TaskScope.Joiner;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Deadlines (issue 11, cause 2) fire on their own platform thread, so a deadline is met even when
 * every carrier thread is busy with subtasks spinning on {@code Cancellation.isRequested()}, the
 * loop the javadoc recommends; and {@code join()} and {@code close()} wait with timeouts that never
 * pass the deadline plus the grace period.
 *
 * <p>The owner runs on its own platform thread, so that a core whose deadline never fires fails an
 * assertion here (and the spinning subtasks are then stopped) instead of hanging the build.
 */
class DeadlineTimerTest {

    /** Generous bound for "the deadline fired and join/close returned": far above 1 s, far below a hang. */
    private static final Duration BOUND = Duration.ofSeconds(15);

    /** The outcome of an owner's join and close. */
    private record Outcome(Throwable join, Throwable close, long elapsedNanos) {
    }

    @ParameterizedTest(name = "{0} spinners per available processor")
    @ValueSource(ints = {1, 2})
    @Timeout(60)
    void withTimeout_everyCarrierBusySpinningOnIsRequested_deadlineFiresJoinThrowsCloseReturns(int perCpu)
            throws Exception {
        int spinners = Runtime.getRuntime().availableProcessors() * perCpu;
        var escape = new AtomicBoolean();        // only for cleanup, if the deadline never fires
        var started = new CountDownLatch(spinners);
        CompletableFuture<Outcome> owner = async("test-owner", () -> {
            long t0 = System.nanoTime();
            Throwable join;
            Throwable close;
            try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("spinners")
                    .withTimeout(Duration.ofSeconds(1)))) {
                for (int i = 0; i < spinners; i++) {
                    scope.fork("spinner-" + i, () -> {
                        started.countDown();
                        while (!Cancellation.isRequested() && !escape.get()) {
                            // the recommended loop: busy, never parks, holds its carrier
                        }
                        return null;
                    });
                }
                join = thrownBy(scope::join);
                close = thrownBy(scope::close);
            }
            return new Outcome(join, close, System.nanoTime() - t0);
        });
        try {
            assertThat(finishes(owner, BOUND))
                    .as("join() and close() returned within %s although %d subtasks keep every carrier busy",
                            BOUND, spinners).isTrue();
            Outcome o = owner.get();
            assertThat(o.join()).as("join() after the deadline").isInstanceOf(DeadlineExceededException.class);
            assertThat(o.close()).as("close() after the deadline").isNull();
        } finally {
            escape.set(true);
            finishes(owner, BOUND);
        }
    }

    @Test
    @Timeout(60)
    void withTimeoutAndGrace_subtaskIgnoresInterrupts_joinAndCloseReturnWithinDeadlinePlusGraceAndNameIt()
            throws Exception {
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        CompletableFuture<Outcome> owner = async("test-owner", () -> {
            long t0 = System.nanoTime();
            Throwable join;
            Throwable close;
            try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("bounded")
                    .withTimeout(Duration.ofMillis(300)).withGrace(Duration.ofMillis(300)))) {
                scope.fork("stubborn", () -> {
                    ShutdownSupport.ignoreInterruptsUntil(started, release);
                    return null;
                });
                join = thrownBy(scope::join);
                close = thrownBy(scope::close);
            }
            return new Outcome(join, close, System.nanoTime() - t0);
        });
        try {
            assertThat(finishes(owner, Duration.ofSeconds(10)))
                    .as("join() + close() return within a generous bound of timeout 300 ms + grace 300 ms").isTrue();
            Outcome o = owner.get();
            assertThat(o.join()).isInstanceOf(DeadlineExceededException.class);
            assertThat(o.close()).isInstanceOf(GracePeriodExceededException.class);
            var gpe = (GracePeriodExceededException) o.close();
            assertThat(gpe.stragglers()).extracting(GracePeriodExceededException.Straggler::task).containsExactly("stubborn");
            assertThat(gpe.getMessage()).contains("'stubborn'");
        } finally {
            release.countDown();
        }
    }
}

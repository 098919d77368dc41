package dev.weft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Cancellation#isRequested()} is true in a subtask as soon as its scope is cancelled, even
 * while the canceller is still on its way through the scope's subtasks (it marks them one by one).
 * Found by {@link StressTest} (regression tests): a subtask could read {@code scope.isCancelled()}
 * true and {@code isRequested()} false, and even {@code check()} pass after cancelling its own
 * scope.
 */
class CancelVisibilityTest {

    @Test
    @Timeout(60)
    void isRequested_onceScopeIsCancelled_readsTrueWhileCancellerIsStillMarkingSiblings() throws Exception {
        AtomicInteger violations = new AtomicInteger();
        for (int round = 0; round < 20; round++) {
            var started = new CountDownLatch(1);
            var seen = new AtomicBoolean();
            try (var scope = TaskScope.open(Joiner.awaitAll())) {
                List<Subtask<Object>> parked = new ArrayList<>();
                for (int i = 0; i < 2_000; i++) {      // many siblings: the canceller takes a while to reach the last
                    parked.add(scope.fork(() -> TestSupport.blockUntilInterrupted()));
                }
                scope.fork(() -> {
                    started.countDown();
                    for (;;) {
                        boolean cancelled = scope.isCancelled();
                        boolean requested = Cancellation.isRequested();
                        if (cancelled && !requested) {
                            violations.incrementAndGet();
                        }
                        if (cancelled) {
                            seen.set(true);
                            return null;
                        }
                        Thread.onSpinWait();
                    }
                });
                started.await();
                Thread canceller = Thread.ofPlatform().start(scope::cancel);
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
                canceller.join();
            }
            assertThat(seen).isTrue();
        }
        assertThat(violations).as("isRequested() read false after isCancelled() read true").hasValue(0);
    }

    @Test
    @Timeout(30)
    void cancel_ownScope_checkThrowsAtOnceAndSubtaskEndsCancelled() throws Exception {
        var requestedAfterOwnCancel = new AtomicBoolean();
        Subtask<Object> self;
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            for (int i = 0; i < 1_000; i++) {
                scope.fork(() -> TestSupport.blockUntilInterrupted());
            }
            self = scope.fork(() -> {
                scope.cancel();
                requestedAfterOwnCancel.set(Cancellation.isRequested());
                Cancellation.check();
                return "not cancelled";
            });
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(requestedAfterOwnCancel).isTrue();
        assertThat(self.state()).isEqualTo(Subtask.State.CANCELLED);
    }
}

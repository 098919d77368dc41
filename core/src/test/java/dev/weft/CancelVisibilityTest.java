package dev.weft;

import static dev.weft.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Cancellation#isRequested()} is true in a subtask as soon as its scope is cancelled, even
 * while the canceller is still on its way through the scope's subtasks (it marks them one by one,
 * and closes each one's {@code onCancel} resources on the way). Found by {@link StressTest}
 * (regression tests): a subtask could read {@code scope.isCancelled()} true and
 * {@code isRequested()} false, and even {@code check()} pass after cancelling its own scope.
 */
class CancelVisibilityTest {

    /** Forks a subtask whose onCancel resource holds its canceller until {@code release}. */
    private static Subtask<Object> forkHoldingCanceller(TaskScope<Object, ?> scope, CountDownLatch closing,
                                                        CountDownLatch release) throws Exception {
        var registered = new CountDownLatch(1);
        Subtask<Object> holder = scope.fork(() -> {
            Cancellation.onCancel(() -> {
                closing.countDown();
                release.await();              // a slow close: a socket, a JDBC statement
            });
            registered.countDown();
            return TestSupport.blockUntilInterrupted();
        });
        await(registered);
        return holder;
    }

    @Test
    @Timeout(30)
    void isRequested_scopeCancelledWhileCancellerHeldUpByAnotherSubtask_readsTrueAtOnce() throws Exception {
        var closing = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var observe = new CountDownLatch(1);
        var scopeCancelled = new AtomicBoolean();
        var requested = new AtomicBoolean();
        var checkThrew = new AtomicBoolean();
        Subtask<Object> observer;
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            forkHoldingCanceller(scope, closing, release);
            observer = scope.fork(() -> {
                observe.await();
                scopeCancelled.set(scope.isCancelled());
                requested.set(Cancellation.isRequested());
                try {
                    Cancellation.check();
                } catch (CancelledException e) {
                    checkThrew.set(true);
                    throw e;
                } finally {
                    release.countDown();
                }
                return "not cancelled";
            });
            Thread canceller = Thread.ofPlatform().start(scope::cancel);
            await(closing);                   // the canceller is inside the first subtask's close()
            observe.countDown();
            TestSupport.awaitTerminated(canceller, TestSupport.WAIT);
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        } finally {
            release.countDown();
        }
        assertThat(scopeCancelled).isTrue();
        assertThat(requested).as("isRequested() once the scope is cancelled").isTrue();
        assertThat(checkThrew).isTrue();
        assertThat(observer.state()).as("a CancelledException from check() is a cancellation").isEqualTo(Subtask.State.CANCELLED);
    }

    @Test
    @Timeout(30)
    void cancel_ownScopeWhileAnotherCancellationIsUnderWay_checkThrowsAtOnce() throws Exception {
        var closing = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var go = new CountDownLatch(1);
        var requestedAfterOwnCancel = new AtomicBoolean();
        Subtask<Object> self;
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            forkHoldingCanceller(scope, closing, release);
            self = scope.fork(() -> {
                go.await();
                scope.cancel();               // returns false: the scope is already being cancelled
                requestedAfterOwnCancel.set(Cancellation.isRequested());
                release.countDown();
                Cancellation.check();
                return "not cancelled";
            });
            Thread canceller = Thread.ofPlatform().start(scope::cancel);
            await(closing);
            go.countDown();
            TestSupport.awaitTerminated(canceller, TestSupport.WAIT);
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        } finally {
            release.countDown();
        }
        assertThat(requestedAfterOwnCancel).isTrue();
        assertThat(self.state()).isEqualTo(Subtask.State.CANCELLED);
    }
}

package dev.weft;

import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.awaitTerminated;
import static dev.weft.TestSupport.threadOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Cancelling one subtask, one scope (with a reason), or every scope in the JVM; and the shutdown
 * hook's idempotence.
 */
class ScopesTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    /** A subtask body that signals {@code started}, then blocks until interrupted. */
    private static Object blockUntilInterrupted(CountDownLatch started) throws InterruptedException {
        started.countDown();
        return TestSupport.blockUntilInterrupted();
    }

    @Test
    @Timeout(30)
    void subtaskCancel_oneOfTwo_cancelsOnlyThatSubtask() throws Exception {
        var started = new CountDownLatch(2);
        var release = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> victim = scope.fork("victim", () -> blockUntilInterrupted(started));
            Subtask<Object> sibling = scope.fork("sibling", () -> {
                started.countDown();
                release.await();
                return "sibling done, isRequested=" + Cancellation.isRequested();
            });
            started.await();
            awaitBlocked(threadOf(victim), WAIT);

            assertThat(victim.cancel()).isTrue();
            awaitTerminated(threadOf(victim), WAIT);
            assertThat(victim.state()).isEqualTo(Subtask.State.CANCELLED);
            assertThat(victim.exception()).isInstanceOf(InterruptedException.class);
            assertThat(victim.cancel()).as("already cancelled").isFalse();

            assertThat(scope.isCancelled()).isFalse();
            assertThat(sibling.state()).isEqualTo(Subtask.State.RUNNING);
            release.countDown();
            scope.join();
            assertThat(sibling.get()).isEqualTo("sibling done, isRequested=false");
        }
    }

    @Test
    @Timeout(30)
    void cancelWithReason_fromAnotherThread_reasonIsCauseOfJoinAndOfCheck() throws Exception {
        var started = new CountDownLatch(1);
        var reason = new IllegalStateException("operator pressed stop");
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> task = scope.fork(() -> {
                try {
                    blockUntilInterrupted(started);
                } catch (InterruptedException e) {
                    Cancellation.check();               // throws, with the reason as its cause
                }
                return "not cancelled";
            });
            started.await();
            awaitBlocked(threadOf(task), WAIT);
            Thread canceller = Thread.ofPlatform().start(() -> {
                scope.cancel(reason);
                scope.cancel(new RuntimeException("second reason, ignored"));
            });
            awaitTerminated(canceller, WAIT);
            assertThat(scope.isCancelled()).isTrue();

            Throwable thrown = catchThrowable(scope::join);
            assertThat(thrown).isInstanceOf(CancelledException.class).hasCauseReference(reason);
            assertThat(task.state()).isEqualTo(Subtask.State.CANCELLED);
            assertThat(task.exception()).isInstanceOf(CancelledException.class).hasCauseReference(reason);
        }
    }

    @Test
    @Timeout(30)
    void cancelAll_twoRootScopesOneWithNestedScope_cancelsAllAndCountsRoots() throws Exception {
        // Tests run one at a time: any root scope still open now was leaked by an earlier test and
        // is cancelled here, so that the count below is exactly this test's.
        Scopes.cancelAll();

        var started = new CountDownLatch(3);
        var otherRootOpened = new CountDownLatch(1);
        var otherRootOutcome = new CompletableFuture<Throwable>();
        var nested = new AtomicReference<TaskScope<Object, Void, ?>>();
        var grandchild = new AtomicReference<Subtask<Object>>();

        Thread otherOwner = Thread.ofPlatform().name("other-root-owner").start(() -> {
            try (var other = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("other-root"))) {
                other.fork(() -> blockUntilInterrupted(started));
                otherRootOpened.countDown();
                otherRootOutcome.complete(catchThrowable(other::join));
            } catch (Throwable t) {
                otherRootOutcome.completeExceptionally(t);
            }
        });
        try (var root = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("root"))) {
            Subtask<Object> child = root.fork(() -> {
                try (var inner = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("nested"))) {
                    nested.set(inner);
                    grandchild.set(inner.fork(() -> blockUntilInterrupted(started)));
                    started.countDown();
                    Throwable t = catchThrowable(inner::join);
                    return t == null ? "nested join returned" : "nested join threw " + t.getClass().getSimpleName();
                }
            });
            started.await();
            otherRootOpened.await();

            assertThat(Scopes.cancelAll()).as("root scopes cancelled").isEqualTo(2);

            assertThat(root.isCancelled()).isTrue();
            assertThat(nested.get().isCancelled()).as("the scope nested below is cancelled too").isTrue();
            Throwable thrown = catchThrowable(root::join);
            assertThat(thrown).isInstanceOf(CancelledException.class).hasMessageContaining("Scopes.cancelAll()");
            assertThat(child.get()).isEqualTo("nested join threw CancelledException");
            assertThat(grandchild.get().state()).isEqualTo(Subtask.State.CANCELLED);
            assertThat(otherRootOutcome.get(30, TimeUnit.SECONDS)).isInstanceOf(CancelledException.class);
            assertThat(Scopes.cancelAll()).as("already cancelled scopes are not counted").isZero();
        } finally {
            awaitTerminated(otherOwner, WAIT);
        }
    }

    @Test
    @Timeout(30)
    void installShutdownHook_calledTwice_secondCallReturnsFalse() {
        // The first call installs the hook unless another test in this JVM did; either way a second
        // call must not install another. (ShutdownHookProcessTest checks that the first call in a
        // fresh JVM returns true and that the hook uses the latest grace period.)
        Scopes.installShutdownHook(Duration.ofSeconds(1));
        assertThat(Scopes.installShutdownHook(Duration.ZERO)).isFalse();
        assertThatThrownBy(() -> Scopes.installShutdownHook(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Scopes.installShutdownHook(null)).isInstanceOf(NullPointerException.class);
    }
}

package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.SUCCESS;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static dev.weft.TestSupport.threadOf;
import static dev.weft.TestSupport.whenBlockedIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Thread factories (platform threads, rejecting factories) and the names of Weft's own threads. */
class ThreadFactoryTest {

    @Test
    @Timeout(10)
    void fork_platformThreadFactory_runsOnPlatformThreadsThatKeepTheirNames() throws Exception {
        ThreadFactory platform = Thread.ofPlatform().name("plat-", 0).factory();
        try (var scope = TaskScope.open(Joiner.<Thread>allSuccessfulOrThrow(), c -> c.withName("io").withThreadFactory(platform))) {
            scope.fork(Thread::currentThread);
            scope.fork("named", Thread::currentThread);
            var threads = scope.join();
            assertThat(threads).allSatisfy(t -> assertThat(t.isVirtual()).isFalse());
            assertThat(threads).extracting(Thread::getName).containsExactly("plat-0", "plat-1");
        }
    }

    @Test
    @Timeout(10)
    void cancel_platformThreadSubtasks_interruptedCancelledAndSeeCancellation() throws Exception {
        ThreadFactory platform = Thread.ofPlatform().factory();
        var started = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.<String>awaitAll(), c -> c.withThreadFactory(platform))) {
            Subtask<String> blocked = scope.fork(() -> blockUntilInterrupted());
            Subtask<String> polling = scope.fork(() -> {
                started.countDown();
                long end = System.nanoTime() + 8_000_000_000L;
                while (!Cancellation.isRequested() && System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
                return Cancellation.isRequested() ? "saw it" : "timed out";
            });
            awaitBlocked(blocked);
            await(started);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThat(threadOf(blocked).isVirtual()).isFalse();
            assertThat(blocked.state()).isEqualTo(CANCELLED);
            assertThat(polling.get()).isEqualTo("saw it");
        }
    }

    @Test
    @Timeout(10)
    void fork_factoryReturnsNull_throwsRejectedExecutionExceptionAndScopeStaysUsable() throws Exception {
        var calls = new AtomicInteger();
        ThreadFactory firstNull = r -> calls.getAndIncrement() == 0 ? null : Thread.ofPlatform().unstarted(r);
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withThreadFactory(firstNull))) {
            assertThatThrownBy(() -> scope.fork(() -> "rejected")).isInstanceOf(RejectedExecutionException.class);
            scope.fork(() -> "accepted");
            assertThat(scope.join()).containsExactly("accepted");
        }
    }

    @Test
    @Timeout(10)
    void close_afterOnlyForkRejectedByFactory_doesNotThrow() throws Exception {
        // close() throws IllegalStateException "if the owner forked subtasks and never called join()";
        // a fork that the factory rejected forked no subtask.
        var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withThreadFactory(r -> null));
        assertThatThrownBy(() -> scope.fork(() -> "rejected")).isInstanceOf(RejectedExecutionException.class);
        assertThatCode(scope::close).doesNotThrowAnyException();
    }

    @Test
    @Timeout(10)
    void fork_factoryThrows_throwsRejectedExecutionExceptionWithThatCause() throws Exception {
        var failure = new IllegalStateException("no threads today");
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withThreadFactory(r -> {
            throw failure;
        }))) {
            assertThatThrownBy(() -> scope.fork(() -> "x")).isInstanceOf(RejectedExecutionException.class)
                    .cause().isSameAs(failure);
            scope.join();
        }
    }

    @Test
    @Timeout(20)
    void fork_factoryReturnsAlreadyStartedThread_rejectedAndScopeUnaffected() throws Exception {
        var calls = new AtomicInteger();
        ThreadFactory startsFirst = r -> {
            Thread t = Thread.ofPlatform().unstarted(r);
            if (calls.getAndIncrement() == 0) {
                t.start();                          // misbehaving factory: starts the thread itself
                try {
                    t.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
            return t;
        };
        var go = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.<String>awaitAllSuccessfulOrThrow(), c -> c.withThreadFactory(startsFirst))) {
            assertThatThrownBy(() -> scope.fork(() -> "rejected")).isInstanceOf(RejectedExecutionException.class);
            Subtask<String> good = scope.fork(() -> {
                await(go);
                return "good";
            });
            var helper = whenBlockedIn(Thread.currentThread(), "join", go::countDown);
            Throwable joinFailure = catchThrowable(scope::join);
            Subtask.State stateAfterJoin = good.state();
            go.countDown();
            assertThat(joinFailure).as("join after a rejected fork").isNull();
            assertThat(stateAfterJoin).as("join waited for the accepted subtask").isEqualTo(SUCCESS);
            assertThat(scope.isCancelled()).isFalse();
            helper.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(10)
    void fork_defaultThreads_namedAfterScopeAndScopeColonName() throws Exception {
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withName("ingest"))) {
            scope.fork(() -> Thread.currentThread().getName());
            scope.fork("writer", () -> Thread.currentThread().getName());
            scope.fork(() -> Thread.currentThread().getName());
            assertThat(scope.join()).containsExactly("ingest", "ingest:writer", "ingest");
        }
    }

    @Test
    @Timeout(10)
    void fork_defaultThreadsInUnnamedScope_namedAfterGeneratedScopeName() throws Exception {
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow())) {
            scope.fork(() -> Thread.currentThread().getName());
            scope.fork("reader", () -> Thread.currentThread().getName());
            assertThat(scope.join()).satisfiesExactly(
                    n -> assertThat(n).matches("scope-\\d+"),
                    n -> assertThat(n).matches("scope-\\d+:reader"));
        }
    }

    @Test
    @Timeout(10)
    void fork_unnamedSubtasks_shareTheScopeNameString() throws Exception {
        // An unnamed fork allocates no thread name: its thread's name is the scope's name string itself.
        String scopeName = new String("shared-name");
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withName(scopeName))) {
            scope.fork(() -> Thread.currentThread().getName());
            scope.fork(() -> Thread.currentThread().getName());
            assertThat(scope.join()).allSatisfy(n -> assertThat(n).isSameAs(scopeName));
        }
    }
}

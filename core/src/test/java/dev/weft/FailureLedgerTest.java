package dev.weft;

import static dev.weft.RegressionSupport.async;
import static dev.weft.RegressionSupport.finishes;
import static dev.weft.RegressionSupport.thrownBy;
import static dev.weft.TestSupport.WAIT;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static dev.weft.TestSupport.whenBlockedIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The failure ledger (issue 11, cause 4): every exception thrown by user code lands exactly once in
 * {@code join()}'s exception tree, {@code close()}'s exception tree, or one {@code dev.weft} log
 * record (or, for a subtask failure that a supervisor {@code join()} returned past, the subtask
 * alone). One test per path on which a failure used to reach nobody.
 */
class FailureLedgerTest {

    private WeftLog log;

    @BeforeEach
    void captureLog() {
        log = new WeftLog();
    }

    @AfterEach
    void releaseLog() {
        log.close();
    }

    /** A failure thrown by user code, unique per test. */
    static final class Injected extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Injected(String path) {
            super("injected failure: " + path);
        }
    }

    /**
     * Waits (at most {@link TestSupport#WAIT}) until {@code failure} is seen somewhere, then asserts
     * it is seen exactly once across the given exception trees and the log records.
     */
    private void assertSeenOnce(Throwable failure, Throwable joinThrew, Throwable closeThrew) {
        RegressionSupport.eventually(() -> seen(failure, joinThrew, closeThrew) > 0, WAIT);
        int inJoin = WeftLog.occurrences(joinThrew, failure);
        int inClose = WeftLog.occurrences(closeThrew, failure);
        int inLog = log.recordsWith(failure);
        assertThat(inJoin + inClose + inLog)
                .as("'%s' is seen exactly once: in join()'s exception %d times, in close()'s %d, in %d log records "
                                + "(join threw %s, close threw %s, log %s)",
                        failure.getMessage(), inJoin, inClose, inLog, joinThrew, closeThrew, WeftLog.describe(log.records()))
                .isEqualTo(1);
    }

    private int seen(Throwable failure, Throwable joinThrew, Throwable closeThrew) {
        return WeftLog.occurrences(joinThrew, failure) + WeftLog.occurrences(closeThrew, failure) + log.recordsWith(failure);
    }

    @Test
    @Timeout(60)
    void joinInterrupted_closeCancelsAndSubtaskFailsOnItsWayOut_seenOnce() throws Exception {
        var failure = new Injected("failed on its way out after join() threw InterruptedException");
        var blocked = new CountDownLatch(1);
        Thread owner = Thread.currentThread();
        Throwable joinThrew;
        Throwable closeThrew;
        var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withGrace(Duration.ofSeconds(10)));
        try {
            scope.fork("leaving", () -> {
                blocked.countDown();
                try {
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    throw failure;
                }
            });
            await(blocked);
            var interrupter = whenBlockedIn(owner, "join", owner::interrupt);
            joinThrew = thrownBy(scope::join);
            interrupter.get();
            assertThat(joinThrew).isInstanceOf(InterruptedException.class);
        } finally {
            closeThrew = thrownBy(scope::close);      // cancels: the subtask fails on its way out
            Thread.interrupted();
        }
        assertSeenOnce(failure, joinThrew, closeThrew);
    }

    /** What cancels a scope whose owner forked and never joined. */
    enum NeverJoinedCancel { DEADLINE, PARENT_CANCEL, CANCEL_ALL }

    @ParameterizedTest
    @EnumSource(NeverJoinedCancel.class)
    @Timeout(60)
    void neverJoined_scopeCancelledAndSubtaskFailsOnItsWayOut_seenOnce(NeverJoinedCancel how) throws Exception {
        var failure = new Injected("failed on its way out of a never-joined scope cancelled by " + how);
        var blocked = new CountDownLatch(1);
        Subtask<Object> subtask;
        Throwable outerThrew = null;
        Throwable innerThrew;
        TaskScope<Object, Void, ?> outer = how == NeverJoinedCancel.PARENT_CANCEL ? TaskScope.open(Joiner.awaitAll()) : null;
        var scope = TaskScope.open(Joiner.awaitAll(), cfg -> {
            var c = cfg.withName("never-joined").withGrace(Duration.ofSeconds(10));
            return how == NeverJoinedCancel.DEADLINE ? c.withTimeout(Duration.ofMillis(100)) : c;
        });
        try {
            subtask = scope.fork("leaving", () -> {
                blocked.countDown();
                try {
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    throw failure;
                }
            });
            await(blocked);
            switch (how) {
                case DEADLINE -> { }
                case PARENT_CANCEL -> outer.cancel();
                case CANCEL_ALL -> Scopes.cancelAll();
            }
            Subtask<Object> s = subtask;
            assertThat(RegressionSupport.eventually(() -> s.state() != Subtask.State.RUNNING, WAIT))
                    .as("the subtask was cancelled and ended").isTrue();
        } finally {
            innerThrew = thrownBy(scope::close);
            if (outer != null) {
                outerThrew = thrownBy(outer::close);
            }
        }
        Throwable inner = innerThrew;
        Throwable outerT = outerThrew;
        RegressionSupport.eventually(() -> seen(failure, inner, null) + WeftLog.occurrences(outerT, failure) > 0, WAIT);
        int total = WeftLog.occurrences(innerThrew, failure) + WeftLog.occurrences(outerThrew, failure)
                + log.recordsWith(failure);
        assertThat(total).as("'%s' seen exactly once (close threw %s; outer close threw %s; log %s)", failure.getMessage(),
                innerThrew, outerThrew, WeftLog.describe(log.records())).isEqualTo(1);
    }

    @Test
    @Timeout(60)
    void joinerOnCompleteThrowsAfterJoinReturned_seenOnce() throws Exception {
        var failure = new Injected("Joiner.onComplete threw after join() had returned");
        var lateStarted = new CountDownLatch(1);
        var lateCallback = new CountDownLatch(1);
        var releaseLate = new CountDownLatch(1);
        Joiner<Object, String, RuntimeException> joiner = new Joiner<>() {
            @Override
            public boolean onComplete(Subtask<Object> subtask) {
                if (subtask.name().equals("late")) {
                    lateCallback.countDown();
                    throw failure;
                }
                return subtask.name().equals("first");     // the first result is enough: join returns
            }

            @Override
            public String result() {
                return "first done";
            }
        };
        Throwable closeThrew;
        try {
            try (var scope = TaskScope.open(joiner, cfg -> cfg.withGrace(Duration.ofSeconds(2)))) {
                scope.fork("late", () -> {
                    ShutdownSupport.ignoreInterruptsUntil(lateStarted, releaseLate);
                    return "late";
                });
                await(lateStarted);
                scope.fork("first", () -> "first");
                assertThat(scope.join()).isEqualTo("first done");    // "late" is cancelled but still running
                releaseLate.countDown();                             // it completes after join() returned
                closeThrew = thrownBy(scope::close);
            }
        } finally {
            releaseLate.countDown();
        }
        RegressionSupport.eventually(() -> lateCallback.getCount() == 0, WAIT);
        assumeTrue(lateCallback.getCount() == 0,
                "this core does not call onComplete for a subtask that completes after the scope was cancelled");
        assertSeenOnce(failure, null, closeThrew);
    }

    @Test
    @Timeout(60)
    void onCancelCloseThrowsWhileTaskReturnsNormally_seenOnce() throws Exception {
        var failure = new Injected("onCancel close threw while the task returned normally");
        var registered = new CountDownLatch(1);
        var taskThread = new AtomicReference<Thread>();
        Subtask<String> task;
        Throwable joinThrew;
        Throwable closeThrew;
        var scope = TaskScope.open(Joiner.<String>awaitAll(), cfg -> cfg.withGrace(Duration.ofSeconds(10)));
        try {
            task = scope.fork("holder", () -> {
                taskThread.set(Thread.currentThread());
                Cancellation.onCancel(new AutoCloseable() {
                    @Override
                    public void close() {
                        try {
                            taskThread.get().join(WAIT);     // the close is in flight while the task returns
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        throw failure;
                    }

                    @Override
                    public String toString() {
                        return "throwing resource";
                    }
                });
                registered.countDown();
                while (!Cancellation.isRequested()) {
                    Thread.onSpinWait();
                }
                return "returned normally";              // the task itself does not fail
            });
            await(registered);
            scope.cancel();
            joinThrew = thrownBy(scope::join);
        } finally {
            closeThrew = thrownBy(scope::close);
        }
        assertThat(task.state()).isNotEqualTo(Subtask.State.RUNNING);
        assertSeenOnce(failure, joinThrew, closeThrew);
    }

    @Test
    @Timeout(60)
    void threadFactoryThreadDiesBeforeRunningTheTask_subtaskFailsNamingTheFactoryAndJoinReturns() throws Exception {
        var failure = new IllegalStateException("boom: the factory's thread died before running the task");
        ThreadFactory dying = task -> new Thread(() -> {
            throw failure;                               // ignores the Runnable it was given
        }, "dying-thread");
        var scopeRef = new AtomicReference<TaskScope<Object, Void, ?>>();
        var subtaskRef = new AtomicReference<Subtask<Object>>();
        CompletableFuture<Throwable[]> owner = async("test-owner", () -> {
            Throwable joinThrew;
            Throwable closeThrew;
            var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), cfg -> cfg.withThreadFactory(dying)
                    .withGrace(Duration.ofSeconds(1)));
            scopeRef.set(scope);
            try {
                subtaskRef.set(scope.fork("never-run", () -> "never"));
                joinThrew = thrownBy(scope::join);
            } finally {
                closeThrew = thrownBy(scope::close);
            }
            return new Throwable[] {joinThrew, closeThrew};
        });
        try {
            assertThat(finishes(owner, WAIT)).as("join() and close() return when the thread died").isTrue();
            Throwable[] thrown = owner.get();
            Subtask<Object> subtask = subtaskRef.get();
            assertThat(subtask.state()).isEqualTo(Subtask.State.FAILED);
            assertThat(subtask.exception().getMessage()).as("a clear exception").containsIgnoringCase("thread factory");
            assertThat(thrown[0]).isInstanceOf(ExecutionException.class);
            assertSeenOnce(failure, thrown[0], thrown[1]);
        } finally {
            var scope = scopeRef.get();
            if (scope != null && !owner.isDone()) {
                scope.cancel();                          // on a core that hangs: let join() and close() end
            }
        }
    }

    @Test
    @Timeout(60)
    void threadFactoryThreadNeverRunsTheTask_subtaskFailsNamingTheFactoryAndJoinReturns() throws Exception {
        ThreadFactory idle = task -> new Thread(() -> { }, "idle-thread");     // ends without running it
        var scopeRef = new AtomicReference<TaskScope<Object, Void, ?>>();
        var subtaskRef = new AtomicReference<Subtask<Object>>();
        CompletableFuture<Throwable> owner = async("test-owner", () -> {
            var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), cfg -> cfg.withThreadFactory(idle)
                    .withGrace(Duration.ofSeconds(1)));
            scopeRef.set(scope);
            try {
                subtaskRef.set(scope.fork("never-run", () -> "never"));
                return thrownBy(scope::join);
            } finally {
                thrownBy(scope::close);
            }
        });
        try {
            assertThat(finishes(owner, WAIT)).as("join() returns when the thread ended without running the task").isTrue();
            Subtask<Object> subtask = subtaskRef.get();
            assertThat(subtask.state()).isEqualTo(Subtask.State.FAILED);
            assertThat(subtask.exception().getMessage()).as("a clear exception").containsIgnoringCase("thread factory");
            assertThat(owner.get()).isInstanceOf(ExecutionException.class);
        } finally {
            var scope = scopeRef.get();
            if (scope != null && !owner.isDone()) {
                scope.cancel();
            }
        }
    }

}

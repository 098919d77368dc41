package dev.weft;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

/** Helpers for tests in this package: reach into subtasks, and wait for thread states (never sleep). */
final class TestSupport {

    private TestSupport() {
    }

    /** The thread running a subtask (null if it was never started). */
    static Thread threadOf(TaskScope.Subtask<?> subtask) {
        return ((Task) subtask).thread;
    }

    /** The internal state of a scope. */
    static Flock flockOf(TaskScope<?, ?> scope) {
        return ((TaskScopeImpl<?, ?>) scope).flock();
    }

    /**
     * Waits until {@code thread} is blocked (WAITING, TIMED_WAITING or BLOCKED), polling its state
     * with yields. Use it to know that a child is parked before cancelling it.
     */
    static void awaitBlocked(Thread thread, Duration timeout) throws TimeoutException {
        long end = System.nanoTime() + timeout.toNanos();
        for (;;) {
            Thread.State s = thread.getState();
            if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING || s == Thread.State.BLOCKED) {
                return;
            }
            if (s == Thread.State.TERMINATED) {
                throw new IllegalStateException("thread " + thread + " terminated instead of blocking");
            }
            if (System.nanoTime() > end) {
                throw new TimeoutException("thread " + thread + " did not block within " + timeout + "; state " + s);
            }
            Thread.yield();
        }
    }

    /** Waits until {@code thread} has terminated. */
    static void awaitTerminated(Thread thread, Duration timeout) throws InterruptedException, TimeoutException {
        if (!thread.join(timeout)) {
            throw new TimeoutException("thread " + thread + " still alive after " + timeout);
        }
    }
}

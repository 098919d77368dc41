package dev.weft;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Helpers for tests in this package: reach into subtasks, and wait for thread states (never sleep). */
final class TestSupport {

    /** How long a test waits for something that should happen at once ("did not hang"). */
    static final Duration WAIT = Duration.ofSeconds(10);

    private TestSupport() {
    }

    /** An action that may throw, for helper threads. */
    @FunctionalInterface
    interface Action {
        void run() throws Exception;
    }

    /** The thread running a subtask (null if it was never started). */
    static Thread threadOf(TaskScope.Subtask<?> subtask) {
        return ((Task) subtask).thread;
    }

    /** The internal state of a scope. */
    static Flock flockOf(TaskScope<?, ?, ?> scope) {
        return ((TaskScopeImpl<?, ?, ?>) scope).flock();
    }

    /** A subtask body that blocks until it is interrupted, then lets the InterruptedException out. */
    static <V> V blockUntilInterrupted() throws InterruptedException {
        new CountDownLatch(1).await();
        throw new AssertionError("unreachable: a latch that nobody counts down was released");
    }

    /** Awaits {@code latch} for at most {@link #WAIT}; fails if it was not released by then. */
    /** Whether {@link Cancellation#check()} throws on this thread now. */
    static boolean checkThrows() {
        try {
            Cancellation.check();
            return false;
        } catch (CancelledException e) {
            return true;
        }
    }

    /** Busy-waits {@code n} spin hints: a random delay that does not leave the carrier. */
    static void spin(int n) {
        for (int i = 0; i < n; i++) {
            Thread.onSpinWait();
        }
    }

    /**
     * A subtask body that ignores interrupts: it waits for {@code release}, counting down
     * {@code interrupted} each time it is interrupted, then returns "released".
     */
    static String ignoreInterruptsUntil(CountDownLatch release, CountDownLatch interrupted) {
        for (;;) {
            try {
                release.await();
                return "released";
            } catch (InterruptedException e) {
                interrupted.countDown();           // ignore it and keep waiting
            }
        }
    }

    static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("latch not released within " + WAIT + ": " + latch);
        }
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

    /** Waits until the subtask's thread is blocked, at most {@link #WAIT}. */
    static void awaitBlocked(TaskScope.Subtask<?> subtask) throws TimeoutException {
        awaitBlocked(threadOf(subtask), WAIT);
    }

    /**
     * Waits until {@code thread} is blocked inside a method of Weft named {@code method} (for
     * example the owner parked in {@code join}), polling its state and stack.
     */
    static void awaitBlockedIn(Thread thread, String method, Duration timeout) throws TimeoutException {
        long end = System.nanoTime() + timeout.toNanos();
        for (;;) {
            Thread.State s = thread.getState();
            if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING || s == Thread.State.BLOCKED) {
                for (StackTraceElement e : thread.getStackTrace()) {
                    if (e.getClassName().startsWith("dev.weft.") && e.getMethodName().equals(method)) {
                        return;
                    }
                }
            }
            if (s == Thread.State.TERMINATED) {
                throw new IllegalStateException("thread " + thread + " terminated instead of blocking in " + method);
            }
            if (System.nanoTime() > end) {
                throw new TimeoutException("thread " + thread + " did not block in " + method + " within " + timeout
                        + "; state " + s);
            }
            Thread.yield();
        }
    }

    /**
     * Starts a platform thread that runs {@code action} once {@code thread} is blocked in the Weft
     * method {@code method} (at most {@link #WAIT}). The action runs even if that wait times out;
     * the returned future then fails with the timeout, so check it at the end of the test.
     */
    static CompletableFuture<Void> whenBlockedIn(Thread thread, String method, Action action) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("test-helper").start(() -> {
            Throwable failure = null;
            try {
                awaitBlockedIn(thread, method, WAIT);
            } catch (Throwable t) {
                failure = t;
            }
            try {
                action.run();
            } catch (Throwable t) {
                failure = failure == null ? t : failure;
            }
            if (failure == null) {
                done.complete(null);
            } else {
                done.completeExceptionally(failure);
            }
        });
        return done;
    }

    /**
     * Runs {@code action} on a new platform thread, waits for it (at most {@link #WAIT}), and
     * returns its result or throws what it threw.
     */
    static <V> V onNewThread(Callable<V> action) throws Exception {
        FutureTask<V> task = new FutureTask<>(action);
        Thread.ofPlatform().daemon().name("test-other-thread").start(task);
        try {
            return task.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            if (e.getCause() instanceof Error x) {
                throw x;
            }
            throw e;
        }
    }

    /** Waits until {@code thread} has terminated. */
    static void awaitTerminated(Thread thread, Duration timeout) throws InterruptedException, TimeoutException {
        if (!thread.join(timeout)) {
            throw new TimeoutException("thread " + thread + " still alive after " + timeout);
        }
    }

    /** Waits until the subtask's thread has terminated, at most {@link #WAIT}. */
    static void awaitTerminated(TaskScope.Subtask<?> subtask) throws InterruptedException, TimeoutException {
        awaitTerminated(threadOf(subtask), WAIT);
    }
}

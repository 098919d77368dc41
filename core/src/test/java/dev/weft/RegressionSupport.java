package dev.weft;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * Helpers for the regression tests of bounded shutdown under faults (issue 11): run an action on
 * its own platform thread and wait for it with a bound (so that a call that hangs on a broken core
 * fails an assertion instead of the whole build), and an {@code onCancel} resource whose
 * {@code close()} blocks on a latch. Public API only.
 */
final class RegressionSupport {

    private RegressionSupport() {
    }

    /**
     * Runs {@code action} on a new platform daemon thread named {@code name}; the future completes
     * with its result or what it threw.
     */
    static <V> CompletableFuture<V> async(String name, Callable<V> action) {
        CompletableFuture<V> done = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name(name).start(() -> {
            try {
                done.complete(action.call());
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done;
    }

    /** Same as {@link #async(String, Callable)} for an action without a result. */
    static CompletableFuture<Void> asyncRun(String name, TestSupport.Action action) {
        return async(name, () -> {
            action.run();
            return null;
        });
    }

    /** Waits at most {@code timeout} for {@code f}; returns whether it completed (normally or not). */
    static boolean finishes(CompletableFuture<?> f, Duration timeout) throws InterruptedException {
        try {
            f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException | CompletionException e) {
            return true;
        } catch (TimeoutException e) {
            return false;
        }
        return true;
    }

    /** What a completed future failed with, or null if it completed normally. */
    static Throwable failureOf(CompletableFuture<?> f) {
        if (!f.isDone()) {
            throw new IllegalStateException("not completed: " + f);
        }
        try {
            f.join();
            return null;
        } catch (CompletionException e) {
            return e.getCause();
        } catch (java.util.concurrent.CancellationException e) {
            return e;
        }
    }

    /** Runs {@code action} and returns what it threw, or null. */
    static Throwable thrownBy(TestSupport.Action action) {
        try {
            action.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /** Polls {@code condition} (yielding) until it holds or {@code timeout} passes; returns it. */
    static boolean eventually(BooleanSupplier condition, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                return false;
            }
            Thread.yield();
        }
        return true;
    }

    /** The lines of {@code text}, split at any line terminator (\n, \r\n or a lone \r). */
    static List<String> lines(String text) {
        return List.of(text.split("\r\n|\r|\n", -1));
    }

    /** Every throwable in the tree of {@code root} (cause and suppressed, recursively), root first. */
    static List<Throwable> tree(Throwable root) {
        List<Throwable> out = new ArrayList<>();
        if (root == null) {
            return out;
        }
        List<Throwable> stack = new ArrayList<>(List.of(root));
        while (!stack.isEmpty()) {
            Throwable t = stack.remove(stack.size() - 1);
            if (out.stream().anyMatch(x -> x == t)) {
                continue;
            }
            out.add(t);
            if (t.getCause() != null) {
                stack.add(t.getCause());
            }
            stack.addAll(List.of(t.getSuppressed()));
        }
        return out;
    }

    /**
     * An {@code onCancel} resource whose {@code close()} signals {@link #closing}, records the
     * thread that runs it, then blocks (ignoring interrupts) until {@link #release()}: "a close that
     * takes a while". Its {@code toString()} is its name.
     */
    static final class BlockingResource implements AutoCloseable {
        final String name;
        final CountDownLatch closing = new CountDownLatch(1);
        final CountDownLatch closed = new CountDownLatch(1);
        private final CountDownLatch release = new CountDownLatch(1);
        final AtomicReference<Thread> closer = new AtomicReference<>();

        BlockingResource(String name) {
            this.name = name;
        }

        @Override
        public void close() {
            closer.set(Thread.currentThread());
            closing.countDown();
            boolean interrupted = false;
            for (;;) {
                try {
                    release.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;          // a slow close that does not give up
                }
            }
            closed.countDown();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        /** Lets a blocked (or future) close() return. */
        void release() {
            release.countDown();
        }

        boolean isBlockedInClose() {
            return closing.getCount() == 0 && closed.getCount() == 1;
        }

        @Override
        public String toString() {
            return name;
        }
    }
}

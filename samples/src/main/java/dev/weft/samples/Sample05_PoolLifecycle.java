package dev.weft.samples;

import static dev.weft.samples.Show.brief;
import static dev.weft.samples.Show.count;
import static dev.weft.samples.Show.say;
import static dev.weft.samples.Show.since;

import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Sample 5: the life of a pool, Python's {@code ThreadPool} in Weft terms.
 *
 * <ol>
 *   <li>{@code pool.close(); pool.join()} (drain): {@code join()}, then {@code close()};</li>
 *   <li>{@code pool.terminate()} (stop now): {@code cancel()}, then {@code close()}, measured on
 *       10,000 tasks;</li>
 *   <li>the context manager, left by an exception: try-with-resources cancels what runs;</li>
 *   <li>using the pool after close ("Pool not running"): {@code fork} fails with a clear message;</li>
 *   <li>a pool that is never closed: Weft's leak detector reports the scope once the garbage
 *       collector finds it, through {@code System.Logger} {@code "dev.weft"} (java.util.logging
 *       by default, on stderr), and cancels its subtasks. That report is a safety net, not a way to
 *       close: the fix is try-with-resources.</li>
 * </ol>
 * This answers two Super Fast Python tutorials: "How to Shutdown the ThreadPool in Python"
 * (https://superfastpython.com/threadpool-close-and-terminate/), and the one on a multiprocessing
 * pool that is never closed (https://superfastpython.com/multiprocessing-pool-stop-main-exiting/).
 *
 * <p>Run alone: {@code mvn -q -pl samples -am -Ptour -DskipTests package -Dsample=Sample05_PoolLifecycle}
 */
public final class Sample05_PoolLifecycle {

    private Sample05_PoolLifecycle() {
    }

    static int square(int n) throws InterruptedException {
        Thread.sleep(20 + 2L * n);                        // some work
        return n * n;
    }

    static Void sleepForAMinute() throws InterruptedException {
        Thread.sleep(Duration.ofMinutes(1));
        return null;
    }

    public static void main(String[] args) throws Exception {
        drain();
        terminate();
        contextManager();
        useAfterClose();
        neverClosed();
    }

    /** Python: {@code pool.close(); pool.join()}. */
    private static void drain() throws Exception {
        say("1. Drain (pool.close(); pool.join()): ten tasks, join() waits for all of them, then close().");
        long start = System.nanoTime();
        // tag::drain[]
        try (var pool = TaskScope.open(Joiner.<Integer>allSuccessfulOrThrow(), cfg -> cfg.withName("pool"))) {
            for (int i = 0; i < 10; i++) {
                int n = i;
                pool.fork(() -> square(n));
            }
            List<Integer> squares = pool.join();          // every result, in fork order
            say("   results %s, in %s", squares, since(start));
        }
        // end::drain[]
    }

    /** Python: {@code pool.terminate()}. */
    private static void terminate() throws Exception {
        int n = 10_000;
        say("2. Terminate (pool.terminate()): %s tasks that would sleep a minute; cancel(), then close().", count(n));
        long start = System.nanoTime();
        long forked;
        try (var pool = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("pool"))) {
            for (int i = 0; i < n; i++) {
                pool.fork(Sample05_PoolLifecycle::sleepForAMinute);
            }
            forked = System.nanoTime();
            pool.cancel();                                // stop now
        }                                                 // close(): waits until every thread has ended
        say("   forked %s tasks in %s; cancelled all %s and closed the pool in %s", count(n),
                Show.ms(forked - start), count(n), since(forked));
    }

    /** Python: {@code with ThreadPool() as pool:} left by an exception. */
    private static void contextManager() throws Exception {
        say("3. The context manager, left by an exception: 100 tasks running when the request turns out bad.");
        long start = System.nanoTime();
        try (var pool = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("request"))) {
            for (int i = 0; i < 100; i++) {
                pool.fork(Sample05_PoolLifecycle::sleepForAMinute);
            }
            validate("bad input");                        // throws before join()
            pool.join();
        } catch (IllegalArgumentException e) {
            say("   close() cancelled the 100 tasks; the caller got the exception after %s: %s", since(start), brief(e));
            for (Throwable s : e.getSuppressed()) {       // as in the JDK: forked, but join() was never reached
                say("   close() attached, as suppressed: %s", brief(s));
            }
        }
    }

    private static void validate(String input) {
        throw new IllegalArgumentException("cannot parse '" + input + "'");
    }

    /** Python: {@code ValueError: Pool not running}. */
    private static void useAfterClose() throws Exception {
        say("4. Using the pool after join() and after close():");
        TaskScope<Integer, List<Integer>, ExecutionException> closed;
        try (var pool = TaskScope.open(Joiner.<Integer>allSuccessfulOrThrow(), cfg -> cfg.withName("pool"))) {
            pool.fork(() -> square(3));
            pool.join();
            try {
                pool.fork(() -> square(4));
                throw new AssertionError("fork after join() should fail");
            } catch (IllegalStateException e) {
                say("   fork after join():  %s", brief(e));
            }
            closed = pool;
        }
        try {
            closed.fork(() -> square(5));
            throw new AssertionError("fork after close() should fail");
        } catch (IllegalStateException e) {
            say("   fork after close(): %s", brief(e));
        }
    }

    /** Python: a pool that is never closed, left to the garbage collector. */
    private static void neverClosed() throws Exception {
        say("5. A scope that is never closed (a bug, on purpose). Weft's report comes from System.Logger \"dev.weft\"");
        say("   (java.util.logging by default, on stderr). Here it is:");
        var reported = new CountDownLatch(1);
        // Weft's reports are ordinary log records: a handler can forward them anywhere. This one, added
        // after the console handler, tells the sample that the report has been printed.
        Handler watcher = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if ("dev.weft".equals(record.getLoggerName())) {
                    reported.countDown();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger root = Logger.getLogger("");
        root.addHandler(watcher);
        try {
            forgetToClose();
            long start = System.nanoTime();
            int collections = 0;
            while (!reported.await(20, TimeUnit.MILLISECONDS)) {
                if (System.nanoTime() - start > TimeUnit.SECONDS.toNanos(10)) {
                    throw new AssertionError("the leak was not reported within 10 s");
                }
                System.gc();                              // the leak is found when the scope is collected
                collections++;
            }
            System.err.flush();
            say("   ^ reported %s after forgetToClose() returned (%d System.gc() calls). The fix: try-with-resources.",
                    since(start), collections);
        } finally {
            root.removeHandler(watcher);
        }
    }

    // tag::leak[]
    static void forgetToClose() {
        var pool = TaskScope.open(Joiner.<Void>awaitAll(), cfg -> cfg.withName("forgotten"));
        pool.fork("poller", Sample05_PoolLifecycle::sleepForAMinute);
        // BUG, on purpose: no join(), no close(). The scope becomes garbage while its subtask runs.
    }
    // end::leak[]
}

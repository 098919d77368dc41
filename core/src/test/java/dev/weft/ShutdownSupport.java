package dev.weft;

import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.io.InputStreamReader;
import java.io.InputStream;
import java.io.IOException;
import java.io.File;
import java.io.BufferedReader;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Helpers for the bounded-shutdown tests (grace, critical sections, onCancel, leaks): a subtask body
 * that ignores interrupts, waiting for a thread to reach a frame, and capturing Weft's incident
 * reports. Never sleeps: it waits on latches, queues and thread states.
 */
final class ShutdownSupport {

    private ShutdownSupport() {
    }

    /**
     * A stubborn body: waits for {@code release}, swallowing every interrupt (and so ignoring
     * cancellation) in a loop. Counts down {@code started} first.
     */
    static void ignoreInterruptsUntil(CountDownLatch started, CountDownLatch release) {
        started.countDown();
        for (;;) {
            try {
                release.await();
                return;
            } catch (InterruptedException swallowed) {
                // deliberately ignored: this is the straggler under test
            }
        }
    }

    /**
     * A meeting point between a subtask and the test: the subtask arrives and waits; the test acts
     * (cancels, inspects), then lets it go on.
     */
    static final class Gate {
        final CountDownLatch arrived = new CountDownLatch(1);
        final CountDownLatch proceed = new CountDownLatch(1);

        /** Subtask side: signal arrival, then wait (interruptibly) for the test. */
        void arriveAndAwait() throws InterruptedException {
            arrived.countDown();
            proceed.await();
        }
    }

    /** A subtask body that meets the test at a gate. */
    @FunctionalInterface
    interface GatedBody {
        Object run(Gate gate) throws Exception;
    }

    /**
     * Forks {@code body} in a new scope, waits until it is blocked at its gate, cancels the scope
     * (adding {@code "cancelling"} to {@code trail} just before), lets the body go on, and joins,
     * which must throw the scope's {@link CancelledException}. Returns the subtask.
     */
    static TaskScope.Subtask<Object> cancelAtGate(EventTrail trail, GatedBody body) throws Exception {
        var gate = new Gate();
        TaskScope.Subtask<Object> child;
        try (var scope = TaskScope.open(TaskScope.Joiner.awaitAll())) {
            child = scope.fork(() -> body.run(gate));
            gate.arrived.await();
            TestSupport.awaitBlocked(TestSupport.threadOf(child), TestSupport.WAIT);
            trail.add("cancelling");
            scope.cancel();
            gate.proceed.countDown();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        return child;
    }

    /**
     * Waits until a frame of {@code thread}'s stack matches {@code frame} (polling the stack with
     * yields). Use it for threads that block while RUNNABLE (native socket or pipe reads), or to know
     * that a thread is inside a given method.
     */
    static void awaitFrame(Thread thread, Predicate<StackTraceElement> frame, Duration timeout)
            throws TimeoutException {
        long end = System.nanoTime() + timeout.toNanos();
        for (;;) {
            StackTraceElement[] stack = thread.getStackTrace();
            if (Arrays.stream(stack).anyMatch(frame)) {
                return;
            }
            if (!thread.isAlive() && thread.getState() == Thread.State.TERMINATED) {
                throw new IllegalStateException("thread " + thread + " terminated before reaching the frame");
            }
            if (System.nanoTime() > end) {
                throw new TimeoutException("thread " + thread + " did not reach the frame within " + timeout
                        + "; stack: " + Arrays.toString(stack));
            }
            Thread.yield();
        }
    }

    /** Matches a frame by class name and method name. */
    static Predicate<StackTraceElement> frame(String className, String method) {
        return e -> e.getClassName().equals(className) && e.getMethodName().equals(method);
    }

    /**
     * Captures Weft's incident reports while open, as the application would see them: through a
     * {@code java.util.logging} handler on logger {@code "dev.weft"} (where {@code System.Logger}
     * sends them by default). Each record is matched to its {@link Reports.Incident}, which
     * {@link Reports} keeps before it logs, to know its kind. Detaches the handler on close.
     */
    static final class Incidents extends java.util.logging.Handler implements AutoCloseable {

        /** Held strongly: java.util.logging keeps loggers only weakly. */
        private final java.util.logging.Logger logger = java.util.logging.Logger.getLogger("dev.weft");
        private final BlockingQueue<Reports.Incident> queue = new LinkedBlockingQueue<>();
        private final List<Reports.Incident> seen = new ArrayList<>();
        private final Consumer<Reports.Incident> each;

        Incidents() {
            this(i -> { });
        }

        /** Also passes each incident to {@code each}, on the reporting thread. */
        Incidents(Consumer<Reports.Incident> each) {
            this.each = each;
            logger.addHandler(this);
        }

        @Override
        public void publish(java.util.logging.LogRecord r) {
            Reports.Incident found = null;
            List<Reports.Incident> recent = Reports.recent();
            for (int i = recent.size() - 1; i >= 0; i--) {
                Reports.Incident c = recent.get(i);
                if (c.error() == r.getThrown() && c.message().equals(r.getMessage())) {
                    found = c;
                    break;
                }
            }
            if (found == null) {
                found = new Reports.Incident(r.getInstant(), "unknown", r.getMessage(), r.getThrown());
            }
            queue.add(found);
            each.accept(found);
        }

        @Override
        public void flush() {
        }

        /**
         * Waits for an incident matching {@code match}, running {@code betweenPolls} (for example a
         * GC) before each wait of {@code poll}. Returns it, or throws after {@code timeout}.
         */
        Reports.Incident await(Predicate<Reports.Incident> match, Duration timeout, Duration poll, Runnable betweenPolls)
                throws InterruptedException, TimeoutException {
            for (Reports.Incident i : seen) {
                if (match.test(i)) {
                    return i;
                }
            }
            long end = System.nanoTime() + timeout.toNanos();
            for (;;) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException("no matching incident within " + timeout + "; seen: " + seen);
                }
                betweenPolls.run();
                Reports.Incident i = queue.poll(Math.min(left, poll.toNanos()), TimeUnit.NANOSECONDS);
                if (i != null) {
                    seen.add(i);
                    if (match.test(i)) {
                        return i;
                    }
                }
            }
        }

        /** Waits for an incident matching {@code match}. */
        Reports.Incident await(Predicate<Reports.Incident> match, Duration timeout)
                throws InterruptedException, TimeoutException {
            return await(match, timeout, timeout, () -> { });
        }

        /** Every incident received so far (waited for or not), in order. */
        List<Reports.Incident> all() {
            queue.drainTo(seen);
            return List.copyOf(seen);
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }

    /** The class path entries (jars or directories) that hold {@code classes}, for a child JVM. */
    static String classpathOf(Class<?>... classes) throws Exception {
        List<String> entries = new ArrayList<>();
        for (Class<?> c : classes) {
            String e = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
            if (!entries.contains(e)) {
                entries.add(e);
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    /** Collects a stream's lines on a daemon thread; lets the test wait for a line (on a monitor, never sleeping). */
    static final class ChildOutput {
        private final List<String> lines = new ArrayList<>();
        private final CountDownLatch ended = new CountDownLatch(1);

        ChildOutput(InputStream in, String name) {
            Thread t = new Thread(() -> {
                try (var r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        synchronized (lines) {
                            lines.add(line);
                            lines.notifyAll();
                        }
                    }
                } catch (IOException e) {
                    synchronized (lines) {
                        lines.add("(reading failed: " + e + ")");
                    }
                } finally {
                    ended.countDown();
                    synchronized (lines) {
                        lines.notifyAll();
                    }
                }
            }, name);
            t.setDaemon(true);
            t.start();
        }

        boolean await(Predicate<String> match, Duration timeout) throws InterruptedException {
            long end = System.nanoTime() + timeout.toNanos();
            synchronized (lines) {
                for (;;) {
                    if (lines.stream().anyMatch(match)) {
                        return true;
                    }
                    long left = end - System.nanoTime();
                    if (left <= 0 || ended.getCount() == 0) {
                        return false;
                    }
                    TimeUnit.NANOSECONDS.timedWait(lines, left);
                }
            }
        }

        List<String> snapshot() {
            synchronized (lines) {
                return List.copyOf(lines);
            }
        }

        List<String> all(Duration timeout) throws InterruptedException {
            ended.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return snapshot();
        }
    }
}

package dev.weft;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Captures the records Weft logs through {@code System.Logger "dev.weft"} (java.util.logging by
 * default) while open: a {@link Handler} on the JUL logger {@code "dev.weft"}, at level ALL, instead of
 * the console (the records are checked, not printed). Only the
 * public logging contract is used, no hook inside Weft. Also counts how often an exception instance
 * occurs in an exception tree (cause and suppressed, recursively), for the "seen exactly once"
 * checks of the failure ledger.
 */
final class WeftLog implements AutoCloseable {

    private final Logger logger = Logger.getLogger("dev.weft");     // held strongly while open
    private final Level previousLevel;
    private final boolean previousUseParentHandlers;
    private final BlockingQueue<LogRecord> queue = new LinkedBlockingQueue<>();
    private final List<LogRecord> seen = new ArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            queue.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    WeftLog() {
        previousLevel = logger.getLevel();
        previousUseParentHandlers = logger.getUseParentHandlers();
        logger.setUseParentHandlers(false);          // captured here, not printed: expected failures are many
        handler.setLevel(Level.ALL);
        logger.setLevel(Level.ALL);
        logger.addHandler(handler);
    }

    /** Every record received so far, in order. */
    synchronized List<LogRecord> records() {
        queue.drainTo(seen);
        return List.copyOf(seen);
    }

    /** Forgets the records received so far. */
    synchronized void clear() {
        queue.clear();
        seen.clear();
    }

    /** How many records carry {@code failure} in their thrown exception's tree. */
    int recordsWith(Throwable failure) {
        int n = 0;
        for (LogRecord r : records()) {
            if (r.getThrown() != null && occurrences(r.getThrown(), failure) > 0) {
                n++;
            }
        }
        return n;
    }

    /**
     * Waits until a record matches, running {@code betweenPolls} (for example a GC) before each
     * poll of at most {@code poll}; returns it, or throws after {@code timeout}.
     */
    LogRecord await(Predicate<LogRecord> match, Duration timeout, Duration poll, Runnable betweenPolls)
            throws InterruptedException, TimeoutException {
        long end = System.nanoTime() + timeout.toNanos();
        for (;;) {
            for (LogRecord r : records()) {
                if (match.test(r)) {
                    return r;
                }
            }
            long left = end - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException("no matching dev.weft log record within " + timeout + "; seen: "
                        + describe(records()));
            }
            betweenPolls.run();
            LogRecord r = queue.poll(Math.min(left, poll.toNanos()), TimeUnit.NANOSECONDS);
            if (r != null) {
                synchronized (this) {
                    seen.add(r);
                }
            }
        }
    }

    static String describe(List<LogRecord> records) {
        List<String> out = new ArrayList<>();
        for (LogRecord r : records) {
            out.add(r.getLevel() + " " + r.getMessage() + (r.getThrown() == null ? "" : " [" + r.getThrown() + "]"));
        }
        return out.toString();
    }

    /**
     * How many times {@code target} (by identity) occurs in the tree of {@code root}: root itself,
     * its cause and its suppressed exceptions, recursively. Each node is expanded once.
     */
    static int occurrences(Throwable root, Throwable target) {
        if (root == null) {
            return 0;
        }
        Set<Throwable> expanded = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Throwable> stack = new ArrayList<>();
        stack.add(root);
        int n = 0;
        while (!stack.isEmpty()) {
            Throwable t = stack.remove(stack.size() - 1);
            if (t == target) {
                n++;
            }
            if (!expanded.add(t)) {
                continue;
            }
            if (t.getCause() != null && t.getCause() != t) {
                stack.add(t.getCause());
            }
            Collections.addAll(stack, t.getSuppressed());
        }
        return n;
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
        logger.setLevel(previousLevel);
        logger.setUseParentHandlers(previousUseParentHandlers);
    }
}

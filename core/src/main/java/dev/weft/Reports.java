package dev.weft;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Where Weft reports what it cannot throw to anyone: a leaked scope, a straggler that failed after
 * its scope closed, an {@code onCancel} resource whose close failed in a task that succeeded, an
 * internal error. Each report goes to {@code System.Logger} {@code "dev.weft"} (WARNING, or ERROR
 * for internal errors) and is kept among the most recent incidents, which {@link Scopes#dump()}
 * lists.
 */
final class Reports {

    private Reports() {
    }

    /** The logger; by default java.util.logging's console handler, on stderr. */
    static final System.Logger LOG = System.getLogger("dev.weft");

    /** How many recent incidents are kept. */
    static final int RECENT_LIMIT = 100;

    /**
     * A reported incident.
     *
     * @param at when it was reported
     * @param kind {@code leak}, {@code failure}, {@code shutdown} or {@code internal}
     * @param message a readable description
     * @param error the failure involved, or null
     */
    record Incident(Instant at, String kind, String message, Throwable error) {
    }

    private static final Deque<Incident> RECENT = new ConcurrentLinkedDeque<>();

    /** {@code running}: the subtasks that were running when the leak was found (now cancelled). */
    static void leak(Flock f, int running) {
        String msg = "scope '" + Names.escape(f.name) + "' (owner thread '" + Names.thread(f.owner) + "', opened "
                + GracePeriodExceededException.Straggler.seconds(Duration.ofNanos(System.nanoTime() - f.openedNanos))
                + " ago) became unreachable without being closed; Weft cancelled its " + running
                + (running == 1 ? " running subtask" : " running subtasks") + ". Open scopes with try-with-resources."
                + (f.openSite == null ? " Run with -Ddev.weft.leakDetection=trace to see where it was opened." : "");
        report(System.Logger.Level.WARNING, "leak", msg, f.openSite);
    }

    /** A failure of user code that has no exception to be attached to: one record, whose thrown exception is {@code error}. */
    static void failure(String message, Throwable error) {
        report(System.Logger.Level.WARNING, "failure", message, error);
    }

    static void internalError(String what, Throwable e) {
        report(System.Logger.Level.ERROR, "internal", "internal error in Weft: " + what + ": " + e, e);
    }

    static void report(System.Logger.Level level, String kind, String message, Throwable error) {
        Incident incident = new Incident(Instant.now(), kind, message, error);
        RECENT.addLast(incident);
        while (RECENT.size() > RECENT_LIMIT) {
            RECENT.pollFirst();
        }
        try {
            if (error != null) {
                LOG.log(level, message, error);
            } else {
                LOG.log(level, message);
            }
        } catch (RuntimeException ignored) {
            // logging must never break cancellation or completion
        }
    }

    static List<Incident> recent() {
        return new ArrayList<>(RECENT);
    }
}

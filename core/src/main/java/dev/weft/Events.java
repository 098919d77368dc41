package dev.weft;

import java.util.List;
import java.util.Locale;

/**
 * Observability hooks: where the scope lifecycle reports to JDK Flight Recorder (see
 * {@link JfrEvents} for the events). Each method is called off the fast paths (never per fork, per
 * join or per {@code Cancellation} check; at most once per cancelled scope, per close with
 * stragglers, per leaked scope, and per critical section that held a cancellation back), is cheap
 * when nothing is recording (the event's {@code shouldCommit()} is checked before any string is
 * built), and never throws.
 *
 * <h2>Without {@code jdk.jfr}</h2>
 * The module only {@code requires static jdk.jfr}, so Weft runs on a runtime image without it (a
 * {@code jlink} image of {@code java.base}), and in a modular application that does not resolve it.
 * Whether the module is present and readable is decided once, here; when it is not, no class
 * that refers to {@code jdk.jfr} is ever loaded and every hook returns at once. (When JFR can
 * record at all, {@code jdk.jfr} is resolved: {@code -XX:StartFlightRecording} and
 * {@code jcmd JFR.start} need it.)
 *
 * <h2>Critical-section threshold</h2>
 * {@code dev.weft.CriticalSection} is committed only when a section held a cancellation back for at
 * least the threshold: system property {@code dev.weft.jfr.criticalSectionThreshold}, a duration
 * such as {@code 10ms}, {@code 250 us}, {@code 1s} or {@code 0} (every held cancellation); default
 * {@value #DEFAULT_CRITICAL_SECTION_THRESHOLD}. The held time is not the event's JFR duration, so
 * JFR's own {@code threshold} setting does not apply to it.
 */
final class Events {

    private Events() {
    }

    /** The system property that sets the critical-section threshold. */
    static final String CRITICAL_SECTION_THRESHOLD_PROPERTY = "dev.weft.jfr.criticalSectionThreshold";
    static final String DEFAULT_CRITICAL_SECTION_THRESHOLD = "10 ms";

    /** Read once, at class initialisation. */
    static final long CRITICAL_SECTION_THRESHOLD_NANOS = thresholdNanos(System.getProperty(CRITICAL_SECTION_THRESHOLD_PROPERTY));

    /** Whether JFR events can be emitted; cleared if emitting one fails to link. */
    private static volatile boolean jfr = jfrUsable();

    /**
     * A cancelled scope has no running subtask any more: the cancellation latency observed in
     * production. Called once per cancelled scope.
     *
     * @param flock the scope
     * @param tasks the number of subtasks that were running when it was cancelled
     * @param nanos time from the cancellation until the last subtask ended
     */
    static void scopeCancelled(Flock flock, int tasks, long nanos) {
        if (jfr) {
            try {
                JfrEvents.scopeCancelled(flock, tasks, nanos);
            } catch (RuntimeException | LinkageError e) {
                failed(e);
            }
        }
    }

    /** {@code close()} found stragglers after the grace period. */
    static void gracePeriodExceeded(Flock flock, List<GracePeriodExceededException.Straggler> stragglers) {
        if (jfr) {
            try {
                JfrEvents.gracePeriodExceeded(flock, stragglers);
            } catch (RuntimeException | LinkageError e) {
                failed(e);
            }
        }
    }

    /**
     * A critical section held back a cancellation of its scope and has just delivered it.
     *
     * @param task the subtask
     * @param section the section's name, or null
     * @param heldNanos how long the cancellation was held back
     */
    static void criticalSectionHeld(Task task, String section, long heldNanos) {
        if (jfr && heldNanos >= CRITICAL_SECTION_THRESHOLD_NANOS) {
            try {
                JfrEvents.criticalSection(task, section, heldNanos);
            } catch (RuntimeException | LinkageError e) {
                failed(e);
            }
        }
    }

    /** A scope became unreachable while open, with {@code tasks} subtasks running (now cancelled). */
    static void scopeLeaked(Flock flock, int tasks) {
        if (jfr) {
            try {
                JfrEvents.scopeLeaked(flock, tasks);
            } catch (RuntimeException | LinkageError e) {
                failed(e);
            }
        }
    }

    private static boolean jfrUsable() {
        try {
            Module jfrModule = ModuleLayer.boot().findModule("jdk.jfr").orElse(null);
            return jfrModule != null && Events.class.getModule().canRead(jfrModule);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static void failed(Throwable e) {
        jfr = false;
        Reports.report(System.Logger.Level.WARNING, "internal",
                "Weft could not emit a JFR event and stops emitting them: " + e, e);
    }

    /**
     * Parses a duration like {@code 10ms}, {@code 10 ms}, {@code 250us}, {@code 2s}, {@code 500ns}
     * or {@code 0}; null or blank gives the default. An unparsable value gives the default too,
     * with a warning.
     */
    static long thresholdNanos(String value) {
        if (value == null || value.isBlank()) {
            return thresholdNanos(DEFAULT_CRITICAL_SECTION_THRESHOLD);
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        int i = 0;
        while (i < v.length() && Character.isDigit(v.charAt(i))) {
            i++;
        }
        String unit = v.substring(i).trim();
        try {
            if (i == 0) {
                throw new NumberFormatException("no number");
            }
            long n = Long.parseLong(v.substring(0, i));
            long scale = switch (unit) {
                case "ns" -> 1L;
                case "us" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "" -> {
                    if (n != 0) {
                        throw new NumberFormatException("a unit is needed");
                    }
                    yield 1L;
                }
                default -> throw new NumberFormatException("unknown unit '" + unit + "'");
            };
            return Math.multiplyExact(n, scale);
        } catch (NumberFormatException | ArithmeticException e) {
            Reports.report(System.Logger.Level.WARNING, "internal", "ignoring -D" + CRITICAL_SECTION_THRESHOLD_PROPERTY
                    + "=" + value + " (" + e.getMessage() + "); expected a duration such as 10ms, 250us, 1s or 0; using "
                    + DEFAULT_CRITICAL_SECTION_THRESHOLD, null);
            return thresholdNanos(DEFAULT_CRITICAL_SECTION_THRESHOLD);
        }
    }
}

package dev.weft;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * Weft's JDK Flight Recorder events, in category {@code Weft}. Only {@link Events} refers to this
 * class, and only once it found {@code jdk.jfr} usable. The events are enabled by default in any
 * recording; see them with {@code jfr print --events 'dev.weft.*' recording.jfr}.
 *
 * <p>Cost when not recording. Every emitter first reads {@link FlightRecorder#isInitialized()} (a
 * volatile read): until JFR has started in this JVM, no event class is loaded at all. That matters:
 * loading the first event class makes JFR build its metadata, about 100 classes and a few hundred
 * milliseconds on a small machine, which would otherwise land on whichever subtask thread reported
 * the first cancellation. Once JFR has started, an emitter creates the event and checks
 * {@link Event#shouldCommit()} before building any string, so a disabled event costs an allocation
 * that escape analysis usually removes.
 */
final class JfrEvents {

    private JfrEvents() {
    }

    /** Most straggler lines in {@link GracePeriodExceeded#details}; the count is exact. */
    static final int MAX_STRAGGLER_LINES = GracePeriodExceededException.MAX_MESSAGE_LINES;

    @Name("dev.weft.ScopeCancelled")
    @Label("Scope Cancelled")
    @Category("Weft")
    @Description("A cancelled scope has no running subtask any more; 'Latency' is the time from the cancellation"
            + " until its last subtask ended: the cancellation latency, observed in production")
    @StackTrace(false)
    static final class ScopeCancelled extends Event {
        @Label("Scope")
        String scope;

        @Label("Scope Id")
        long scopeId;

        @Label("Reason")
        @Description("joiner, deadline, explicit, upstream, global, close or leak")
        String reason;

        @Label("Cause")
        @Description("Why the scope was cancelled, including the cause given to cancel(Throwable)")
        String cause;

        @Label("Tasks")
        @Description("Subtasks running when the scope was cancelled")
        int tasks;

        @Label("Latency")
        @Description("Time from the cancellation until the last subtask ended")
        @Timespan(Timespan.NANOSECONDS)
        long latency;
    }

    @Name("dev.weft.GracePeriodExceeded")
    @Label("Grace Period Exceeded")
    @Category("Weft")
    @Description("TaskScope.close() gave up after the grace period with subtasks still running; they keep running"
            + " and are listed by Scopes.dump() until they end. The stack trace is the closing thread's")
    static final class GracePeriodExceeded extends Event {
        @Label("Scope")
        String scope;

        @Label("Scope Id")
        long scopeId;

        @Label("Grace Period")
        @Timespan(Timespan.NANOSECONDS)
        long grace;

        @Label("Stragglers")
        @Description("Subtasks still running when the grace period ended")
        int stragglers;

        @Label("Details")
        @Description("One line per straggler: task, age, the frame it is stuck in, critical section, thread")
        String details;
    }

    @Name("dev.weft.CriticalSection")
    @Label("Critical Section Held Cancellation")
    @Category("Weft")
    @Description("A critical section held a cancellation back for at least the threshold"
            + " (-Ddev.weft.jfr.criticalSectionThreshold, default 10 ms) and delivered it on exit."
            + " The stack trace is where the section ended")
    static final class CriticalSection extends Event {
        @Label("Scope")
        String scope;

        @Label("Task")
        @Description("The subtask's name, or #n for the n-th unnamed subtask")
        String task;

        @Label("Task Index")
        int taskIndex;

        @Label("Section")
        @Description("The section's name, or null if unnamed")
        String section;

        @Label("Held")
        @Description("Time from the cancellation of the scope until the section ended and delivered it")
        @Timespan(Timespan.NANOSECONDS)
        long held;
    }

    @Name("dev.weft.ScopeLeaked")
    @Label("Scope Leaked")
    @Category("Weft")
    @Description("A scope became unreachable while open, without close(); Weft cancelled its subtasks")
    @StackTrace(false)
    static final class ScopeLeaked extends Event {
        @Label("Scope")
        String scope;

        @Label("Scope Id")
        long scopeId;

        @Label("Owner")
        @Description("The name of the thread that opened the scope")
        String owner;

        @Label("Age")
        @Timespan(Timespan.NANOSECONDS)
        long age;

        @Label("Tasks")
        @Description("Subtasks running when the leak was found; Weft cancels them")
        int tasks;

        @Label("Opened At")
        @Description("Where the scope was opened; only with -Ddev.weft.leakDetection=trace")
        String openedAt;
    }

    static void scopeCancelled(Flock f, int tasks, long nanos) {
        if (!FlightRecorder.isInitialized()) {
            return;
        }
        ScopeCancelled e = new ScopeCancelled();
        if (!e.shouldCommit()) {
            return;
        }
        e.scope = f.name;
        e.scopeId = f.id;
        Reason r = f.reason;
        if (r != null) {
            e.reason = r.kind().name().toLowerCase(Locale.ROOT);
            e.cause = "scope '" + f.name + "' " + r.text();
        }
        e.tasks = tasks;
        e.latency = nanos;
        e.commit();
    }

    static void gracePeriodExceeded(Flock f, List<GracePeriodExceededException.Straggler> stragglers) {
        if (!FlightRecorder.isInitialized()) {
            return;
        }
        GracePeriodExceeded e = new GracePeriodExceeded();
        if (!e.shouldCommit()) {
            return;
        }
        e.scope = f.name;
        e.scopeId = f.id;
        e.grace = nanos(f.grace);
        e.stragglers = stragglers.size();
        StringBuilder sb = new StringBuilder(96 * Math.min(stragglers.size(), MAX_STRAGGLER_LINES));
        int n = 0;
        for (GracePeriodExceededException.Straggler s : stragglers) {
            if (n > 0) {
                sb.append('\n');
            }
            if (n++ == MAX_STRAGGLER_LINES) {
                sb.append("... and ").append(stragglers.size() - MAX_STRAGGLER_LINES).append(" more");
                break;
            }
            sb.append(s.describe());
        }
        e.details = sb.toString();
        e.commit();
    }

    static void criticalSection(Task t, String section, long heldNanos) {
        if (!FlightRecorder.isInitialized()) {
            return;
        }
        CriticalSection e = new CriticalSection();
        if (!e.shouldCommit()) {
            return;
        }
        e.scope = t.flock.name;
        e.task = t.name();
        e.taskIndex = t.index;
        e.section = section;
        e.held = heldNanos;
        e.commit();
    }

    static void scopeLeaked(Flock f, int tasks) {
        if (!FlightRecorder.isInitialized()) {
            return;
        }
        ScopeLeaked e = new ScopeLeaked();
        if (!e.shouldCommit()) {
            return;
        }
        e.scope = f.name;
        e.scopeId = f.id;
        e.owner = f.owner.getName();
        e.age = System.nanoTime() - f.openedNanos;
        e.tasks = tasks;
        Throwable site = f.openSite;
        if (site != null) {
            StringBuilder sb = new StringBuilder(512);
            for (StackTraceElement frame : site.getStackTrace()) {
                sb.append("at ").append(frame).append('\n');
            }
            e.openedAt = sb.toString();
        }
        e.commit();
    }

    private static long nanos(Duration d) {
        if (d == null) {
            return Long.MAX_VALUE;
        }
        try {
            return d.toNanos();
        } catch (ArithmeticException ex) {
            return Long.MAX_VALUE;
        }
    }
}

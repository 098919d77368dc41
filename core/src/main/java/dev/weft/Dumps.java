package dev.weft;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** Renders the live scope tree for {@link Scopes#dump()}. */
final class Dumps {

    private Dumps() {
    }

    static String text(int maxFrames) {
        List<Flock> roots = Registry.roots();
        List<Flock> lingering = Registry.lingering();
        StringBuilder sb = new StringBuilder(256);
        sb.append("Weft scopes at ").append(Instant.now()).append(": ")
                .append(roots.size()).append(roots.size() == 1 ? " open root scope, " : " open root scopes, ")
                .append(lingering.size()).append(" lingering\n");
        long now = System.nanoTime();
        for (Flock f : roots) {
            scope(sb, f, 0, maxFrames, now);
        }
        if (!lingering.isEmpty()) {
            sb.append("lingering (closed or leaked, subtasks still running):\n");
            for (Flock f : lingering) {
                scope(sb, f, 1, maxFrames, now);
            }
        }
        List<Reports.Incident> incidents = Reports.recent();
        if (!incidents.isEmpty()) {
            sb.append("recent incidents:\n");
            for (Reports.Incident i : incidents) {
                sb.append("  ").append(i.at()).append(' ').append(i.kind()).append(": ").append(i.message()).append('\n');
            }
        }
        return sb.toString();
    }

    private static void scope(StringBuilder sb, Flock f, int depth, int maxFrames, long now) {
        indent(sb, depth).append("scope '").append(f.name).append("' ").append(phase(f));
        Flock.Reason r = f.reason;
        if (r != null) {
            sb.append(", cancelled (").append(r.kind().name().toLowerCase(java.util.Locale.ROOT)).append(")");
        }
        if (f.abandoned) {
            sb.append(", LEAKED");
        }
        sb.append(", owner '").append(f.owner.getName()).append("', age ").append(age(now - f.openedNanos));
        if (f.effectiveDeadline != null) {
            Duration left = Duration.between(Instant.now(), f.effectiveDeadline);
            sb.append(", deadline ").append(f.effectiveDeadline)
                    .append(left.isNegative() ? " (passed)" : " (" + age(left.toNanos()) + " left)");
        }
        sb.append(", grace ").append(f.grace == null ? "unbounded" : GracePeriodExceededException.Straggler.seconds(f.grace));
        sb.append(", ").append(f.liveCount()).append(" running");
        if (f.stragglers != null) {
            sb.append(", ").append(f.stragglers.size()).append(" stragglers at close");
        }
        sb.append('\n');
        for (Task t : f.runningTasks()) {
            task(sb, t, depth + 1, maxFrames, now);
        }
        Flock in = f.inner;
        if (in != null) {
            scope(sb, in, depth + 1, maxFrames, now);
        }
    }

    private static void task(StringBuilder sb, Task t, int depth, int maxFrames, long now) {
        indent(sb, depth).append("task #").append(t.index);
        if (t.name != null) {
            sb.append(" '").append(t.name).append('\'');
        }
        sb.append(' ').append(t.state()).append(", age ").append(age(now - t.forkNanos));
        if (t.isCancelRequested()) {
            sb.append(", cancel requested");
        }
        if (t.criticalDepth() > 0) {
            String s = t.sectionName();
            sb.append(", in critical section").append(s == null ? "" : " '" + s + "'");
        }
        Thread th = t.thread;
        if (th != null) {
            sb.append(", thread '").append(th.getName()).append("' ").append(th.getState());
        }
        sb.append('\n');
        if (th != null && maxFrames > 0) {
            StackTraceElement[] stack = th.getStackTrace();
            for (int i = 0; i < stack.length && i < maxFrames; i++) {
                indent(sb, depth + 2).append("at ").append(stack[i]).append('\n');
            }
            if (stack.length > maxFrames) {
                indent(sb, depth + 2).append("... ").append(stack.length - maxFrames).append(" more\n");
            }
        }
        Flock nested = t.outermost;
        if (nested != null) {
            scope(sb, nested, depth + 1, maxFrames, now);
        }
    }

    private static String phase(Flock f) {
        return switch (f.phase) {
            case Flock.OPEN -> "open";
            case Flock.JOINED -> "joined";
            default -> "closed";
        };
    }

    private static String age(long nanos) {
        return GracePeriodExceededException.Straggler.seconds(Duration.ofNanos(Math.max(0, nanos)));
    }

    private static StringBuilder indent(StringBuilder sb, int depth) {
        for (int i = 0; i < depth; i++) {
            sb.append("  ");
        }
        return sb;
    }
}

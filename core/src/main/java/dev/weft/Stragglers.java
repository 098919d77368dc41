package dev.weft;

import java.util.ArrayList;
import java.util.List;

/**
 * The straggler report of a scope: everything of it still running when a grace period ended. One
 * entry per subtask whose thread has not finished (still in its body, or in the joiner's
 * {@code onComplete}), and one per {@code onCancel} close still running on a closer thread.
 */
final class Stragglers {

    private Stragglers() {
    }

    /** Most entries whose stack traces a report collects; the rest have empty traces. */
    static final int MAX_STACKS = 256;

    /** Describes what of {@code f} is still running. Any thread. */
    static List<GracePeriodExceededException.Straggler> of(Flock f) {
        List<GracePeriodExceededException.Straggler> list = new ArrayList<>();
        long now = System.nanoTime();
        for (Task t : f.runningTasks()) {
            Thread th = t.thread;
            if (th == null) {
                continue;
            }
            List<StackTraceElement> stack = list.size() < MAX_STACKS ? List.of(th.getStackTrace()) : List.of();
            String activity = t.isDone() ? "joiner onComplete" : "task";
            int depth = t.criticalDepth();
            list.add(new GracePeriodExceededException.Straggler(f.name, t.index, t.name(), th, th.getState(),
                    java.time.Duration.ofNanos(now - t.forkNanos), t.sinceCancel(now), depth > 0,
                    depth > 0 ? t.sectionName() : null, activity, stack));
        }
        for (CloseJob job : f.closeJobs()) {
            GracePeriodExceededException.Straggler s = job.straggler(now, list.size() < MAX_STACKS);
            if (s != null) {
                list.add(s);
            }
        }
        return list;
    }
}

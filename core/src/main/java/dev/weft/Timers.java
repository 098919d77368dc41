package dev.weft;

import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Deadline timers: one daemon platform thread for all scopes, started on first use. A timer's
 * action runs on that thread directly: a deadline's cancellation only marks, interrupts and hands
 * off (see {@link Canceller}), so it is short, runs no user code, and fires even when every carrier
 * thread of the virtual-thread scheduler is busy with CPU-bound subtasks.
 */
final class Timers {

    private Timers() {
    }

    private static final class Holder {
        static final ScheduledThreadPoolExecutor EXECUTOR;

        static {
            EXECUTOR = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "weft-deadline-timer");
                t.setDaemon(true);
                return t;
            });
            EXECUTOR.setRemoveOnCancelPolicy(true);
            EXECUTOR.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        }
    }

    /** Runs {@code action} on the timer thread after {@code nanos}. Cancel the returned future to drop it. */
    static Future<?> schedule(Runnable action, long nanos) {
        return Holder.EXECUTOR.schedule(() -> {
            try {
                action.run();
            } catch (Throwable e) {
                Reports.internalError("a Weft timer action failed", e);
            }
        }, nanos, TimeUnit.NANOSECONDS);
    }
}

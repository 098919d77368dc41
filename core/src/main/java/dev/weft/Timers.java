package dev.weft;

import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Deadline timers: one daemon platform thread for all scopes, started on first use. When a timer
 * fires, the cancellation runs on a new virtual thread, so that cancelling a large scope does not
 * delay the other scopes' deadlines.
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

    /** Runs {@code action} on a new virtual thread after {@code nanos}. Cancel the returned future to drop it. */
    static Future<?> schedule(Runnable action, long nanos) {
        return Holder.EXECUTOR.schedule(() -> {
            Thread.ofVirtual().name("weft-deadline").start(action);
        }, nanos, TimeUnit.NANOSECONDS);
    }
}

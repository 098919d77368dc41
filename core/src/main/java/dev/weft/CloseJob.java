package dev.weft;

import java.time.Duration;
import java.util.List;

/**
 * The {@code onCancel} resources of one cancelled subtask, to close on a {@link Closers} thread.
 * The job belongs to the subtask's scope: it counts as live there from hand-off until it ends, so
 * that {@code close()} waits for it within the grace period, and a job still running when the grace
 * period ends is a named straggler.
 *
 * <p>Fields: {@link #task} and {@link #flock} are final. {@link #thread}, {@link #startNanos} and
 * {@link #current} are written by the closer thread and read by straggler reports.
 */
final class CloseJob implements Runnable {

    /** The cancelled subtask whose resources are closed. */
    final Task task;

    /** Its scope. */
    final Flock flock;

    /** The closer thread, once the job runs. */
    volatile Thread thread;

    /** {@link System#nanoTime()} when the current close began. */
    volatile long startNanos;

    /** The registration being closed, or null between closes. */
    volatile CancelRegistration current;

    CloseJob(Task task) {
        this.task = task;
        this.flock = task.flock;
    }

    /** Hands the job over; it counts as live in its scope from now on. Any thread; runs no user code. */
    void submit() {
        flock.closeJobStarted(this);
        Closers.submit(this);
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        try {
            for (CancelRegistration r : task.registrationsSnapshot()) {
                startNanos = System.nanoTime();
                current = r;
                if (!task.closeGuarded(r)) {
                    break;          // inside a critical section: its exit hands the rest off again
                }
            }
        } catch (Throwable e) {
            Reports.internalError("closing the onCancel resources of subtask " + task.label() + " failed", e);
        } finally {
            current = null;
            flock.closeJobDone(this);
        }
    }

    /** A straggler entry for this job, or null if it is between closes. */
    GracePeriodExceededException.Straggler straggler(long now, boolean withStack) {
        Thread th = thread;
        if (th == null) {           // still queued: every closer thread is blocked, another starts shortly
            return new GracePeriodExceededException.Straggler(flock.name, task.index, task.name(), task.thread,
                    task.thread.getState(), task.sinceCancel(now), task.sinceCancel(now), false, null,
                    "onCancel close (queued: every closer thread is blocked in another close)", List.of());
        }
        CancelRegistration r = current;
        if (r == null) {
            return null;
        }
        List<StackTraceElement> stack = withStack ? List.of(th.getStackTrace()) : List.of();
        Duration stuck = Duration.ofNanos(now - startNanos);
        return new GracePeriodExceededException.Straggler(flock.name, task.index, task.name(), th, th.getState(),
                stuck, task.sinceCancel(now), false, null,
                "onCancel close of " + Names.escape(String.valueOf(r.resource())), stack);
    }
}

package dev.weft;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the jcstress tests share: a subtask built for one race, and the hand-shake of its two actors.
 *
 * <h2>Why driving {@link Task} directly is faithful</h2>
 *
 * jcstress runs actors on its own threads, and a Weft subtask's thread is normally one that its
 * scope created and started. The race tests on critical sections, completion and onCancel therefore
 * build a {@link Task} in a {@link Flock} for each jcstress state and let the first actor's thread
 * <em>be</em> the subtask's thread: it writes {@link Task#thread} (as {@code Flock.fork} does before
 * {@code Thread.start()}) and publishes it to the other actor through {@link Rendezvous}, before the
 * race. Then every racing step is the code the public API runs, on the thread it runs on:
 * {@code Cancellation.critical()} is {@code Context.current().enterCritical(name)}, which on a
 * subtask thread is {@link Task#enterCritical}; {@code Section.close()} is {@link Task#exitCritical};
 * {@code Subtask.cancel()} and the scope's cancellation of each subtask are {@link Task#cancel};
 * {@code Cancellation.isRequested()} is {@link Task#cancellationRequested}; {@code onCancel} is
 * {@link Task#registerOnCancel}; a subtask thread runs {@link Task.Body#run}. Only the thread-local lookup
 * of the current task is skipped (it touches no shared state). The race of cancellation with
 * {@code fork} needs no such help: it uses the public API, the owner actor opening the scope.
 */
final class RaceSupport {

    private RaceSupport() {
    }

    /** A subtask, not started, in a scope of its own (not registered anywhere), with a joiner that counts completions. */
    static Task newTask(Callable<?> body, CountingJoiner joiner) {
        return newTask(null, body, joiner);
    }

    /** {@link #newTask(Callable, CountingJoiner)}, with the name given to fork (or null). */
    static Task newTask(String name, Callable<?> body, CountingJoiner joiner) {
        @SuppressWarnings("unchecked")
        Joiner<Object, Object, ?> j = (Joiner<Object, Object, ?>) (Joiner<?, ?, ?>) joiner;
        Flock flock = new Flock(j, Config.DEFAULT, Context.current(), null);
        Task task = new Task(flock, 1, name, body, false);
        task.launch();                         // as Flock.fork does just before Thread.start()
        return task;
    }

    /**
     * Makes the current (jcstress) thread find {@code task} as its current task, as a subtask's
     * thread does: through its uncaught-exception-handler slot ({@link Context#current()}).
     */
    static void asSubtaskThread(Task task) {
        Thread.currentThread().setUncaughtExceptionHandler(task);
    }

    /** Undoes {@link #asSubtaskThread}: the jcstress thread is reused by the next state. */
    static void leaveSubtaskThread() {
        Thread.currentThread().setUncaughtExceptionHandler(null);
    }

    /**
     * A cancellation hands the closing of {@code onCancel} resources to a Weft closer thread, and
     * the close job counts as live in the subtask's scope until it ends: waits for that (at most
     * 10 s), so that an arbiter reads the settled number of closes.
     */
    static void awaitHandedOffCloses(Task task) {
        long end = System.nanoTime() + 10_000_000_000L;
        while (task.flock.liveCount() > 0 && System.nanoTime() < end) {
            Thread.yield();
        }
    }

    /** A subtask whose body the test never runs. */
    static Task newTask() {
        return newTask(() -> null, new CountingJoiner());
    }

    /** Counts {@code onComplete} calls. */
    static class CountingJoiner implements Joiner<Object, Void, RuntimeException> {
        final AtomicInteger completions = new AtomicInteger();

        @Override
        public boolean onComplete(Subtask<Object> subtask) {
            completions.incrementAndGet();
            return false;
        }

        @Override
        public Void result() {
            return null;
        }
    }

    /**
     * The two actors of a state meet here before racing, so that they race (rather than one running
     * before the other) and so that the subtask actor's thread is published to the canceller; and the
     * subtask actor waits for the canceller to finish before it reads its final interrupt status and
     * clears it (the jcstress thread is reused by the next state). The waits spin: both actors always
     * run at once, one thread each.
     */
    static final class Rendezvous {
        private final AtomicInteger arrived = new AtomicInteger();
        private volatile boolean cancellerDone;

        void arriveAndAwait() {
            arrived.incrementAndGet();
            while (arrived.get() < 2) {
                Thread.onSpinWait();
            }
        }

        void cancellerDone() {
            cancellerDone = true;
        }

        void awaitCanceller() {
            while (!cancellerDone) {
                Thread.onSpinWait();
            }
        }
    }
}

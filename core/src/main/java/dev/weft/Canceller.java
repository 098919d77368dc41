package dev.weft;

import java.util.ArrayDeque;
import java.util.List;

/**
 * Cancellation delivery: what {@code cancel()}, {@link TaskScope.Subtask#cancel()},
 * {@link Scopes#cancelAll()}, deadline timers, joiners, the shutdown hook and the leak detector do.
 *
 * <p>A canceller only <em>marks</em> state, <em>interrupts</em> (or, in a scope without
 * interrupts, unparks), and <em>hands off</em> the closing of {@code onCancel} resources to a
 * {@link Closers} thread, in that order: the interrupt comes first, because it is what releases a
 * lock that a resource's {@code close()} may need. It never runs user code and never waits for
 * another thread, so it returns in time proportional to the number of subtasks it reaches.
 *
 * <p>The cascade down the tree is a loop over a work list, not a recursion: a scope's cancellation
 * reaches the scope the same owner opened inside it ({@link Flock#inner}) and the scopes its
 * subtasks opened ({@link Context#outermost}), except those shielded by a critical section, at any
 * depth, on the canceller's stack frame alone. A leaked (abandoned) scope was cancelled when it was
 * found; a cascade passes through it to the scopes its owner opened after it.
 */
final class Canceller {

    private Canceller() {
    }

    /** What an item of the work list does. */
    private enum Step {
        /** Mark, interrupt and hand off the subtasks of a scope already marked cancelled. */
        CANCEL_SUBTASKS,
        /** Pass through an abandoned (leaked) scope to the scope its owner opened after it. */
        PASS_THROUGH,
        /** Interrupt a subtask whose own scope had to be cancelled first (its INTERRUPTING bit waits). */
        DELIVER,
        /** Wake the owner of a scope, if it waits in join or close: once its subtasks were reached. */
        WAKE_OWNER
    }

    /** One item of the work list: a step, on a scope (with the reason it was cancelled for) or a subtask. */
    private record Item(Step step, Flock scope, Reason reason, Task task) {
    }

    /**
     * Cancels {@code root} for {@code reason} and everything below it. Returns true if this call
     * cancelled {@code root}.
     */
    static boolean cancel(Flock root, Reason reason) {
        if (root.abandoned) {
            run(new ArrayDeque<>(List.of(new Item(Step.PASS_THROUGH, root, reason, null))));
            return false;
        }
        if (!root.markCancelled(reason)) {
            return false;
        }
        run(new ArrayDeque<>(List.of(new Item(Step.CANCEL_SUBTASKS, root, reason, null))));
        return true;
    }

    /** Cancels one subtask and what it opened ({@link TaskScope.Subtask#cancel()}). */
    static boolean cancelSubtask(Task t) {
        if (t.isDone() || t.isCancelRequested()) {
            return false;
        }
        t.rare().cancelNanos = System.nanoTime();     // before the marking CAS, which publishes it
        int m = t.mark();
        if (m < 0) {
            return false;
        }
        ArrayDeque<Item> work = new ArrayDeque<>();
        delivered(t, m, t.flock.reason, work);
        run(work);
        return true;
    }

    /**
     * The loop, leaves first: a stack of work items, so that the subtasks of a nested scope are
     * interrupted before the subtask that owns that scope (whose interrupt waits in an item below
     * them), the deepest work, which is what a cancellation waits for, starts first, and a scope's
     * owner is woken last (an item pushed before its subtasks are reached): woken earlier, it would
     * only find its subtasks still running and park again, on a carrier they need.
     */
    private static void run(ArrayDeque<Item> work) {
        Item it;
        while ((it = work.pollFirst()) != null) {
            Flock f = it.scope;
            switch (it.step) {
                case DELIVER -> it.task.deliver();
                case WAKE_OWNER -> f.wakeOwner();     // a join() waiting for the scope sees it cancelled
                case CANCEL_SUBTASKS -> {
                    work.push(new Item(Step.WAKE_OWNER, f, null, null));
                    cancelTasks(f, it.reason, work);
                    Flock in = f.inner;
                    // A leak does not cascade into the scope its owner opened after it: that one is alive.
                    if (in != null && in.openedAtDepth <= f.openedAtDepth && it.reason.kind() != Reason.Kind.LEAK) {
                        markAndPush(work, in, Reason.enclosing(f.name, it.reason));
                    }
                }
                case PASS_THROUGH -> {
                    // Cancelled when it leaked, without cascading into the scope its owner opened
                    // after it; a cancellation from above passes through to that one.
                    Flock in = f.inner;
                    if (in != null) {
                        markAndPush(work, in, it.reason);
                    }
                }
            }
        }
    }

    /** Marks, interrupts and hands off every unfinished subtask of {@code f}; pushes the scopes they opened. */
    private static void cancelTasks(Flock f, Reason r, ArrayDeque<Item> work) {
        if (f.liveCount() == 0) {
            return;     // after the CAS on reason: the canceller's half of the fork/cancel race (see Flock)
        }
        Task[] a = f.tasks();
        for (int i = 0; i < a.length; i++) {
            Task t = Flock.taskAt(a, i);
            if (t == null) {
                break;
            }
            int m = t.mark();
            if (m >= 0) {
                delivered(t, m, r, work);
            }
        }
    }

    /**
     * After the marking CAS {@code m} ({@link Task#mark}) of a subtask: if it opened a scope, marks
     * that scope (so that a {@code join} there sees the cancellation when it wakes) and pushes it,
     * above an item that interrupts the subtask once that scope's subtasks are done; otherwise
     * interrupts and hands off at once (unless a section defers it, {@code m == 0}). While its
     * interrupt waits, the subtask's INTERRUPTING bit stays set: it cannot enter a section or
     * complete in between (it yields), and the wait holds only Weft's own bounded work.
     */
    private static void delivered(Task t, int m, Reason r, ArrayDeque<Item> work) {
        Flock owned = t.outermost;
        if (owned != null && owned.openedAtDepth == 0) {
            if (m > 0) {
                work.push(new Item(Step.DELIVER, null, null, t));
            }
            markAndPush(work, owned, Reason.fromTask(t, r));
        } else if (m > 0) {
            t.deliver();
        }
    }

    /** Marks {@code f} cancelled and pushes it for its subtasks; pushes an abandoned one to pass through. */
    private static void markAndPush(ArrayDeque<Item> work, Flock f, Reason r) {
        if (f.abandoned) {
            work.push(new Item(Step.PASS_THROUGH, f, r, null));
        } else if (f.markCancelled(r)) {
            work.push(new Item(Step.CANCEL_SUBTASKS, f, r, null));
        }
        // else: cancelled already, by someone who cascades it
    }
}

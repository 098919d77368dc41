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

    /**
     * One item of the work list: the subtasks of a scope to cancel (already marked when
     * {@code marked}), or, when {@code owner} is set, the interrupt held back for a subtask whose
     * own scope had to be cancelled first.
     */
    private record Item(Flock scope, Reason reason, boolean marked, Task owner, boolean wake) {
    }

    /**
     * Cancels {@code root} for {@code reason} and everything below it. Returns true if this call
     * cancelled {@code root}.
     */
    static boolean cancel(Flock root, Reason reason) {
        if (root.abandoned) {
            run(new ArrayDeque<>(List.of(new Item(root, reason, false, null, true))));
            return false;
        }
        if (!root.markCancelled(reason)) {
            return false;
        }
        root.wakeOwner();
        run(new ArrayDeque<>(List.of(new Item(root, reason, true, null, true))));
        return true;
    }

    /** Cancels one subtask and what it opened ({@link TaskScope.Subtask#cancel()}). */
    static boolean cancelSubtask(Task t) {
        if (!t.isMarkable()) {
            return false;           // no rare state to create for a task this call cannot mark
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
     * them), and the deepest work, which is what a cancellation waits for, starts first.
     */
    private static void run(ArrayDeque<Item> work) {
        Item it;
        while ((it = work.pollFirst()) != null) {
            if (it.owner != null) {
                it.owner.deliver();
                continue;
            }
            Flock f = it.scope;
            Reason r = it.reason;
            if (it.marked) {
                cancelTasks(f, r, work);
                Flock in = f.inner;
                // A leak does not cascade into the scope its owner opened after it: that one is alive.
                if (in != null && in.openedAtDepth <= f.openedAtDepth && r.kind() != Reason.Kind.LEAK) {
                    markAndPush(work, in, Reason.enclosing(f.name, r), it.wake);
                }
            } else if (f.abandoned) {
                // Cancelled when it leaked, without cascading into the scope its owner opened after
                // it; a cancellation from above passes through to that one.
                Flock in = f.inner;
                if (in != null) {
                    markAndPush(work, in, r, it.wake);
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
                work.push(new Item(null, null, false, t, false));
            }
            markAndPush(work, owned, Reason.fromTask(t, r), m == 0);
        } else if (m > 0) {
            t.deliver();
        }
    }

    /**
     * Marks {@code f} cancelled and pushes it for its subtasks; pushes an abandoned one to pass
     * through. When {@code wake}, wakes the owner if it waits and has a grace period to start
     * ({@link Flock#wakeOwner}); {@code wake} is false for a scope a subtask opened whose own
     * interrupt is held back below it in the work list,
     * which wakes that owner once, after the scope's subtasks were interrupted (an unpark now would
     * run the owner on a carrier ahead of the subtasks it waits for, and it would only park again).
     */
    private static void markAndPush(ArrayDeque<Item> work, Flock f, Reason r, boolean wake) {
        boolean abandoned = f.abandoned;
        boolean marked = !abandoned && f.markCancelled(r);
        if (marked && wake) {
            f.wakeOwner();          // a join() waiting for the scope starts its grace period
        }
        if (marked || abandoned) {
            work.push(new Item(f, r, marked, null, wake));
        }
        // else: cancelled already, by someone who cascades it
    }
}

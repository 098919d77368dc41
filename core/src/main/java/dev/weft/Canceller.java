package dev.weft;

import java.util.ArrayDeque;

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
     * Cancels {@code root} for {@code reason} and everything below it. Returns true if this call
     * cancelled {@code root}.
     */
    static boolean cancel(Flock root, Reason reason) {
        if (root.abandoned) {
            return run(null, root, reason, false);
        }
        if (!root.markCancelled(reason)) {
            return false;
        }
        run(null, root, reason, true);
        return true;
    }

    /** Cancels one subtask and what it opened ({@link TaskScope.Subtask#cancel()}). */
    static boolean cancelSubtask(Task t) {
        int m = t.mark();
        if (m < 0) {
            return false;
        }
        ArrayDeque<Object> work = delivered(t, m, t.flock.reason, null);
        if (work != null && !work.isEmpty()) {
            Flock f = (Flock) work.pollFirst();
            Reason r = (Reason) work.pollFirst();
            boolean marked = (Boolean) work.pollFirst();
            run(work, f, r, marked);
        }
        return true;
    }

    /**
     * The loop: cancels the subtasks of {@code f} (already marked when {@code marked}) and the
     * scopes below, from the work list, until it is empty.
     */
    private static boolean run(ArrayDeque<Object> work, Flock f, Reason r, boolean marked) {
        for (;;) {
            if (marked) {
                work = cancelTasks(f, r, work);
                Flock in = f.inner;
                // A leak does not cascade into the scope its owner opened after it: that one is alive.
                if (in != null && in.openedAtDepth <= f.openedAtDepth && r.kind() != Reason.Kind.LEAK) {
                    work = markAndPush(work, in, Reason.enclosing(f.name, r));
                }
            } else if (f.abandoned) {
                // Cancelled when it leaked, without cascading into the scope its owner opened after
                // it; a cancellation from above passes through to that one.
                Flock in = f.inner;
                if (in != null) {
                    work = markAndPush(work, in, r);
                }
            }
            if (work == null || work.isEmpty()) {
                return true;
            }
            f = (Flock) work.pollFirst();
            r = (Reason) work.pollFirst();
            marked = (Boolean) work.pollFirst();
        }
    }

    /** Marks, interrupts and hands off every unfinished subtask of {@code f}; queues the scopes they opened. */
    private static ArrayDeque<Object> cancelTasks(Flock f, Reason r, ArrayDeque<Object> work) {
        Task[] a = f.tasks();
        for (int i = 0; i < a.length; i++) {
            Task t = Flock.taskAt(a, i);         // volatile: the canceller's half of the fork/cancel Dekker
            if (t == null) {
                break;
            }
            int m = t.mark();
            if (m >= 0) {
                work = delivered(t, m, r, work);
            }
        }
        return work;
    }

    /**
     * After the marking CAS {@code m} ({@link Task#mark()}) of a subtask: marks the scope it opened
     * first, so that a {@code join} there that the interrupt wakes sees the cancellation; then
     * interrupts and hands off (unless a section defers it). Queues that scope for its own
     * subtasks. Returns the work list (null while empty).
     */
    private static ArrayDeque<Object> delivered(Task t, int m, Reason r, ArrayDeque<Object> work) {
        Flock owned = t.outermost;
        if (owned != null && owned.openedAtDepth == 0) {
            work = markAndPush(work, owned, Reason.fromTask(t, r));
        }
        if (m > 0) {
            t.deliver();
        }
        return work;
    }

    /** Marks {@code f} cancelled and queues it for its subtasks; queues an abandoned one to pass through. */
    private static ArrayDeque<Object> markAndPush(ArrayDeque<Object> work, Flock f, Reason r) {
        boolean abandoned = f.abandoned;
        boolean marked = !abandoned && f.markCancelled(r);
        if (!marked && !abandoned) {
            return work;            // cancelled already, by someone who cascades it
        }
        if (work == null) {
            work = new ArrayDeque<>();
        }
        work.addLast(f);
        work.addLast(r);
        work.addLast(marked);
        return work;
    }
}

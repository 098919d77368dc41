package dev.weft;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs a subtask's body inside the context its scope's {@link ContextPropagator}s captured at fork.
 * Used only when the scope has propagators; a scope without any never reaches this class.
 *
 * <h2>The chain</h2>
 * Snapshot 0 is called with the chain itself as its body ({@link Snapshot#call}); that call enters
 * level 1, which calls snapshot 1, and so on; the last level runs the task's body. So snapshots are
 * installed in list order and restored in reverse order, by the default {@code call} (install, body,
 * restore in {@code finally}), and a snapshot that can only wrap (a {@code ScopedValue} binding)
 * takes part in the same nesting. One object per subtask: the chain is its own {@link Callable}, and
 * {@link #current} says which level a call enters.
 *
 * <h2>Failures</h2>
 * The body's outcome is caught at the innermost level and kept in {@link #value}/{@link #bodyFailure},
 * so anything else that comes out of {@code snapshots[i].call} is propagator {@code i}'s own failure:
 * before it called its body ({@link #reached} {@code <= i}) a failure to install, after it a failure to
 * restore. Every level catches its snapshot's failure and returns, so the outer snapshots still
 * restore. Nothing is dropped: see {@link #outcome()}.
 */
final class ContextChain implements Callable<Object> {

    private final Task task;
    private final ContextPropagator.Snapshot[] snapshots;
    private final Object body;

    /** The level whose snapshot is running now: its {@code call} enters {@code current + 1}. */
    private int current = -1;
    /** The deepest level entered so far; {@code snapshots.length} once the body has started. */
    private int reached = -1;

    /** What the body returned. */
    private Object value;
    /** What the body threw, or null. */
    private Throwable bodyFailure;
    /** A failure to install (the body did not run), or null. */
    private Throwable installFailure;
    /** Failures to restore, innermost first; null while there is none. */
    private List<Throwable> restoreFailures;

    /** The chain of {@code snapshots} around {@code body}, a Callable or else a Runnable, for {@code task}. */
    ContextChain(Task task, ContextPropagator.Snapshot[] snapshots, Object body) {
        this.task = task;
        this.snapshots = snapshots;
        this.body = body;
    }

    /**
     * Captures every propagator's snapshot, in order, on the forking thread.
     *
     * @throws RejectedExecutionException if a capture throws or returns null
     */
    static ContextPropagator.Snapshot[] capture(Flock flock, Task task, ContextPropagator[] propagators) {
        ContextPropagator.Snapshot[] snapshots = new ContextPropagator.Snapshot[propagators.length];
        for (int i = 0; i < propagators.length; i++) {
            ContextPropagator.Snapshot s;
            try {
                s = propagators[i].capture();
            } catch (Throwable e) {         // an Error too: the fork fails, as when the thread cannot start
                throw new RejectedExecutionException(describe(propagators, i) + " of scope '" + flock.name
                        + "' threw " + e + " while capturing the context for subtask " + task.name()
                        + "; no thread was started. Fix the propagator, or remove it from the scope's"
                        + " configuration (withContextPropagators).", e);
            }
            if (s == null) {
                throw new RejectedExecutionException(describe(propagators, i) + " of scope '" + flock.name
                        + "' returned a null snapshot for subtask " + task.name() + "; no thread was started."
                        + " capture() must return a Snapshot (a no-op one when there is nothing to carry).");
            }
            snapshots[i] = s;
        }
        return snapshots;
    }

    /**
     * Runs the body (a Callable, or else a Runnable) inside the snapshots, on
     * the subtask's thread; the outcome is then {@link #value()} and {@link #outcome()}.
     */
    void run() {
        enter(0);
    }

    /** What the body returned (null if it threw or did not run). */
    Object value() {
        return value;
    }

    /** Level {@code i}: snapshot {@code i} around the rest, or the body when {@code i == snapshots.length}. */
    private void enter(int i) {
        reached = i;
        if (i == snapshots.length) {
            try {
                value = Task.invoke(body);
            } catch (Throwable t) {
                bodyFailure = t;
            }
            return;
        }
        current = i;
        try {
            snapshots[i].call(this);
            if (reached <= i) {
                installFailed(i, null);         // returned without running the body
            }
        } catch (Throwable e) {
            if (reached <= i) {
                installFailed(i, e);
            } else {
                restoreFailed(i, e);
            }
        } finally {
            current = i - 1;
        }
    }

    /** The body that snapshot {@link #current} calls: the next level. */
    @Override
    public Object call() {
        int next = current + 1;
        if (reached >= next) {
            throw new IllegalStateException(describe(next - 1) + " called the subtask's body twice;"
                    + " a snapshot's call(body) must call it exactly once");
        }
        enter(next);
        return null;
    }

    private void installFailed(int i, Throwable e) {
        IllegalStateException f = new IllegalStateException(e != null
                ? describe(i) + " failed to install its context for subtask " + task.label() + ", which did not run: " + e
                : describe(i) + " returned from call(body) without calling the body of subtask " + task.label()
                        + ", which did not run; a snapshot's call(body) must call it exactly once", e);
        if (installFailure == null) {
            installFailure = f;
        } else {
            installFailure.addSuppressed(f);
        }
    }

    private void restoreFailed(int i, Throwable e) {
        if (restoreFailures == null) {
            restoreFailures = new ArrayList<>(2);
        }
        restoreFailures.add(new IllegalStateException(describe(i) + " failed to restore the previous context of thread '"
                + Thread.currentThread().getName() + "' after subtask " + task.label() + ": " + e, e));
    }

    /**
     * The exception the subtask ends with, or null: the install failure (the body did not run),
     * else the body's exception, else the first restore failure; every restore failure that is not
     * the one returned is suppressed in it.
     */
    Throwable outcome() {
        Throwable primary = installFailure != null ? installFailure : bodyFailure;
        List<Throwable> rs = restoreFailures;
        if (rs == null) {
            return primary;
        }
        int from = 0;
        if (primary == null) {
            primary = rs.get(0);
            from = 1;
        }
        for (int i = from; i < rs.size(); i++) {
            primary.addSuppressed(rs.get(i));
        }
        return primary;
    }

    private String describe(int i) {
        return describe(task.flock.propagators, i);
    }

    /** {@code context propagator #2 (MyPropagator@1a2b)}, counting from 1 in the scope's list. */
    static String describe(ContextPropagator[] propagators, int i) {
        String s;
        try {
            s = String.valueOf(propagators[i]);
        } catch (RuntimeException e) {
            s = propagators[i].getClass().getName();
        }
        return "context propagator #" + (i + 1) + " (" + s + ")";
    }
}

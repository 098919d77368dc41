package dev.weft;

import java.time.Instant;

/**
 * The Weft state of one thread: its critical-section depth, its cancellation state, and the chain
 * of scopes it owns. A subtask's thread has its {@link Task} as context; any other thread gets a
 * {@link ThreadContext} on first use.
 *
 * <h2>The chain of owned scopes</h2>
 *
 * The scopes a thread owns form a chain, outermost first, linked by {@link Flock#inner} (downwards)
 * and {@link Flock#enclosing} (upwards). Only the owning thread changes the chain ({@link #push},
 * {@link #pop}); cancellers walk it downwards from {@link #outermost} concurrently. A scope opened
 * while the thread is inside a critical section records the depth in {@link Flock#openedAtDepth}:
 * cancellation from outside the section does not cross into it (the shield), and when the section
 * ends {@link #afterSectionExit} lowers the recorded depths and delivers what was held back.
 *
 * <h2>Finding the context</h2>
 *
 * A subtask's thread holds its {@link Task} in its uncaught-exception-handler slot (the Task
 * delegates to the handler the thread factory installed), and {@link #current()} reads it there:
 * a field read, with no thread-local lookup and no thread-local map per subtask (about 140 bytes
 * each). Any other thread gets a {@link ThreadContext} in a {@link ThreadLocal}.
 */
abstract sealed class Context permits Task, ThreadContext {

    /** The context of a thread that is not a subtask, once looked up. Written and read by that thread only. */
    private static final ThreadLocal<Context> CURRENT = new ThreadLocal<>();

    /**
     * The outermost scope this thread owns that is not closed; the rest of the chain hangs off it
     * ({@link Flock#inner}). Written by the owner thread; read by cancellers.
     */
    volatile Flock outermost;

    /**
     * The innermost scope this thread owns that is not closed, or null: the inner end of the chain
     * that starts at {@link #outermost}. It is walked, not kept in a field of its own, so that every
     * subtask is 4 bytes smaller (see docs/design-notes.md); the chain is as long as the scopes one
     * thread has open at once, which is short. Owner thread only: only the owner changes the chain,
     * so the walk sees it whole.
     */
    final Flock innermost() {
        Flock f = outermost;
        if (f != null) {
            for (Flock in; (in = f.inner) != null; ) {
                f = in;
            }
        }
        return f;
    }

    /**
     * Returns the current thread's context. A subtask's thread finds its task in its
     * uncaught-exception-handler slot (a field read); any other thread gets its context from a
     * thread-local, created on first use.
     *
     * <p>If code inside a subtask replaced the thread's handler, the slot no longer leads to the
     * task: the first lookup then searches the live scope tree for the task that owns this thread
     * (once per thread; it runs only for a thread that has a handler of its own) and keeps the
     * answer in the thread-local, so the task stays visible to {@link Cancellation}.
     *
     * @return the context, never null
     */
    static Context current() {
        Thread t = Thread.currentThread();
        Task k = Task.of(t);
        if (k != null) {
            return k;               // a subtask: a field read, no thread-local lookup and no thread-local map
        }
        Context c = CURRENT.get();
        if (c == null) {
            c = t.getUncaughtExceptionHandler() != t.getThreadGroup() ? TreeWalk.taskOf(t) : null;
            if (c == null) {
                c = new ThreadContext(t);
            }
            CURRENT.set(c);
        }
        return c;
    }

    /** The thread this context belongs to. */
    abstract Thread thread();

    /** Whether code on this thread should stop: cancelled and not inside a critical section. */
    abstract boolean cancellationRequested();

    /** The exception {@link Cancellation#check()} throws on this thread. */
    abstract CancelledException newCancelledException();

    /** The effective deadline of the current task, or null. */
    abstract Instant deadline();

    /** The critical-section depth of this thread. Owner thread only. */
    abstract int criticalDepth();

    /** Enters a critical section on this (the current) thread. */
    abstract CriticalSection enterCritical(String name);

    /** Leaves the given section, which must be the innermost one, on this (the current) thread. */
    abstract void exitCritical(CriticalSection section);

    /** Whether Weft interrupts this thread to deliver a cancellation (false in a cooperative scope). */
    abstract boolean interruptsEnabled();

    /**
     * Returns the reason to give a scope this thread owns when a cancellation of the thread's task
     * reaches it, or null if the task is not cancelled (or this is not a task).
     */
    abstract Reason cancellationReasonForScopes();

    /**
     * Links a newly opened scope as the innermost of this thread's chain, then gives it any
     * cancellation that is already due (the scope that encloses it, or this task, was cancelled and
     * no critical section shields it). Owner thread only.
     */
    final void push(Flock f) {
        Flock e = f.enclosing;       // == innermost(): the caller ran dropAbandoned() before creating f
        if (e != null) {
            e.inner = f;          // volatile write, then the reads below: see Flock#cancel
        } else {
            outermost = f;
        }
        if (e != null) {
            Reason r = e.reason;
            if (r != null && !e.abandoned && f.openedAtDepth <= e.openedAtDepth) {
                f.cancel(Reason.enclosing(e.name, r));
            }
        } else if (f.openedAtDepth == 0) {
            Reason r = cancellationReasonForScopes();
            if (r != null) {
                f.cancel(r);
            }
        }
    }

    /**
     * Closes, innermost first, the scopes this thread still has open above {@code keep} (null:
     * all of them), each one waiting for its subtasks at most until {@code cap} says
     * ({@link System#nanoTime()}, or 0 for the scope's own grace period). Returns the structure
     * violation to report, made by {@code message} for the first scope that was not leaked, with
     * the failures of the closes attached; or null if only leaked scopes were left, whose close
     * failures are logged. Owner thread only.
     */
    final StructureViolationException closeScopesAbove(Flock keep, java.util.function.LongSupplier cap,
                                                       java.util.function.Function<Flock, String> message) {
        StructureViolationException violation = null;
        Flock f;
        while ((f = innermost()) != null && f != keep) {
            if (f.phase != Flock.CLOSED) {
                if (!f.abandoned && violation == null) {
                    violation = new StructureViolationException(message.apply(f));
                }
                try {
                    f.close(cap.getAsLong());
                } catch (RuntimeException e) {
                    if (violation != null) {
                        violation.addSuppressed(e);
                    } else {
                        Reports.failure("closing leaked scope '" + Names.escape(f.name) + "' failed", e);
                    }
                }
            }
            if (innermost() == f) {     // close() unlinks it; a closed one left linked must not loop
                pop(f);
            }
        }
        return violation;
    }

    /** Unlinks the innermost scope, which must be {@code f}. Owner thread only. */
    final void pop(Flock f) {
        assert innermost() == f;
        Flock e = f.enclosing;
        if (e != null) {
            e.inner = null;
        } else {
            outermost = null;
        }
        dropAbandoned();
    }

    /**
     * Unlinks leaked scopes at the inner end of the chain; they were reported and cancelled already.
     * Owner thread only; called before a new scope captures {@link #innermost()} as its enclosing
     * scope, and after a pop.
     */
    final void dropAbandoned() {
        Flock a;
        while ((a = innermost()) != null && a.abandoned) {
            Flock e = a.enclosing;
            if (e != null) {
                e.inner = null;
            } else {
                outermost = null;
            }
            if (a.root) {
                Registry.removeRoot(a);     // kept registered while scopes opened inside it were open
            }
        }
    }

    /**
     * After a critical section closed at depth {@code newDepth + 1}: scopes opened inside it are now
     * outside it, so lower their recorded depth; then deliver cancellations the section held back
     * from them. Owner thread only.
     */
    final void afterSectionExit(int newDepth) {
        Flock f = outermost;
        if (f == null) {
            return;
        }
        for (Flock s = f; s != null; s = s.inner) {
            if (s.openedAtDepth > newDepth) {
                s.openedAtDepth = newDepth;
            }
        }
        if (newDepth > 0) {
            return;
        }
        // Every owned scope is now outside any section: a cancelled task cancels its outermost
        // scope, and a cancelled scope its inner one (Flock#cancel cascades, but a scope that was
        // shielded when its parent was cancelled must be reached here).
        Reason r = cancellationReasonForScopes();
        if (r != null) {
            f.cancel(r);
        }
        for (Flock s = f; s != null; s = s.inner) {
            Flock in = s.inner;
            Reason sr = s.reason;
            if (in != null && sr != null && !s.abandoned) {
                in.cancel(Reason.enclosing(s.name, sr));
            }
        }
    }
}

package dev.weft;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Instant;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * A subtask: the {@link Runnable} its thread runs, its {@link TaskScope.Subtask} view, and the
 * {@link Context} of its thread.
 *
 * <h2>State</h2>
 *
 * One {@code volatile int state} packs the lifecycle, the cancellation request, the
 * interrupt-in-flight flag and the critical-section depth:
 * <pre>
 * bits 0-1  lifecycle: RUNNING, SUCCESS, FAILED, CANCELLED
 * bit  2    CANCEL_REQUESTED
 * bit  3    INTERRUPTING          a canceller is delivering Weft's interrupt and closing resources
 * bits 8-30 critical-section depth
 * </pre>
 * Transitions, each a single CAS (or atomic add) on {@code state}:
 * <pre>
 * RUNNING                -> RUNNING | CANCEL_REQUESTED                 cancel, while depth &gt; 0 (deferred)
 * RUNNING                -> RUNNING | CANCEL_REQUESTED | INTERRUPTING  cancel, while depth == 0
 * ... | INTERRUPTING     -> ... (INTERRUPTING cleared)                 that canceller, after interrupt() returned
 * depth d                -> depth d + 1                                task thread enters a section; only while
 *                                                                      INTERRUPTING is clear (it waits otherwise)
 * depth d                -> depth d - 1                                task thread leaves a section
 * RUNNING (+ any bits)   -> SUCCESS | FAILED | CANCELLED               task thread, once, on completion
 * </pre>
 * Why it is race-free:
 * <ul>
 *   <li><b>No interrupt inside a section.</b> Weft interrupts a task only between setting
 *       INTERRUPTING, in a CAS that saw depth 0, and clearing it. Entering a section is a CAS that
 *       requires INTERRUPTING clear, so an entry either happens before that CAS (and the canceller
 *       sees depth &gt; 0 and does not interrupt) or after {@code interrupt()} returned, when the
 *       interrupt status is already set: the entry then clears it, because CANCEL_REQUESTED is
 *       set.</li>
 *   <li><b>No lost cancellation at exit.</b> A cancel that sees depth &gt; 0 sets only
 *       CANCEL_REQUESTED; leaving the outermost section decrements the depth first and then reads
 *       CANCEL_REQUESTED, delivering it. A cancel after the decrement sees depth 0 and delivers it
 *       itself. Either way it is delivered; delivering twice is harmless (interrupting twice,
 *       cancelling a scope twice), and resources are closed once (see {@link CancelRegistration}).</li>
 *   <li><b>Cancel vs completion.</b> Completion is one CAS from RUNNING that reads
 *       CANCEL_REQUESTED in the same word: a cancel that lands first makes an interrupt-caused
 *       exception CANCELLED; a cancel that lands after sees a terminal state and does nothing.</li>
 * </ul>
 */
final class Task extends Context implements TaskScope.Subtask<Object>, Runnable, Thread.UncaughtExceptionHandler {

    static final int RUNNING = 0;
    static final int SUCCESS = 1;
    static final int FAILED = 2;
    static final int CANCELLED = 3;
    static final int LIFECYCLE = 3;
    static final int CANCEL_REQUESTED = 1 << 2;
    static final int INTERRUPTING = 1 << 3;
    static final int DEPTH_SHIFT = 8;
    static final int DEPTH_UNIT = 1 << DEPTH_SHIFT;
    static final int DEPTH_MASK = 0x7FFFFF00;

    /** Marks a subtask that was cancelled before it ran; replaced by a CancelledException on first read. */
    private static final Object NEVER_RAN = new Object();

    /** The scope this subtask belongs to. */
    final Flock flock;

    /** Index in the scope, from 1. */
    final int index;

    /** The name given to fork, or null. */
    final String name;

    /** {@link System#nanoTime()} when forked, for ages. */
    final long forkNanos;

    /** The code to run: a Callable, or a Runnable when {@link #runnable}. Written by the owner before the thread starts; cleared by the task thread. */
    private Object body;

    /**
     * The context captured at fork by the scope's propagators, or null when it has none. Written by
     * the owner before the thread starts; read and cleared by the task thread.
     */
    ContextPropagator.Snapshot[] snapshots;

    /** Whether {@link #body} is a Runnable (an object may implement both interfaces). */
    private final boolean runnable;

    /** The thread. Written by the owner before the task is published; read by any thread. */
    Thread thread;

    /** The handler the thread factory installed, delegated to. Written by the owner before start. */
    Thread.UncaughtExceptionHandler delegateHandler;

    /** See the class comment. Any thread, by CAS. */
    private volatile int state;

    /** The value, the exception, or NEVER_RAN. Written by the task thread before the completing CAS; read after reading state. */
    private Object result;

    /** Name of the innermost open critical section, or null. Written by the task thread; read by diagnostics. */
    private volatile String sectionName;

    /** Registered onCancel resources, created on first registration. Any thread. */
    private volatile Set<CancelRegistration> registrations;

    /** Exceptions thrown by onCancel resources' close(). Any thread adds; the task thread reads on completion. */
    private volatile Queue<Throwable> closeFailures;

    /** Whether a cancellation closed one of the resources. Written by closers, read by the task thread. */
    private volatile boolean resourceClosed;

    /**
     * Whether the scope started the thread. Written by the owner just before {@code Thread.start()};
     * read by the task thread, which must not run a body its scope never registered (a thread factory
     * that starts the thread itself).
     */
    volatile boolean started;

    Task(Flock flock, int index, String name, Object body, boolean runnable) {
        this.flock = flock;
        this.index = index;
        this.name = name;
        this.body = body;
        this.runnable = runnable;
        this.forkNanos = System.nanoTime();
    }

    // ---------------------------------------------------------------------------------------
    // Running

    @Override
    public void run() {
        if (!started) {
            return;     // started by the thread factory, not by the scope, which rejected it
        }
        if (Thread.currentThread() != thread || isDone()) {
            misrun();
            return;
        }
        Object value = null;
        Throwable ex = null;
        boolean ran = false;
        Object b = body;
        body = null;
        ContextPropagator.Snapshot[] snaps = snapshots;
        if ((state & CANCEL_REQUESTED) == 0) {
            ran = true;
            if (snaps == null) {
                try {
                    if (runnable) {
                        ((Runnable) b).run();
                    } else {
                        value = ((Callable<?>) b).call();
                    }
                } catch (Throwable t) {
                    ex = t;
                }
            } else {
                snapshots = null;
                ContextChain c = ContextChain.run(this, snaps, b, runnable);   // install, body, restore
                value = c.value();
                ex = c.outcome();
            }
        } else if (snaps != null) {
            snapshots = null;          // never installed: just dropped
        }
        try {
            if (innermost != null) {
                ex = closeLeftoverScopes(ex);
            }
        } catch (Throwable t) {
            ex = addSuppressed(ex, t);
        }
        if (complete(ran, value, ex)) {
            flock.taskDone(this);
        }
    }

    /**
     * The thread factory ran this Runnable on a thread other than the one it returned, or ran it
     * twice. Fail the subtask (once) rather than leave the scope waiting for it.
     */
    private void misrun() {
        if (isDone()) {
            return;
        }
        body = null;
        if (complete(true, null, new IllegalStateException("the thread factory of scope '" + flock.name
                + "' ran subtask " + label() + " on thread '" + Thread.currentThread().getName()
                + "', not on the thread it created; a thread factory must return a new, unstarted thread"
                + " that runs the given Runnable"))) {
            flock.taskDone(this);
        }
    }

    /** The task returned with scopes still open: close them (innermost first) and report it. */
    private Throwable closeLeftoverScopes(Throwable ex) {
        StructureViolationException violation = null;
        Flock f;
        while ((f = innermost) != null) {
            if (!f.abandoned && violation == null) {
                violation = new StructureViolationException("subtask " + label() + " returned while scope '" + f.name
                        + "' that it opened was still open; Weft closed it. Open scopes with try-with-resources.");
            }
            try {
                f.close();
            } catch (RuntimeException e) {
                if (violation != null) {
                    violation.addSuppressed(e);
                }
            }
            if (innermost == f) {        // close() could not unlink it (should not happen); avoid looping
                pop(f);
            }
        }
        return violation == null ? ex : addSuppressed(ex, violation);
    }

    private static Throwable addSuppressed(Throwable ex, Throwable extra) {
        if (ex == null) {
            return extra;
        }
        if (ex != extra) {
            ex.addSuppressed(extra);
        }
        return ex;
    }

    /**
     * The single completing transition, from RUNNING. Normally on the task thread; returns false
     * if the task had already completed.
     */
    private boolean complete(boolean ran, Object value, Throwable ex) {
        Queue<Throwable> failures = closeFailures;
        if (failures != null && ex != null) {
            for (Throwable t : failures) {
                ex = addSuppressed(ex, t);
            }
        }
        for (;;) {
            int s = state;
            if ((s & LIFECYCLE) != RUNNING) {
                return false;
            }
            int term;
            if (!ran) {
                term = CANCELLED;
                result = NEVER_RAN;
            } else if (ex == null) {
                term = SUCCESS;
                result = value;
            } else {
                term = cancelled(s) && causedByCancellation(ex) ? CANCELLED : FAILED;
                result = ex;
            }
            // Keep INTERRUPTING (its canceller clears it) and CANCEL_REQUESTED; drop the depth.
            int next = (s & (CANCEL_REQUESTED | INTERRUPTING)) | term;
            if (STATE.compareAndSet(this, s, next)) {
                break;
            }
        }
        if (failures != null && ex == null && !failures.isEmpty()) {
            Reports.closeFailuresAfterSuccess(this, failures);
        }
        return true;
    }

    /**
     * Whether {@code ex}, thrown by a cancelled task, was caused by the cancellation: an
     * interrupt-type exception anywhere in its cause chain; or an I/O exception after the
     * cancellation closed one of the task's resources, or while the thread is still interrupted
     * (a virtual thread's socket read, for one, answers an interrupt by closing the socket and
     * throwing {@code SocketException}).
     */
    private boolean causedByCancellation(Throwable ex) {
        boolean closed = resourceClosed
                || (Thread.currentThread() == thread && thread.isInterrupted());
        Throwable t = ex;
        for (int i = 0; t != null && i < 16; i++, t = t.getCause()) {
            if (t instanceof InterruptedException
                    || t instanceof CancelledException
                    || t instanceof ClosedByInterruptException
                    || (t instanceof InterruptedIOException && !(t instanceof SocketTimeoutException))) {
                return true;
            }
            if (closed && (t instanceof IOException || t instanceof UncheckedIOException)) {
                return true;
            }
        }
        return false;
    }

    /** Marks a subtask that will never run (forked after cancellation, or onFork failed). Owner only, unpublished. */
    void cancelBeforeStart() {
        result = NEVER_RAN;
        state = CANCEL_REQUESTED | CANCELLED;
    }

    /** The thread could not be started: the subtask failed with {@code failure}. Owner only. */
    boolean failToStart(Throwable failure) {
        body = null;
        return complete(true, null, failure);
    }

    // ---------------------------------------------------------------------------------------
    // Cancellation

    @Override
    public boolean cancel() {
        return requestCancel();
    }

    /**
     * Requests cancellation: marks the task, cancels the scopes it opened (except those shielded by
     * a critical section), and, unless it is inside a critical section, closes its onCancel
     * resources and interrupts it. Any thread. Returns true if this call requested it.
     */
    boolean requestCancel() {
        int s;
        boolean deliver;
        do {
            s = state;
            if ((s & LIFECYCLE) != RUNNING || (s & CANCEL_REQUESTED) != 0) {
                return false;
            }
            deliver = (s & DEPTH_MASK) == 0;
        } while (!STATE.compareAndSet(this, s, s | CANCEL_REQUESTED | (deliver ? INTERRUPTING : 0)));

        Flock f = outermost;
        if (f != null && f.openedAtDepth == 0) {
            f.cancel(Flock.Reason.fromTask(this));
        }
        if (deliver) {
            try {
                closeRegistrations();
                thread.interrupt();
            } finally {
                STATE.getAndAdd(this, -INTERRUPTING);
            }
        }
        return true;
    }

    @Override
    Flock.Reason cancellationReasonForScopes() {
        return (state & CANCEL_REQUESTED) != 0 ? Flock.Reason.fromTask(this) : null;
    }

    boolean isCancelRequested() {
        return (state & CANCEL_REQUESTED) != 0;
    }

    /**
     * Whether this subtask counts as cancelled, given its state word {@code s}: marked, or its scope
     * cancelled and the canceller not here yet (it marks the subtasks one by one, closing each one's
     * resources on the way). So once {@code scope.isCancelled()} reads true, so does
     * {@link Cancellation#isRequested()} in every subtask of the scope, and a cancellation-caused
     * exception ends the subtask CANCELLED.
     */
    private boolean cancelled(int s) {
        return (s & CANCEL_REQUESTED) != 0 || flock.reason != null;
    }

    /** Cancelled ({@link #cancelled}) and not inside a critical section. */
    @Override
    boolean cancellationRequested() {
        int s = state;
        return (s & DEPTH_MASK) == 0 && cancelled(s);
    }

    @Override
    CancelledException newCancelledException() {
        Flock.Reason r = flock.reason;
        String why = r != null ? "scope '" + flock.name + "' " + r.text() : "it was cancelled by Subtask.cancel()";
        return new CancelledException("subtask " + label() + " was cancelled: " + why, r != null ? r.cause() : null);
    }

    @Override
    Instant deadline() {
        return flock.effectiveDeadline;
    }

    @Override
    Thread thread() {
        return thread;
    }

    // ---------------------------------------------------------------------------------------
    // Critical sections (task thread only)

    @Override
    int criticalDepth() {
        return (state & DEPTH_MASK) >>> DEPTH_SHIFT;
    }

    @Override
    CriticalSection enterCritical(String sectionName) {
        int spins = 0;
        int s;
        for (;;) {
            s = state;
            if ((s & INTERRUPTING) != 0) {
                // A canceller is between deciding to interrupt and having interrupted: wait for the
                // interrupt to land, so that it can be cleared below instead of arriving inside.
                if (++spins < 64) {
                    Thread.onSpinWait();
                } else if (spins < 96) {
                    Thread.yield();
                } else {
                    LockSupport.parkNanos(10_000);
                }
                continue;
            }
            if (STATE.compareAndSet(this, s, s + DEPTH_UNIT)) {
                break;
            }
        }
        int depth = ((s & DEPTH_MASK) >>> DEPTH_SHIFT) + 1;
        if (depth == 1 && (s & CANCEL_REQUESTED) != 0) {
            Thread.interrupted();      // entering while cancelled: the body runs undisturbed
        }
        String enclosing = this.sectionName;
        SECTION_NAME.setRelease(this, sectionName);     // read by diagnostics only: no fence needed
        return new CriticalSection(this, depth, sectionName, enclosing);
    }

    @Override
    void exitCritical(CriticalSection section) {
        section.checkInnermost(criticalDepth());
        SECTION_NAME.setRelease(this, section.enclosingName);
        int s = (int) STATE.getAndAdd(this, -DEPTH_UNIT) - DEPTH_UNIT;
        int newDepth = (s & DEPTH_MASK) >>> DEPTH_SHIFT;
        afterSectionExit(newDepth);
        if (newDepth == 0 && (state & CANCEL_REQUESTED) != 0) {
            // Deliver what the section held back. (A canceller racing with the decrement may deliver
            // too; both are idempotent.)
            closeRegistrations();
            Thread.currentThread().interrupt();
            Flock.Reason r = flock.reason;
            if (r != null) {
                Events.criticalSectionHeld(this, section.name(), System.nanoTime() - r.nanos());
            }
        }
    }

    String sectionName() {
        return sectionName;
    }

    // ---------------------------------------------------------------------------------------
    // onCancel resources

    CancelRegistration registerOnCancel(AutoCloseable resource) {
        CancelRegistration r = new CancelRegistration(this, resource);
        Set<CancelRegistration> set = registrations;
        if (set == null) {
            set = ConcurrentHashMap.newKeySet();
            if (!REGISTRATIONS.compareAndSet(this, null, set)) {
                set = registrations;
            }
        }
        set.add(r);                           // then read state: pairs with requestCancel's CAS then closeRegistrations
        int s = state;
        if ((s & CANCEL_REQUESTED) != 0 && (s & DEPTH_MASK) == 0) {
            r.closeByCancellation();
        }
        return r;
    }

    void unregister(CancelRegistration r) {
        Set<CancelRegistration> set = registrations;
        if (set != null) {
            set.remove(r);
        }
    }

    private void closeRegistrations() {
        Set<CancelRegistration> set = registrations;
        if (set != null) {
            for (CancelRegistration r : set) {
                r.closeByCancellation();
            }
        }
    }

    void markResourceClosed() {
        resourceClosed = true;
    }

    void recordCloseFailure(AutoCloseable resource, Throwable failure) {
        Queue<Throwable> q = closeFailures;
        if (q == null) {
            q = new ConcurrentLinkedQueue<>();
            if (!CLOSE_FAILURES.compareAndSet(this, null, q)) {
                q = closeFailures;
            }
        }
        q.add(failure);
    }

    // ---------------------------------------------------------------------------------------
    // Subtask view

    @Override
    public String name() {
        return name != null ? name : "#" + index;
    }

    @Override
    public State state() {
        return switch (state & LIFECYCLE) {
            case SUCCESS -> State.SUCCESS;
            case FAILED -> State.FAILED;
            case CANCELLED -> State.CANCELLED;
            default -> State.RUNNING;
        };
    }

    int lifecycle() {
        return state & LIFECYCLE;
    }

    boolean isDone() {
        return (state & LIFECYCLE) != RUNNING;
    }

    @Override
    public Object get() {
        return switch (state & LIFECYCLE) {
            case SUCCESS -> result;
            case FAILED -> throw new IllegalStateException("subtask " + label() + " failed; its exception is exception()",
                    (Throwable) result);
            case CANCELLED -> throw new IllegalStateException("subtask " + label() + " was cancelled; it has no result");
            default -> throw new IllegalStateException("subtask " + label()
                    + " has not completed; call join() before reading results");
        };
    }

    @Override
    public Throwable exception() {
        return switch (state & LIFECYCLE) {
            case FAILED -> (Throwable) result;
            case CANCELLED -> cancelledException();
            case SUCCESS -> throw new IllegalStateException("subtask " + label() + " succeeded; it has no exception");
            default -> throw new IllegalStateException("subtask " + label()
                    + " has not completed; call join() before reading outcomes");
        };
    }

    /** The exception of a CANCELLED task. Only after reading a CANCELLED state. */
    private Throwable cancelledException() {
        Object r = result;
        if (r != NEVER_RAN) {
            return (Throwable) r;
        }
        CancelledException e = new CancelledException("subtask " + label() + " was cancelled before it started");
        return RESULT.compareAndSet(this, NEVER_RAN, e) ? e : (Throwable) result;
    }

    /** The raw exception of a FAILED task. */
    Throwable failure() {
        return (Throwable) result;
    }

    /** {@code scope 'x' task #3 'reader'}. */
    String label() {
        return "#" + index + (name != null ? " '" + name + "'" : "") + " of scope '" + flock.name + "'";
    }

    @Override
    public String toString() {
        return Dumps.describe(this);
    }

    // ---------------------------------------------------------------------------------------
    // Uncaught exceptions: Weft catches everything a task throws, so this only sees failures in
    // Weft's own bookkeeping; hand them to the handler the thread would otherwise have used.

    @Override
    public void uncaughtException(Thread t, Throwable e) {
        Thread.UncaughtExceptionHandler h = delegateHandler;
        if (h != null && h != this) {
            h.uncaughtException(t, e);
        } else {
            Thread.UncaughtExceptionHandler dflt = Thread.getDefaultUncaughtExceptionHandler();
            if (dflt != null) {
                dflt.uncaughtException(t, e);
            } else {
                t.getThreadGroup().uncaughtException(t, e);
            }
        }
    }

    // VarHandle mechanics
    private static final VarHandle STATE;
    private static final VarHandle SECTION_NAME;
    private static final VarHandle RESULT;
    private static final VarHandle REGISTRATIONS;
    private static final VarHandle CLOSE_FAILURES;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(Task.class, "state", int.class);
            SECTION_NAME = l.findVarHandle(Task.class, "sectionName", String.class);
            RESULT = l.findVarHandle(Task.class, "result", Object.class);
            REGISTRATIONS = l.findVarHandle(Task.class, "registrations", Set.class);
            CLOSE_FAILURES = l.findVarHandle(Task.class, "closeFailures", Queue.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}

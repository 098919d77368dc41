package dev.weft;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;

/**
 * A subtask: its state machine and the {@link TaskScope.Subtask} view users hold. The thread runs a
 * separate {@link Body}, so the object users hold has no {@code run()} that a foreign thread could
 * call; the task itself is the thread's uncaught-exception handler, which is how the thread finds
 * it ({@link #of}).
 *
 * <h2>State</h2>
 *
 * One {@code volatile int state} packs the lifecycle, the cancellation request, the
 * interrupt-in-flight flag, two progress flags and the critical-section depth:
 * <pre>
 * bits 0-1  lifecycle: RUNNING, SUCCESS, FAILED, CANCELLED
 * bit  2    CANCEL_REQUESTED
 * bit  3    INTERRUPTING          a canceller is between its marking CAS and the end of interrupt()
 * bit  4    STARTED               a thread factory's thread entered the body (set once, by that
 *                                 thread; Weft's own threads, which cannot run twice, skip it)
 * bit  5    LAUNCHED              the scope started the thread (Weft's own threads: from the
 *                                 constructor on, since only the scope can start them)
 * bit  6    FINISHED              the thread ran its last Weft-invoked user code (see below)
 * bits 8-23  critical-section depth
 * bits 24-30 closers: onCancel closes of this task's resources in progress
 * </pre>
 * Transitions, each a single CAS (or atomic add) on {@code state}:
 * <pre>
 * RUNNING             -> RUNNING | CANCEL_REQUESTED                 cancel, while depth &gt; 0 (deferred)
 * RUNNING             -> RUNNING | CANCEL_REQUESTED | INTERRUPTING  cancel, while depth == 0
 * ... | INTERRUPTING  -> ... (INTERRUPTING cleared)                 that canceller, after interrupt() returned
 *                                                                   (for a subtask that opened a scope: after
 *                                                                   that scope's subtasks were cancelled)
 * ...                 -> ... | LAUNCHED                             owner, just before it starts a factory's thread
 * ...                 -> ... | STARTED                              factory's task thread, on entering run, once
 * depth d             -> depth d + 1                                task thread enters a section; only while
 *                                                                   INTERRUPTING is clear and no close is in
 *                                                                   progress (it waits otherwise)
 * closers c           -> closers c + 1                              a closer, before closing one resource; only
 *                                                                   at depth 0 (it defers to the section's end
 *                                                                   otherwise)
 * closers c           -> closers c - 1                              that closer, after the resource's close()
 * depth d             -> depth d - 1                                task thread leaves a section
 * RUNNING (+ any)     -> SUCCESS | FAILED | CANCELLED               task thread, once, on completion (or the
 *                                                                   owner for a task that never started)
 * terminal            -> terminal | FINISHED                        task thread (or whoever completed it), once,
 *                                                                   after the joiner's onComplete returned
 * </pre>
 * A task is <em>finished</em> when its thread ran its last Weft-invoked user code, the joiner's
 * {@code onComplete}, so that it is no longer a straggler; the scope's {@code live} decrement
 * follows. The flags live in the state word, not in fields of their own, so that the object every
 * fork allocates stays at 48 bytes (see docs/design-notes.md).
 * Why it is race-free:
 * <ul>
 *   <li><b>No interrupt inside a section.</b> Weft interrupts a task only between setting
 *       INTERRUPTING, in a CAS that saw depth 0, and clearing it. Entering a section is a CAS that
 *       requires INTERRUPTING clear, so an entry either happens before that CAS (and the canceller
 *       sees depth &gt; 0 and does not interrupt) or after {@code interrupt()} returned, when the
 *       interrupt status is already set: the entry then clears it, because CANCEL_REQUESTED is
 *       set. The window holds only Weft's own bounded work, never user code or a close:
 *       {@code interrupt()} (or {@code unpark} in a scope without interrupts) and the hand-off of
 *       the task's onCancel resources to a closer thread (a queue insertion: the closes run on
 *       the closer, outside the window), preceded, for a subtask that opened a scope, by the
 *       marking and interrupting of that scope's subtasks (leaves first, see {@link Canceller}).
 *       So a waiting entry never waits for user code.</li>
 *   <li><b>No lost cancellation at exit.</b> A cancel that sees depth &gt; 0 sets only
 *       CANCEL_REQUESTED; leaving the outermost section decrements the depth first and then reads
 *       CANCEL_REQUESTED, delivering it. A cancel after the decrement sees depth 0 and delivers it
 *       itself. Either way it is delivered; delivering twice is harmless, and resources are closed
 *       once ({@link CancelRegistration}).</li>
 *   <li><b>Cancel vs completion.</b> Completion is one CAS from RUNNING that reads
 *       CANCEL_REQUESTED in the same word: a cancel that lands first makes an interrupt-caused
 *       exception CANCELLED; a cancel that lands after sees a terminal state and does nothing. A
 *       completion that lands inside a canceller's window waits the window out, as
 *       {@code FutureTask} does, and then clears the interrupt it was sent, so the joiner's code
 *       never runs with Weft's interrupt pending.</li>
 * </ul>
 */
final class Task extends Context implements TaskScope.Subtask<Object>, Thread.UncaughtExceptionHandler {

    static final int RUNNING = 0;
    static final int SUCCESS = 1;
    static final int FAILED = 2;
    static final int CANCELLED = 3;
    static final int LIFECYCLE = 3;
    static final int CANCEL_REQUESTED = 1 << 2;
    static final int INTERRUPTING = 1 << 3;
    static final int STARTED = 1 << 4;
    static final int LAUNCHED = 1 << 5;
    static final int FINISHED = 1 << 6;
    static final int DEPTH_SHIFT = 8;
    static final int DEPTH_UNIT = 1 << DEPTH_SHIFT;
    static final int DEPTH_MASK = 0x00FFFF00;
    static final int CLOSER_UNIT = 1 << 24;
    static final int CLOSER_MASK = 0x7F000000;

    /**
     * Marks a subtask that was cancelled before it ran: the outcome {@link #enter} returns instead
     * of the body, and the result it then has, replaced by a CancelledException on first read.
     */
    private static final Object NEVER_RAN = new Object();

    /** The scope this subtask belongs to. Final. */
    final Flock flock;

    /** Index in the scope, from 1. Final. */
    final int index;

    /** {@link System#nanoTime()} when forked, for ages. Final. */
    final long forkNanos;

    /** The thread. Written by the owner before the task is published; read by any thread. */
    Thread thread;

    /** See the class comment. Any thread, by CAS. */
    private volatile int state;

    /**
     * Before the body runs, the body: a {@link Callable}, else a {@link Runnable} (see
     * {@link #Task}); then null while it runs; then the value, the exception, or NEVER_RAN. One
     * field, since the body and the outcome are never needed at once. The body is written by the
     * owner before the thread starts and cleared by the task thread; the outcome is written by the
     * completing thread before the completing CAS and read after reading state.
     */
    private Object result;

    /**
     * The name given to fork, or the subtask's rarely used state ({@link Rare}, which then holds the
     * name), or null: one field for both, since most subtasks have neither. The name is written by
     * the owner before the task is published; a {@link Rare} replaces it by CAS, carrying the name
     * over, from any thread. Read it through {@link #nameOrNull()} and {@link #rareOrNull()}.
     */
    private volatile Object rare;

    /**
     * A subtask of {@code flock}, not started. A Runnable body that is also a Callable is wrapped,
     * so that the body's type alone says how to run it and the task needs no field for it.
     *
     * @param runnable whether {@code body} was forked as a Runnable
     */
    Task(Flock flock, int index, String name, Object body, boolean runnable) {
        this.flock = flock;
        this.index = index;
        if (name != null) {
            RARE.set(this, name);       // before publication: a plain write
        }
        this.result = runnable && body instanceof Callable<?> ? Executors.callable((Runnable) body) : body;
        this.state = flock.usesFactory() ? RUNNING : RUNNING | LAUNCHED;   // before publication: a plain write
        this.forkNanos = System.nanoTime();
    }

    /**
     * Marks a factory's thread as started by the scope, just before {@code Thread.start()}: its
     * {@link Body} runs the subtask only then (a thread factory may start the thread itself, before
     * the scope registered the subtask). Weft's own threads are marked from the constructor on.
     * Owner only.
     */
    void launch() {
        if ((state & LAUNCHED) == 0) {
            STATE.getAndBitwiseOr(this, LAUNCHED);
        }
    }

    /** Whether the scope started, or will start, the thread (see {@link #launch}). */
    boolean isLaunched() {
        return (state & LAUNCHED) != 0;
    }

    /** Runs {@code body}, a Callable or else a Runnable (see {@link #Task}): its value, or null. */
    static Object invoke(Object body) throws Exception {
        if (body instanceof Callable<?> c) {
            return c.call();
        }
        ((Runnable) body).run();
        return null;
    }

    /**
     * The subtask's rarely used state, out of line so that the object every fork allocates stays
     * small (48 bytes with compressed pointers): it is created by the fork of a scope with context
     * propagators or a thread factory, or by the first {@code onCancel} registration, critical
     * section or {@link #cancel()}. It keeps the subtask's name, which it replaces in
     * {@link Task#rare}.
     */
    static final class Rare {

        /** The name given to fork, or null. Final. */
        final String name;

        Rare(String name) {
            this.name = name;
        }

        /**
         * The context captured at fork by the scope's propagators, or null. Written by the owner
         * before the thread starts; read and cleared by the task thread.
         */
        ContextPropagator.Snapshot[] snapshots;

        /**
         * {@link System#nanoTime()} when {@link Task#cancel()} reached the task, or 0. Written by that
         * canceller before its marking CAS; read after reading CANCEL_REQUESTED. A task cancelled
         * with its scope has no time of its own: its scope's {@link Reason} has it.
         */
        long cancelNanos;

        /** Name of the innermost open critical section, or null. Written by the task thread; read by diagnostics. */
        volatile String sectionName;

        /** Registered onCancel resources, created on first registration. Any thread. */
        volatile Set<CancelRegistration> registrations;

        /**
         * The uncaught-exception handler a thread factory installed on the task's thread, which the
         * task replaces and delegates to ({@link Task#uncaughtException}); null for Weft's own
         * threads. Written by the owner before the thread starts; read by that thread.
         */
        Thread.UncaughtExceptionHandler factoryHandler;

        /** Whether a cancellation closed one of the resources. Written by closers, read by the task thread. */
        volatile boolean resourceClosed;
    }

    /** The rare state, created if needed. Any thread. */
    Rare rare() {
        Object o = rare;
        while (!(o instanceof Rare r)) {
            Rare created = new Rare((String) o);        // o is the name or null, which never changes
            Object witness = RARE.compareAndExchange(this, o, created);
            if (witness == o) {
                return created;
            }
            o = witness;                                // another thread created it
        }
        return r;
    }

    /** The rare state, or null if none was created yet. Any thread. */
    Rare rareOrNull() {
        return rare instanceof Rare r ? r : null;
    }

    /** The name given to fork, or null. Any thread. */
    String nameOrNull() {
        Object o = rare;
        return o instanceof Rare r ? r.name : (String) o;
    }

    /** The context snapshots to install. Owner only, before the thread starts. */
    void snapshots(ContextPropagator.Snapshot[] snapshots) {
        rare().snapshots = snapshots;
    }

    /** The registered onCancel resources, or null if none was ever registered. */
    private Set<CancelRegistration> registrations() {
        Rare r = rareOrNull();
        return r == null ? null : r.registrations;
    }

    // ---------------------------------------------------------------------------------------
    // Running

    /**
     * The subtask whose thread {@code t}, the current thread, is; null if it is none. The thread's
     * uncaught-exception-handler slot holds its task (see {@link #uncaughtException}): a field read,
     * an exact type test, and a check that the task's thread is this one (a thread factory may copy
     * a subtask's handler onto another thread).
     */
    static Task of(Thread t) {
        return t.getUncaughtExceptionHandler() instanceof Task k && k.thread == t ? k : null;
    }

    /**
     * What the subtask's thread runs: a separate object, so that the {@link TaskScope.Subtask}
     * users hold has no {@code run()} a foreign thread could call.
     *
     * <p>A thread Weft builds itself runs the one shared {@link #SHARED} body, which holds no task
     * and finds it in the thread's uncaught-exception-handler slot (set by the builder, before
     * the thread exists for anyone else): no object per subtask. A thread factory's thread runs a
     * body of its own ({@code task} set, 16 bytes), since a factory may run the Runnable it is
     * given on another thread, or twice, and the task must then still be known to say so.
     */
    static final class Body implements Runnable {

        /** The body every thread Weft builds itself runs; it finds its task by {@link #starting}. */
        static final Body SHARED = new Body(null);

        /** The task, or null for {@link #SHARED}. Final. */
        final Task task;

        Body(Task task) {
            this.task = task;
        }

        /**
         * The task the current thread, which runs {@link #SHARED}, was built for, found as
         * {@link Context#current()} finds it: in the handler slot, or, if code holding the
         * unstarted thread replaced the handler, by one search of the live scope tree.
         *
         * @throws IllegalStateException if the current thread is not a subtask's thread (only a
         *         caller that reached this body by reflection can see it)
         */
        private static Task starting() {
            if (Context.current() instanceof Task t) {
                return t;
            }
            throw new IllegalStateException("thread '" + Names.thread(Thread.currentThread())
                    + "' is not a subtask's thread; only a thread a scope forked runs a subtask's body");
        }

        /**
         * Runs the subtask. This is the only Weft frame under the user's code: the checks before
         * the body ({@link Task#enter}) and the bookkeeping after it ({@link Task#exit}) are calls
         * that have returned or not yet started while the body runs, so a parked subtask's stack
         * holds one small Weft frame. A parked virtual thread's frames are heap (its stack chunk),
         * and each frame below the top two costs a thaw of its own when the thread resumes after
         * a collection: see docs/design-notes.md.
         */
        @Override
        public void run() {
            Task t = task;
            if (t == null) {
                t = starting();
            }
            Object b = t.enter();
            if (b == null) {
                return;         // started by a thread factory, not by the scope, which rejected it
            }
            if (b == NEVER_RAN) {
                t.exit(false, null, null);
                return;
            }
            // While the body runs, only t is live in this frame.
            Object value = null;
            Throwable ex = null;
            if (b instanceof ContextChain c) {
                c.run();        // install the context, run the body, restore
                value = c.value();
                ex = c.outcome();
            } else {
                try {
                    // Task.invoke, written out: in interpreted code a call would be one more frame under the body.
                    if (b instanceof Callable<?> callable) {
                        value = callable.call();
                    } else {
                        ((Runnable) b).run();
                    }
                } catch (Throwable e) {
                    ex = e;
                }
            }
            t.exit(true, value, ex);
        }
    }

    /**
     * The subtask's thread's uncaught-exception handler, which is this task: the slot is where
     * {@link #of} finds the task, and an exception that kills a thread factory's thread before it
     * ran the subtask fails the subtask instead of leaving it running for ever. Any other exception
     * goes to the handler the thread factory installed (kept in {@link Rare#factoryHandler}), else
     * to the default handler, else to the thread's group, as the JDK would have sent it.
     *
     * @param t the thread that ended
     * @param e the exception that ended it
     */
    @Override
    public void uncaughtException(Thread t, Throwable e) {
        if (t == thread && Thread.currentThread() == t && flock.usesFactory()
                && (state & (STARTED | LAUNCHED)) == LAUNCHED) {
            // The factory's thread died before it ran the subtask.
            failUnstarted("the thread factory of scope '" + Names.escape(flock.name) + "' created thread '"
                    + Names.thread(t) + "' for subtask " + label() + ", and it ended with " + e
                    + " before running the subtask; a thread factory's thread must run the Runnable it is given", e);
            return;
        }
        Rare rr = rareOrNull();
        Thread.UncaughtExceptionHandler h = rr != null ? rr.factoryHandler : null;
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

    /**
     * Before the body, on the subtask's thread: claims the run and returns what {@link Body#run}
     * runs: the body, a {@link ContextChain} around it when the scope has context propagators,
     * {@link #NEVER_RAN} when the task was cancelled before it started, or null when the scope
     * never started this thread (a thread factory that started it itself).
     *
     * @throws WrongThreadException if called on another thread than the task's
     * @throws IllegalStateException if the task's thread runs its Runnable a second time
     */
    private Object enter() {
        if ((state & LAUNCHED) == 0) {
            return null;
        }
        if (Thread.currentThread() != thread) {
            throw new WrongThreadException("subtask " + label() + " runs only on the thread its scope created for it ('"
                    + Names.thread(thread) + "'), not on '" + Names.thread(Thread.currentThread())
                    + "'; a thread factory must return a new, unstarted thread that runs the given Runnable");
        }
        int s;
        if (flock.usesFactory()) {
            // A factory's thread may hand the Runnable to other code: it runs once, claimed by CAS.
            do {
                s = state;
                if ((s & STARTED) != 0 || (s & LIFECYCLE) != RUNNING) {
                    throw new IllegalStateException("subtask " + label() + " was already run; a thread runs its Runnable once");
                }
            } while (!STATE.compareAndSet(this, s, s | STARTED));
        } else {
            // Weft's own thread: only this thread gets past the check above. It runs the shared
            // Body, which user code reaches only by reflection, and it cleared the body when it
            // first ran, and later completed the task: a plain read and the lifecycle tell a second
            // run apart. Kept as a defence.
            s = state;
            if (result == null || (s & LIFECYCLE) != RUNNING) {
                throw new IllegalStateException("subtask " + label() + " is already running on this thread; a thread runs its Runnable once");
            }
        }
        Object b = result;
        result = null;
        return prepared(b, s);
    }

    /** What {@link #enter} returns for body {@code b}, claimed at state {@code s}: the context chain, the body, or NEVER_RAN. */
    private Object prepared(Object b, int s) {
        Rare rr = rareOrNull();
        ContextPropagator.Snapshot[] snaps = rr != null ? rr.snapshots : null;
        if (snaps != null) {
            rr.snapshots = null;        // installed by the chain, or (cancelled before it ran) just dropped
        }
        if ((s & CANCEL_REQUESTED) != 0) {
            return NEVER_RAN;
        }
        return snaps == null ? b : new ContextChain(this, snaps, b);
    }

    /**
     * After the body, on the subtask's thread: closes the scopes the body left open, completes the
     * task with the body's outcome ({@code ran} is false if it was cancelled before it started)
     * and tells the scope.
     */
    private void exit(boolean ran, Object value, Throwable ex) {
        try {
            if (outermost != null) {
                ex = closeLeftoverScopes(ex);
            }
        } catch (Throwable t) {
            ex = addSuppressed(ex, t);
        }
        if (ex != null && !cancelled(state) && flock.effectiveDeadline != null) {
            // Failing after the deadline passed, before the timer fired (the failure is often the
            // deadline itself, seen by a call that carried it): the deadline goes first, so the
            // scope reports its deadline, and this subtask ends cancelled by it.
            flock.fireOverdueDeadline();
        }
        if (registrations() != null && cancelled(state)) {
            // The task saw its scope cancelled (isRequested() reads the scope's reason) and ended
            // before the canceller marked it: resources it left registered are still closed once,
            // by a closer thread, as the canceller would have done.
            handOffCloses();
        }
        if (complete(ran, value, ex)) {
            flock.taskDone(this, true);
        }
    }

    /**
     * Fails a task whose thread will never run it (the thread died first, or ended without running
     * it). Any thread; returns whether this call completed it.
     */
    boolean failUnstarted(String message, Throwable cause) {
        int s;
        do {
            s = state;
            if ((s & STARTED) != 0 || (s & LIFECYCLE) != RUNNING) {
                return false;
            }
        } while (!STATE.compareAndSet(this, s, s | STARTED));
        result = null;
        if (complete(true, null, new IllegalStateException(message, cause))) {
            flock.taskDone(this, true);
            return true;
        }
        return false;
    }

    /** The task returned with scopes still open: close them (innermost first) and report it. */
    private Throwable closeLeftoverScopes(Throwable ex) {
        StructureViolationException violation = closeScopesAbove(null, () -> 0L,
                f -> "subtask " + label() + " returned while scope '" + Names.escape(f.name)
                        + "' that it opened was still open; Weft closed it. Open scopes with try-with-resources.");
        return violation == null ? ex : addSuppressed(ex, violation);
    }

    static Throwable addSuppressed(Throwable ex, Throwable extra) {
        if (ex == null) {
            return extra;
        }
        if (ex != extra) {
            ex.addSuppressed(extra);
        }
        return ex;
    }

    /**
     * The single completing transition, from RUNNING; returns false if the task had already
     * completed. Then, on the task's own thread, waits out a canceller's window and clears the
     * interrupt Weft sent, so that joiner code runs without it.
     */
    private boolean complete(boolean ran, Object value, Throwable ex) {
        int s;
        for (;;) {
            s = state;
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
            // Keep CANCEL_REQUESTED, INTERRUPTING (its canceller clears it), STARTED, LAUNCHED and the closers; drop the depth.
            int next = (s & (CANCEL_REQUESTED | INTERRUPTING | STARTED | LAUNCHED | CLOSER_MASK)) | term;
            if (STATE.compareAndSet(this, s, next)) {
                break;
            }
        }
        if (Thread.currentThread() == thread && (s & CANCEL_REQUESTED | state & CANCEL_REQUESTED) != 0) {
            while ((state & INTERRUPTING) != 0) {
                Thread.yield();         // the window holds one interrupt() call: as FutureTask does
            }
            if (flock.interrupts) {
                Thread.interrupted();
            }
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
        Rare rr = rareOrNull();
        boolean closed = (rr != null && rr.resourceClosed)
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
        state = CANCEL_REQUESTED | CANCELLED | FINISHED;
    }

    /** The thread could not be started: the subtask failed with {@code failure}. Owner only. */
    boolean failToStart(Throwable failure) {
        result = null;
        return complete(true, null, failure);
    }

    /**
     * The task's thread ran its last Weft-invoked user code. Task thread (or whoever completed it),
     * once, just before the scope's {@code live} decrement. An atomic OR: closers may be changing
     * their count in the same word.
     */
    void markFinished() {
        STATE.getAndBitwiseOr(this, FINISHED);
    }

    boolean isFinished() {
        return (state & FINISHED) != 0;
    }

    // ---------------------------------------------------------------------------------------
    // Cancellation (see Canceller for the cascade)

    @Override
    public boolean cancel() {
        return Canceller.cancelSubtask(this);
    }

    /**
     * The marking CAS: sets CANCEL_REQUESTED, and INTERRUPTING when not inside a section. Returns
     * -1 if the task was already done or cancelled, else 1 if the caller must deliver (interrupt,
     * clear INTERRUPTING, hand off closes), 0 if a section defers delivery. Any thread.
     */
    int mark() {
        int s;
        boolean deliver;
        do {
            s = state;
            if (!markable(s)) {
                return -1;
            }
            deliver = (s & DEPTH_MASK) == 0;
        } while (!STATE.compareAndSet(this, s, s | CANCEL_REQUESTED | (deliver ? INTERRUPTING : 0)));
        return deliver ? 1 : 0;
    }

    /**
     * Delivers a cancellation that was marked with INTERRUPTING: interrupts the thread (or, in a
     * scope without interrupts, unparks it, which wakes {@link Cancellation#await}), hands the
     * onCancel resources over to a closer thread, then clears INTERRUPTING. Runs no user code.
     *
     * <p>The hand-off comes before the clear: a task that completes meanwhile waits for the clear
     * before it finishes, so the close job counts as live in the scope before the task stops
     * counting, and {@code close()} cannot return in between. (Handed off after the clear, a job
     * could start after the scope's count reached 0 and {@code close()} had returned; found by the
     * randomised stress test.)
     */
    void deliver() {
        try {
            if (flock.interrupts) {
                thread.interrupt();
            } else {
                java.util.concurrent.locks.LockSupport.unpark(thread);
            }
            handOffCloses();
        } finally {
            STATE.getAndAdd(this, -INTERRUPTING);
        }
    }

    /** Hands the registered resources to a closer thread, if there are any. Any thread; runs no user code. */
    void handOffCloses() {
        Set<CancelRegistration> set = registrations();
        if (set != null && !set.isEmpty()) {
            new CloseJob(this).submit();
        }
    }

    @Override
    Reason cancellationReasonForScopes() {
        return (state & CANCEL_REQUESTED) != 0 ? Reason.fromTask(this, flock.reason) : null;
    }

    /** Whether a cancel could still mark this task ({@link #mark}): running and not yet cancelled. */
    boolean isMarkable() {
        return markable(state);
    }

    private static boolean markable(int s) {
        return (s & LIFECYCLE) == RUNNING && (s & CANCEL_REQUESTED) == 0;
    }

    boolean isCancelRequested() {
        return (state & CANCEL_REQUESTED) != 0;
    }


    /**
     * Time since the cancellation reached this task, or null if it was not cancelled: since its own
     * {@link #cancel()}, else since its scope's cancellation.
     */
    Duration sinceCancel(long now) {
        if ((state & CANCEL_REQUESTED) != 0) {
            Rare rr = rareOrNull();
            if (rr != null && rr.cancelNanos != 0) {
                return Duration.ofNanos(Math.max(0, now - rr.cancelNanos));
            }
        }
        Reason r = flock.reason;
        return r != null ? Duration.ofNanos(Math.max(0, now - r.nanos())) : null;
    }

    /**
     * Whether this subtask counts as cancelled, given its state word {@code s}: marked, or its scope
     * cancelled and the canceller not here yet (it marks the subtasks one by one). So once
     * {@code scope.isCancelled()} reads true, so does {@link Cancellation#isRequested()} in every
     * subtask of the scope, and a cancellation-caused exception ends the subtask CANCELLED.
     */
    private boolean cancelled(int s) {
        return cancelled(s, flock);
    }

    /** {@link #cancelled(int)} for a task of scope {@code f}. */
    private static boolean cancelled(int s, Flock f) {
        return (s & CANCEL_REQUESTED) != 0 || f.reason != null;
    }

    /** Cancelled ({@link #cancelled}) and not inside a critical section. */
    @Override
    boolean cancellationRequested() {
        return requested(state, flock);
    }

    /** {@link #cancellationRequested()} for state word {@code s} of a task of scope {@code f}. */
    static boolean requested(int s, Flock f) {
        return (s & DEPTH_MASK) == 0 && cancelled(s, f);
    }

    @Override
    CancelledException newCancelledException() {
        Reason r = flock.reason;
        String why = r != null ? "scope '" + Names.escape(flock.name) + "' " + r.text() : "it was cancelled by Subtask.cancel()";
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

    @Override
    boolean interruptsEnabled() {
        return flock.interrupts;
    }

    // ---------------------------------------------------------------------------------------
    // Critical sections (task thread only)

    @Override
    int criticalDepth() {
        return (state & DEPTH_MASK) >>> DEPTH_SHIFT;
    }

    @Override
    CriticalSection enterCritical(String sectionName) {
        int s;
        for (;;) {
            s = state;
            if ((s & INTERRUPTING) != 0) {
                // A canceller is inside interrupt(): wait for the interrupt to land, so that it can
                // be cleared below instead of arriving inside. The window holds no user code.
                Thread.yield();
                continue;
            }
            if ((s & CLOSER_MASK) != 0) {
                // One of this task's resources is being closed: the section starts after it.
                // Timed: the closer does not unpark; a close takes microseconds, or is a straggler.
                java.util.concurrent.locks.LockSupport.parkNanos(this, Closers.STALL_NANOS);
                continue;
            }
            if ((s & DEPTH_MASK) == DEPTH_MASK) {
                throw new IllegalStateException("more than " + (DEPTH_MASK >>> DEPTH_SHIFT)
                        + " nested critical sections in subtask " + label() + "; close sections when they end");
            }
            if (STATE.compareAndSet(this, s, s + DEPTH_UNIT)) {
                break;
            }
        }
        int depth = ((s & DEPTH_MASK) >>> DEPTH_SHIFT) + 1;
        if (depth == 1 && (s & CANCEL_REQUESTED) != 0 && flock.interrupts) {
            Thread.interrupted();      // entering while cancelled: the body runs undisturbed
        }
        Rare rr = rare();
        String enclosing = rr.sectionName;
        SECTION_NAME.setRelease(rr, sectionName);       // read by diagnostics only: no fence needed
        return new CriticalSection(this, depth, sectionName, enclosing);
    }

    @Override
    void exitCritical(CriticalSection section) {
        section.checkInnermost(criticalDepth());
        SECTION_NAME.setRelease(rareOrNull(), section.enclosingName);   // rare exists: the section's entry made it
        int s = (int) STATE.getAndAdd(this, -DEPTH_UNIT) - DEPTH_UNIT;
        int newDepth = (s & DEPTH_MASK) >>> DEPTH_SHIFT;
        afterSectionExit(newDepth);
        if (newDepth == 0 && (state & CANCEL_REQUESTED) != 0) {
            // Deliver what the section held back. (A canceller racing with the decrement may deliver
            // too; both are idempotent.)
            if (flock.interrupts) {
                Thread.currentThread().interrupt();
            }
            handOffCloses();
            Reason r = flock.reason;
            if (r != null) {
                Events.criticalSectionHeld(this, section.name(), System.nanoTime() - r.nanos());
            }
        }
    }

    String sectionName() {
        Rare rr = rareOrNull();
        return rr == null ? null : rr.sectionName;
    }

    // ---------------------------------------------------------------------------------------
    // onCancel resources

    CancelRegistration registerOnCancel(AutoCloseable resource) {
        CancelRegistration r = new CancelRegistration(this, resource);
        Rare rr = rare();
        Set<CancelRegistration> set = rr.registrations;
        if (set == null) {
            set = ConcurrentHashMap.newKeySet();
            if (!REGISTRATIONS.compareAndSet(rr, null, set)) {
                set = rr.registrations;
            }
        }
        set.add(r);                           // then read state: pairs with the canceller's mark, then its hand-off
        if ((state & CANCEL_REQUESTED) != 0) {
            closeGuarded(r);                  // already cancelled: closed at once, on this (the task's) thread
        }
        return r;
    }

    /**
     * Closes {@code r} by cancellation unless the task is inside a critical section, counting the
     * close in the state word so that no section starts during it. Returns false if a section
     * deferred it (the section's exit hands the resources off again). Closer threads, or the task.
     */
    boolean closeGuarded(CancelRegistration r) {
        int s;
        do {
            s = state;
            if ((s & DEPTH_MASK) != 0) {
                return false;
            }
        } while (!STATE.compareAndSet(this, s, s + CLOSER_UNIT));
        try {
            r.closeByCancellation();
        } finally {
            STATE.getAndAdd(this, -CLOSER_UNIT);
        }
        return true;
    }

    void unregister(CancelRegistration r) {
        Set<CancelRegistration> set = registrations();
        if (set != null) {
            set.remove(r);
        }
    }

    /** The registrations now, in no particular order. */
    List<CancelRegistration> registrationsSnapshot() {
        Set<CancelRegistration> set = registrations();
        return set == null ? List.of() : List.copyOf(set);
    }

    void markResourceClosed() {
        rare().resourceClosed = true;
    }

    // ---------------------------------------------------------------------------------------
    // Subtask view

    @Override
    public String name() {
        String name = nameOrNull();
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

    boolean isStarted() {
        return (state & STARTED) != 0;
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

    /** {@code #3 'reader' of scope 'ingest'}, with names escaped. */
    String label() {
        String name = nameOrNull();
        return "#" + index + (name != null ? " '" + Names.escape(name) + "'" : "") + " of scope '" + Names.escape(flock.name) + "'";
    }

    @Override
    public String toString() {
        return Dumps.describe(this);
    }

    // VarHandle mechanics
    private static final VarHandle STATE;
    private static final VarHandle RESULT;
    private static final VarHandle RARE;
    private static final VarHandle SECTION_NAME;      // Rare.sectionName
    private static final VarHandle REGISTRATIONS;     // Rare.registrations

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(Task.class, "state", int.class);
            RESULT = l.findVarHandle(Task.class, "result", Object.class);
            RARE = l.findVarHandle(Task.class, "rare", Object.class);
            SECTION_NAME = l.findVarHandle(Rare.class, "sectionName", String.class);
            REGISTRATIONS = l.findVarHandle(Rare.class, "registrations", Set.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}

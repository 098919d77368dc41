package dev.weft;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The state of a scope and its lifecycle on the owner thread: fork, join and close. The public
 * {@link TaskScopeImpl} is a thin shell around it, so that the shell can become unreachable (and be
 * reported as leaked) while the flock is still referenced by its owner thread, its subtasks and the
 * registry. The other jobs live apart: {@link Canceller} delivers cancellation,
 * {@link FailureLedger} delivers failures, {@link Stragglers} describes what is still running,
 * {@link TreeWalk} walks the scope tree.
 *
 * <h2>Lifecycle</h2>
 * <pre>
 * phase:  OPEN -> JOINED -> CLOSED         owner thread only (join, close)
 *         OPEN -> CLOSED
 * reason: null -> Reason                   any thread, one CAS (markCancelled); never reset
 * </pre>
 * {@code phase} and {@code reason} are independent: a scope may be cancelled in any phase, and
 * cancelling a joined scope still cancels the scopes nested in it.
 *
 * <h2>Subtasks</h2>
 * Forked subtasks are appended to {@link #tasks}, an array only the owner writes (forks come from
 * the owner only). When it is full the owner copies the unfinished subtasks into a new array, so a
 * long-lived scope does not keep finished subtasks. Cancellers read the array without locks. A
 * fork racing with a cancel is resolved Dekker-style, with one full fence on each side:
 * <pre>
 * owner (fork)                                 canceller
 * store the subtask in its slot (release)      CAS reason: null -> r        (volatile)
 * live += 1                      (volatile)    read live                    (volatile)
 * read reason                    (volatile)    read the array and its slots (acquire)
 * </pre>
 * The volatile accesses are totally ordered. If the owner's read of {@code reason} comes first, it
 * sees null and the canceller's read of {@code live} comes after the owner's increment, which
 * therefore synchronizes with it: the canceller sees the subtask in its slot and cancels it. If the
 * CAS comes first, the owner sees the reason and cancels the subtask itself. If the canceller
 * reads {@code live == 0}, every subtask whose increment came before that read has finished, and
 * every later fork sees the reason, so the canceller may skip the array. Either way a subtask is
 * cancelled or finished. (The slot store needs no fence of its own: the increment that follows it
 * is the owner's fence.)
 *
 * <h2>What is live</h2>
 * {@link #live} counts what {@code close()} must wait for: subtasks forked and not yet
 * {@linkplain Task#markFinished finished} (a subtask finishes after the joiner's {@code onComplete}
 * returned, so a thread blocked in {@code onComplete} is waited for and reported), and
 * {@link CloseJob}s handed off and not yet done. {@code live == 0} means every outcome is recorded
 * and no Weft-invoked user code of this scope is running.
 */
final class Flock {

    static final int OPEN = 0;
    static final int JOINED = 1;
    static final int CLOSED = 2;

    private static final int INITIAL_CAPACITY = 8;

    /**
     * While the owner waits on a scope whose threads come from a user's thread factory, how often
     * it checks that those threads are still alive: a factory's thread may end without running its
     * subtask, and nothing else would notice. Weft's own virtual threads always run their subtask,
     * so scopes without a factory never poll.
     */
    private static final long FACTORY_LIVENESS_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private static final AtomicLong IDS = new AtomicLong();

    // ---- set in the constructor (safe publication through the final fields and the owner's push)

    final long id;
    final String name;
    final Thread owner;
    final Context ownerContext;
    /** The scope the owner opened just before this one and has not closed, or null. */
    final Flock enclosing;
    /** Whether this is a root: opened by a thread that is not a subtask, outside any other scope. */
    final boolean root;
    private final TaskScope.Joiner<Object, Object, ?> joiner;
    /** Null for Weft's named virtual threads. */
    private final ThreadFactory factory;
    final long graceNanos;
    final Duration grace;
    /** This scope's own deadline, or null. */
    final Instant deadline;
    /** The earliest of this scope's deadline and those that apply to the scope enclosing it, or null. */
    final Instant effectiveDeadline;
    /** Whether cancellation interrupts the subtasks' threads (false: cooperative, it only marks and unparks). */
    final boolean interrupts;
    final long openedNanos;
    /** Where the scope was opened, when leak tracing is on; else null. */
    final Throwable openSite;
    /** The failures of this scope's user code. */
    final FailureLedger ledger;
    /**
     * The context propagators of this scope (inherited, then added; see {@link Config#propagators}),
     * or null when there are none, so that fork pays only a null check. Never modified; may be
     * shared with the enclosing scope.
     */
    final ContextPropagator[] propagators;

    // ---- mutable state; who writes it, who reads it

    /** The owner thread's critical-section depth when this scope was opened, lowered when that section ends. Owner writes; cancellers read. */
    volatile int openedAtDepth;
    /** The scope the owner opened inside this one, or null. Owner writes; cancellers read. */
    volatile Flock inner;
    /** OPEN, JOINED, CLOSED. Owner writes; anyone reads. */
    volatile int phase;
    /** Why the scope was cancelled, or null. CAS by any canceller; anyone reads. */
    volatile Reason reason;
    /** The subtasks, in fork order, packed from index 0. Owner writes (array and slots); cancellers read. */
    private volatile Task[] tasks = new Task[INITIAL_CAPACITY];
    /** Number of slots used in {@link #tasks}. Owner only. */
    private int used;
    /** Number of forks so far, for indexes. Owner only. */
    private int forkCount;
    /** Whether the owner forked since the scope opened. Owner only. */
    private boolean forked;
    /** Whether join was called. Owner only. */
    private boolean joinStarted;
    /** See "What is live" above. Owner increments at fork; subtask and closer threads decrement. */
    private volatile int live;
    /** Subtasks live when the scope was cancelled, for the cancellation event. Written by the cancelling CAS winner. */
    private volatile int liveAtCancel;
    /**
     * When the grace period ends ({@link System#nanoTime()}), once the owner has started waiting for
     * cancelled subtasks (in join or close); 0 before that. One grace period covers both waits.
     * Owner only.
     */
    private long graceEnd;
    /** Whether the owner is parked waiting for {@link #live} or {@link #reason}. Owner writes; subtasks and cancellers read. */
    private volatile boolean waiting;
    /** The onCancel close jobs in flight, created on the first. Closers add and remove; reports read. */
    private volatile Set<CloseJob> closeJobs;
    /** The deadline timer, or null. Owner writes at open; cancelled by close or cancel. */
    private volatile Future<?> timer;
    /** Set (once, by the Cleaner) when the scope became unreachable while open. */
    volatile boolean abandoned;
    /** Set when the scope is closed (or abandoned) with subtasks still running; cleared by the registry when they end. */
    volatile boolean lingering;
    /** Whether {@link Events#scopeCancelled} was reported. CAS, once. */
    private volatile boolean cancelReported;
    /** The straggler report made at close, or null. Owner writes; diagnostics read. */
    volatile List<GracePeriodExceededException.Straggler> stragglers;

    Flock(TaskScope.Joiner<Object, Object, ?> joiner, Config config, Context ctx, Throwable openSite) {
        this.id = IDS.incrementAndGet();
        this.name = config.name() != null ? config.name() : "scope-" + id;
        this.owner = Thread.currentThread();
        this.ownerContext = ctx;
        this.enclosing = ctx.innermost();
        this.root = enclosing == null && !(ctx instanceof Task);
        this.joiner = joiner;
        this.factory = config.threadFactory();
        this.graceNanos = config.graceNanos();
        this.grace = config.grace();
        this.openedNanos = System.nanoTime();
        this.openSite = openSite;
        this.openedAtDepth = ctx.criticalDepth();
        this.ledger = new FailureLedger(name);
        // Context propagators: from the scope enclosing this one in the same thread, else from the
        // scope of the subtask that opens it; a root scope inherits none.
        this.propagators = config.propagators(enclosing != null ? enclosing.propagators
                : ctx instanceof Task t ? t.flock.propagators : null);

        Instant own = config.deadline();
        if (config.timeout() != null) {
            own = plus(Instant.now(), config.timeout());
        }
        this.deadline = own;
        Instant inherited = null;
        boolean shielded;
        boolean inheritedInterrupts;
        if (enclosing != null) {
            inherited = enclosing.effectiveDeadline;
            shielded = openedAtDepth > enclosing.openedAtDepth;
            inheritedInterrupts = enclosing.interrupts;
        } else if (ctx instanceof Task t) {
            inherited = t.flock.effectiveDeadline;
            shielded = openedAtDepth > 0;
            inheritedInterrupts = t.flock.interrupts;
        } else {
            shielded = true;
            inheritedInterrupts = true;
        }
        this.interrupts = config.interrupts() != null ? config.interrupts() : inheritedInterrupts;
        if (shielded || inherited == null) {
            this.effectiveDeadline = own;
        } else {
            this.effectiveDeadline = (own == null || inherited.isBefore(own)) ? inherited : own;
        }
    }

    private static Instant plus(Instant now, Duration d) {
        try {
            return now.plus(d);
        } catch (ArithmeticException | java.time.DateTimeException e) {
            return d.isNegative() ? Instant.MIN : Instant.MAX;
        }
    }

    /** Nanoseconds from now until {@code deadline}, saturated. */
    static long nanosUntil(Instant deadline) {
        try {
            return Duration.between(Instant.now(), deadline).toNanos();
        } catch (ArithmeticException e) {
            return deadline.isBefore(Instant.now()) ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /**
     * Starts the deadline timer, if any. Called once by the owner, after the scope is linked. The
     * timer cancels from its own platform thread, so the deadline fires even when every carrier
     * is busy with CPU-bound subtasks.
     */
    void startTimer() {
        if (deadline == null) {
            return;
        }
        long nanos = nanosUntil(deadline);
        if (nanos <= 0) {
            cancel(Reason.deadline(name, deadline));
        } else if (nanos < Long.MAX_VALUE / 2) {
            timer = Timers.schedule(this::deadlinePassed, nanos);
            if (reason != null) {           // cancelled meanwhile: the timer is not needed
                timer.cancel(false);
            }
        }
    }

    /**
     * Fires the effective deadline now if it has passed and the scope is not cancelled yet, on the
     * scope whose own deadline it is (this one or one above, found by an iterative walk). Called
     * by a subtask that fails after the deadline passed, before the timer thread fired it.
     */
    void fireOverdueDeadline() {
        Instant d = effectiveDeadline;
        if (d == null || reason != null || Instant.now().isBefore(d)) {
            return;
        }
        for (Flock f = this; f != null; ) {
            if (d.equals(f.deadline)) {
                f.deadlinePassed();
                return;
            }
            f = f.enclosing != null ? f.enclosing : f.ownerContext instanceof Task t ? t.flock : null;
        }
    }

    private void deadlinePassed() {
        if (reason == null && phase != CLOSED) {
            cancel(Reason.deadline(name, deadline));
        }
    }

    // ---------------------------------------------------------------------------------------
    // Fork (owner)

    /** Forks {@code body}, a Callable, or a Runnable when {@code runnable}. */
    Task fork(String taskName, Object body, boolean runnable) {
        ensureOwner("fork");
        int ph = phase;
        if (ph != OPEN) {
            throw new IllegalStateException(ph == JOINED
                    ? "scope '" + Names.escape(name) + "' is closed to new subtasks: join() has completed. Fork before join(), or open a new scope."
                    : "scope '" + Names.escape(name) + "' is closed; open a new scope to fork more subtasks");
        }
        int index = ++forkCount;
        Task task = new Task(this, index, taskName, body, runnable);
        if (reason != null) {
            task.cancelBeforeStart();
            forked = true;
            joiner.onFork(task);
            return task;
        }
        ContextPropagator[] cp = propagators;
        if (cp != null) {
            // Capture on the owner, before the thread exists; throws RejectedExecutionException.
            task.snapshots(ContextChain.capture(this, task, cp));
        }
        Thread thread = newThread(task);
        task.thread = thread;
        boolean cancelScope;
        try {
            cancelScope = joiner.onFork(task);
        } catch (Throwable e) {
            task.cancelBeforeStart();
            throw e;
        }
        forked = true;
        if (cancelScope) {
            cancel(Reason.joiner(name));
        }
        if (reason != null) {
            task.cancelBeforeStart();
            return task;
        }
        append(task);
        LIVE.getAndAdd(this, 1);          // the owner's fence for the fork/cancel race: see the class comment
        if (reason != null) {
            Canceller.cancelSubtask(task);
        }
        task.launch();                    // a factory's thread runs its subtask only from here on
        try {
            thread.start();
        } catch (Throwable e) {
            RejectedExecutionException ree = new RejectedExecutionException("scope '" + Names.escape(name)
                    + "' could not start the thread for subtask " + task.name() + ": " + e, e);
            if (task.failToStart(ree)) {
                taskDone(task, false);          // the joiner sees it; the ledger does not: fork throws it
            }
            throw ree;
        }
        return task;
    }

    /** Whether the scope's threads come from a user's thread factory. */
    boolean usesFactory() {
        return factory != null;
    }

    private Thread newThread(Task task) {
        if (factory == null) {
            // The thread is named after its scope ("scope", or "scope:name" for a named subtask), so an
            // unnamed fork shares the scope's name string and allocates no name of its own (56 bytes
            // per parked subtask, and a concatenation per fork; see docs/design-notes.md). Named by
            // the builder, not by setName (which synchronizes).
            String taskName = task.nameOrNull();
            return Thread.ofVirtual().name(taskName == null ? name : name + ":" + taskName)
                    .uncaughtExceptionHandler(task).unstarted(Task.Body.SHARED);   // finds task in the handler slot
        }
        Thread t;
        try {
            t = factory.newThread(new Task.Body(task));
        } catch (RuntimeException | Error e) {    // as for Thread.start(): an Error too (OOME: no native thread)
            throw new RejectedExecutionException("the thread factory of scope '" + Names.escape(name) + "' threw " + e
                    + " for subtask " + task.name() + "; fix the factory, or fork without one", e);
        }
        if (t == null) {
            throw new RejectedExecutionException("the thread factory of scope '" + Names.escape(name)
                    + "' returned null for subtask " + task.name() + "; a thread factory must return a new, unstarted thread");
        }
        if (t.getState() != Thread.State.NEW) {
            throw new RejectedExecutionException("the thread factory of scope '" + Names.escape(name) + "' returned thread '"
                    + Names.thread(t) + "' in state " + t.getState() + "; a thread factory must return a new, unstarted thread");
        }
        task.rare().factoryHandler = t.getUncaughtExceptionHandler();
        t.setUncaughtExceptionHandler(task);
        return t;
    }

    /** Appends to the subtask array, compacting or growing it when full. Owner only. */
    private void append(Task task) {
        Task[] a = tasks;
        int n = used;
        if (n == a.length) {
            int running = 0;
            for (Task t : a) {
                if (!t.isFinished()) {
                    running++;
                }
            }
            Task[] b = new Task[Math.max(INITIAL_CAPACITY, running << 1)];
            int j = 0;
            for (Task t : a) {
                if (!t.isFinished()) {
                    b[j++] = t;
                }
            }
            tasks = b;           // volatile: the copies are visible before the array
            a = b;
            n = j;
        }
        TASKS.setRelease(a, n, task);     // the fence is the live increment that follows (class comment)
        used = n + 1;
    }

    /** The subtask array, for iteration with {@link #taskAt}. */
    Task[] tasks() {
        return tasks;
    }

    /** A volatile read of slot {@code i}: null past the last subtask. */
    static Task taskAt(Task[] a, int i) {
        return (Task) TASKS.getVolatile(a, i);
    }

    // ---------------------------------------------------------------------------------------
    // Completion (subtask and closer threads)

    /**
     * A subtask completed: record its failure (unless {@code fork} throws it), run the joiner's
     * onComplete, then it is finished.
     */
    void taskDone(Task task, boolean recordFailure) {
        try {
            if (recordFailure && task.lifecycle() == Task.FAILED) {
                ledger.record(task.failure(), FailureLedger.Source.TASK, "subtask " + task.label() + " failed");
            }
            boolean cancelScope;
            try {
                cancelScope = joiner.onComplete(task);
            } catch (Throwable e) {
                ledger.record(e, FailureLedger.Source.JOINER, "the joiner of scope '" + Names.escape(name)
                        + "' threw in onComplete for subtask " + task.label());
                cancelScope = true;
            }
            if (cancelScope && reason == null) {      // already cancelled: no Reason to make
                cancel(Reason.joiner(name));
            }
        } catch (Throwable e) {
            Reports.internalError("completing subtask " + task.label(), e);
        } finally {
            task.markFinished();
            liveDone();
        }
    }

    void closeJobStarted(CloseJob job) {
        LIVE.getAndAdd(this, 1);
        Set<CloseJob> set = closeJobs;
        if (set == null) {
            set = ConcurrentHashMap.newKeySet();
            if (!CLOSE_JOBS.compareAndSet(this, null, set)) {
                set = closeJobs;
            }
        }
        set.add(job);
    }

    void closeJobDone(CloseJob job) {
        Set<CloseJob> set = closeJobs;
        if (set != null) {
            set.remove(job);
        }
        liveDone();
    }

    private void liveDone() {
        int left = (int) LIVE.getAndAdd(this, -1) - 1;
        if (left == 0) {
            if (waiting) {
                LockSupport.unpark(owner);
            }
            if (reason != null) {
                reportCancelled();
            }
            if (lingering) {
                Registry.drained(this);
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Cancellation (any thread): see Canceller

    /** Cancels the scope and everything below it; returns true if this call did. */
    boolean cancel(Reason r) {
        return Canceller.cancel(this, r);
    }

    /**
     * The cancelling CAS and its bookkeeping; the caller then cancels the subtasks and wakes the
     * owner ({@link #wakeOwner}). Runs no user code.
     */
    boolean markCancelled(Reason r) {
        if (reason != null) {
            return false;
        }
        int running = live;
        liveAtCancel = running;
        if (!REASON.compareAndSet(this, null, r)) {
            return false;
        }
        if (running == 0) {
            reportCancelled();
        }
        Future<?> tm = timer;
        if (tm != null) {
            tm.cancel(false);
        }
        return true;
    }

    /**
     * Wakes the owner if it waits in {@code join} and has something to do about the cancellation:
     * the canceller calls it after {@link #markCancelled}. That is only starting the grace period,
     * so an owner whose scope has an unbounded grace period is left parked: its {@code join} would
     * wake only to park again until the last subtask ends, which wakes it anyway
     * ({@link #liveDone}); woken now, it would take a carrier ahead of the subtasks it waits for
     * (see docs/design-notes.md). An owner waiting in {@code close} has its grace period running
     * already; the unpark is harmless there.
     */
    void wakeOwner() {
        if (waiting && graceNanos != Long.MAX_VALUE) {
            LockSupport.unpark(owner);
        }
    }

    /** Reports, once, that the cancelled scope has no running subtask left. */
    private void reportCancelled() {
        Reason r = reason;
        if (!cancelReported && CANCEL_REPORTED.compareAndSet(this, false, true)) {
            Events.scopeCancelled(this, liveAtCancel, System.nanoTime() - r.nanos());
        }
    }

    boolean isCancelled() {
        return reason != null || phase == CLOSED;
    }

    // ---------------------------------------------------------------------------------------
    // Join (owner)

    /** Returns the joiner's result; throws what {@code result()} throws (R_X), unchecked here. */
    Object join() throws InterruptedException {
        ensureOwner("join");
        int ph = phase;
        if (ph != OPEN) {
            throw new IllegalStateException(ph == JOINED
                    ? "join() was already called on scope '" + Names.escape(name) + "' and completed; it may be called again only after it threw InterruptedException"
                    : "scope '" + Names.escape(name) + "' is closed");
        }
        joinStarted = true;
        boolean interrupted = false;
        if (live > 0 && reason == null) {
            if (await(0L, true, true)) {
                if (live > 0 && reason == null) {
                    throw new InterruptedException("interrupted while joining scope '" + Names.escape(name) + "'");
                }
                interrupted = true;
            }
        }
        if (reason != null && live > 0 && !interrupted) {
            interrupted = await(graceEndNanos(0L), true, false);
        }
        phase = JOINED;
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return outcome();
    }

    private Object outcome() {
        Reason r = reason;
        if (r != null && r.kind() != Reason.Kind.JOINER) {
            CancelledException e = r.kind() == Reason.Kind.DEADLINE
                    ? new DeadlineExceededException("scope '" + Names.escape(name) + "' " + r.text(), deadline)
                    : new CancelledException("scope '" + Names.escape(name) + "' " + r.text(), r.cause());
            ledger.attachTo(e, r.cause());
            throw e;
        }
        Throwable jf = ledger.first(FailureLedger.Source.JOINER);
        if (jf != null) {
            IllegalStateException e = new IllegalStateException("the joiner of scope '" + Names.escape(name)
                    + "' threw " + jf + " in onComplete; a joiner must not throw (fix the joiner)", jf);
            ledger.attachTo(e, jf);
            throw e;
        }
        Object result;
        try {
            result = joiner.result();
        } catch (Throwable t) {
            ledger.attachTo(t, t.getCause());
            throw Flock.<RuntimeException>sneaky(t);
        }
        ledger.joinReturned();
        return result;
    }

    /**
     * When waiting for cancelled subtasks must end: the grace period, started at the first such
     * wait (one grace period covers join and close), capped by {@code capNanos} (an enclosing
     * scope's close, or 0 for none). Returns 0 for no limit. Owner only.
     */
    private long graceEndNanos(long capNanos) {
        long end = 0L;
        if (graceNanos != Long.MAX_VALUE) {
            if (graceEnd == 0) {
                graceEnd = System.nanoTime() + graceNanos;
                if (graceEnd == 0) {
                    graceEnd = 1;
                }
            }
            end = graceEnd;
        }
        if (capNanos != 0 && (end == 0 || capNanos - end < 0)) {
            end = capNanos;
        }
        return end;
    }

    /**
     * Parks until {@code live == 0} (or, if {@code untilCancelled}, the scope is cancelled), or
     * {@code endNanos} passes (0: no limit), or, if {@code stopOnInterrupt}, the owner is
     * interrupted. Returns whether it was interrupted; the status is cleared and the caller
     * re-asserts it. While waiting for the scope to finish, the scope's own deadline is checked
     * here too (the timer thread fires it; this only makes join independent of it), and a thread
     * factory's threads are checked for having ended without running their subtask. Owner only.
     */
    private boolean await(long endNanos, boolean stopOnInterrupt, boolean untilCancelled) {
        boolean interrupted = false;
        long deadlineNanos = 0L;
        if (untilCancelled && deadline != null) {
            long d = nanosUntil(deadline);
            deadlineNanos = System.nanoTime() + Math.max(0, Math.min(d, Long.MAX_VALUE / 4));
        }
        waiting = true;
        try {
            while (live > 0 && !(untilCancelled && reason != null)) {
                long now = System.nanoTime();
                long wait = Long.MAX_VALUE;
                if (endNanos != 0) {
                    wait = endNanos - now;
                    if (wait <= 0) {
                        break;
                    }
                }
                if (deadlineNanos != 0) {
                    long d = deadlineNanos - now;
                    if (d <= 0) {
                        deadlinePassed();
                        continue;
                    }
                    wait = Math.min(wait, d);
                }
                if (factory != null) {
                    failDeadFactoryThreads();
                    wait = Math.min(wait, FACTORY_LIVENESS_NANOS);
                }
                if (wait == Long.MAX_VALUE) {
                    LockSupport.park(this);
                } else {
                    LockSupport.parkNanos(this, wait);
                }
                if (Thread.interrupted()) {
                    interrupted = true;
                    if (stopOnInterrupt) {
                        break;
                    }
                }
            }
        } finally {
            waiting = false;
        }
        return interrupted;
    }

    /** Fails the subtasks whose factory-made thread ended without running them. Owner only. */
    private void failDeadFactoryThreads() {
        for (Task t : runningTasks()) {
            if (!t.isStarted() && !t.isDone() && t.thread.getState() == Thread.State.TERMINATED) {
                t.failUnstarted("the thread factory of scope '" + Names.escape(name) + "' created thread '"
                        + Names.thread(t.thread) + "' for subtask " + t.label()
                        + ", and it ended without running the subtask; a thread factory's thread must run the Runnable it is given", null);
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Close (owner)

    /** See {@link TaskScope#close()}. */
    void close() {
        close(0L);
    }

    /**
     * Closes the scope, waiting for cancelled subtasks at most until the grace period ends, and
     * never past {@code capNanos} (a {@link System#nanoTime()} value, or 0 for none): an enclosing
     * scope that closes this one passes its own end, so that its close is bounded as a whole.
     */
    void close(long capNanos) {
        ensureOwner("close");
        if (phase == CLOSED) {
            return;
        }
        StructureViolationException violation = ownerContext.closeScopesAbove(this, () -> graceEndNanos(capNanos),
                f -> "scope '" + Names.escape(name) + "' was closed while scope '" + Names.escape(f.name)
                        + "', opened later by the same thread, was still open; Weft closed '" + Names.escape(f.name)
                        + "' first. Close scopes in the reverse order of opening (use try-with-resources).");
        Reason r0 = reason;
        boolean neverJoined = forked && !joinStarted && (r0 == null || r0.kind() == Reason.Kind.JOINER);
        if (live > 0) {
            cancel(Reason.closed(name));
        }
        boolean interrupted = live > 0 && await(graceEndNanos(capNanos), false, false);
        List<GracePeriodExceededException.Straggler> report = List.of();
        if (live > 0) {
            report = Stragglers.of(this);
            stragglers = report;
        }
        phase = CLOSED;
        Future<?> tm = timer;
        if (tm != null) {
            tm.cancel(false);
        }
        if (ownerContext.innermost() == this) {
            ownerContext.pop(this);
        }
        if (root) {
            Registry.removeRoot(this);
        }
        if (!report.isEmpty()) {
            Registry.linger(this);
            Events.gracePeriodExceeded(this, report);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }

        RuntimeException primary = violation;
        if (!report.isEmpty()) {
            GracePeriodExceededException g = new GracePeriodExceededException(name, grace, report);
            if (primary == null) {
                primary = g;
            } else {
                primary.addSuppressed(g);
            }
        }
        if (neverJoined) {
            IllegalStateException ise = new IllegalStateException("scope '" + Names.escape(name)
                    + "' was closed after forking without join(), so the subtasks' outcomes were never collected"
                    + " (their failures are attached as suppressed). Call join() before close(), or cancel() to"
                    + " discard them; if an exception is already unwinding the try block, this is only its side effect.");
            if (primary == null) {
                primary = ise;
            } else {
                primary.addSuppressed(ise);
            }
        }
        ledger.closeOut(primary);
        if (primary != null) {
            throw primary;
        }
    }

    /** Called by the Cleaner when the public scope became unreachable while open. */
    void leaked() {
        if (phase == CLOSED) {
            return;
        }
        int running = live;
        cancel(Reason.leaked(name));
        abandoned = true;
        if (root && inner == null) {
            Registry.removeRoot(this);      // else it stays, so that the scopes opened inside it stay reachable
        }
        Registry.linger(this);
        ledger.closeOut(null);
        // Report last: whoever reacts to the report sees the scope cancelled, unregistered and recorded.
        Events.scopeLeaked(this, running);
        Reports.leak(this, running);
    }

    // ---------------------------------------------------------------------------------------
    // Diagnostics

    int liveCount() {
        return live;
    }

    /** The onCancel close jobs in flight. */
    List<CloseJob> closeJobs() {
        Set<CloseJob> set = closeJobs;
        return set == null ? List.of() : new ArrayList<>(set);
    }

    /** A snapshot of the subtasks not yet finished, in fork order. */
    List<Task> runningTasks() {
        List<Task> list = new ArrayList<>();
        Task[] a = tasks;
        for (int i = 0; i < a.length; i++) {
            Task t = taskAt(a, i);
            if (t == null) {
                break;
            }
            if (!t.isFinished()) {
                list.add(t);
            }
        }
        return list;
    }

    /** Throws {@code t} unchanged: {@code join} declares the joiner's exception type, R_X. */
    @SuppressWarnings("unchecked")
    private static <X extends Throwable> X sneaky(Throwable t) throws X {
        throw (X) t;
    }

    private void ensureOwner(String what) {
        if (Thread.currentThread() != owner) {
            throw new WrongThreadException(what + "() on scope '" + Names.escape(name) + "' must be called by its owner thread '"
                    + Names.thread(owner) + "'; the current thread is '" + Names.thread(Thread.currentThread()) + "'");
        }
    }

    @Override
    public String toString() {
        return Dumps.describe(this);
    }

    // VarHandle mechanics
    private static final VarHandle REASON;
    private static final VarHandle LIVE;
    private static final VarHandle CLOSE_JOBS;
    private static final VarHandle CANCEL_REPORTED;
    private static final VarHandle TASKS = MethodHandles.arrayElementVarHandle(Task[].class);

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            REASON = l.findVarHandle(Flock.class, "reason", Reason.class);
            LIVE = l.findVarHandle(Flock.class, "live", int.class);
            CLOSE_JOBS = l.findVarHandle(Flock.class, "closeJobs", Set.class);
            CANCEL_REPORTED = l.findVarHandle(Flock.class, "cancelReported", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}

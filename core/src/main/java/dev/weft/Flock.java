package dev.weft;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The state of a scope: its subtasks, its cancellation and its lifecycle. The public
 * {@link TaskScopeImpl} is a thin shell around it, so that the shell can become unreachable (and
 * be reported as leaked) while the flock is still referenced by its owner thread, its subtasks and
 * the registry.
 *
 * <h2>Lifecycle</h2>
 * <pre>
 * phase:  OPEN -> JOINED -> CLOSED         owner thread only (join, close)
 *         OPEN -> CLOSED
 * reason: null -> Reason                   any thread, one CAS (cancel); never reset
 * </pre>
 * {@code phase} and {@code reason} are independent: a scope may be cancelled in any phase, and
 * cancelling a joined scope still cancels the scopes nested in it.
 *
 * <h2>Subtasks</h2>
 * Forked subtasks are appended to {@link #tasks}, an array only the owner writes (forks come from
 * the owner only). When it is full the owner copies the unfinished subtasks into a new array, so a
 * long-lived scope does not keep finished subtasks. Cancellers read the array without locks. A
 * fork racing with a cancel is resolved Dekker-style: the owner publishes the subtask (volatile
 * array store), then reads {@link #reason}; the canceller sets {@link #reason} (CAS), then reads the
 * array. At least one of them sees the other and cancels the subtask.
 *
 * <p>{@link #live} counts subtasks forked and not yet done. A subtask decrements it as its last
 * step, after its joiner callback, so {@code live == 0} means every outcome is recorded.
 */
final class Flock {

    static final int OPEN = 0;
    static final int JOINED = 1;
    static final int CLOSED = 2;

    private static final int INITIAL_CAPACITY = 8;
    /** Most failures kept for suppression in join's exception; the rest are counted. */
    static final int MAX_RECORDED_FAILURES = 1024;
    /** Most stragglers whose stack traces a report collects. */
    static final int MAX_STRAGGLER_STACKS = 256;

    private static final AtomicLong IDS = new AtomicLong();

    // ---- set in the constructor (safe publication through the final fields and the owner's push)

    final long id;
    final String name;
    /** {@code name + "#"}: the start of every subtask thread's name, concatenated once. */
    private final String threadNamePrefix;
    final Thread owner;
    final Context ownerContext;
    /** The scope the owner opened just before this one and has not closed, or null. */
    final Flock enclosing;
    /** Whether this is a root: opened by a thread that is not a subtask, outside any other scope. */
    final boolean root;
    private final TaskScope.Joiner<Object, Object> joiner;
    /** Null for Weft's named virtual threads. */
    private final ThreadFactory factory;
    final long graceNanos;
    final Duration grace;
    /** This scope's own deadline, or null. */
    final Instant deadline;
    /** The earliest of this scope's deadline and those that apply to the scope enclosing it, or null. */
    final Instant effectiveDeadline;
    final long openedNanos;
    /** Where the scope was opened, when leak tracing is on; else null. */
    final Throwable openSite;
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
    /** Subtasks forked and not yet done. Owner increments; subtask threads decrement. */
    private volatile int live;
    /**
     * When the grace period ends ({@link System#nanoTime()}), once the owner has started waiting for
     * cancelled subtasks (in join or close); 0 before that. One grace period covers both waits.
     * Owner only.
     */
    private long graceEnd;
    /** Whether the owner is parked waiting for {@link #live} or {@link #reason}. Owner writes; subtasks and cancellers read. */
    private volatile boolean waiting;
    /** An exception thrown by the joiner's onComplete, or null. First writer wins (CAS). */
    private volatile Throwable joinerFailure;
    /** Failures of subtasks, in completion order, created on the first one. Subtask threads add; the owner reads. */
    private volatile Queue<Throwable> failures;
    /** Failures not kept because {@link #MAX_RECORDED_FAILURES} was reached. */
    private volatile int droppedFailures;
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

    Flock(TaskScope.Joiner<Object, Object> joiner, Config config, Context ctx, Throwable openSite) {
        this.id = IDS.incrementAndGet();
        this.name = config.name() != null ? config.name() : "scope-" + id;
        this.threadNamePrefix = this.name + "#";
        this.owner = Thread.currentThread();
        this.ownerContext = ctx;
        this.enclosing = ctx.innermost;
        this.root = enclosing == null && !(ctx instanceof Task);
        this.joiner = joiner;
        this.factory = config.threadFactory();
        this.graceNanos = config.graceNanos();
        this.grace = config.grace();
        this.openedNanos = System.nanoTime();
        this.openSite = openSite;
        this.openedAtDepth = ctx.criticalDepth();
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
        if (enclosing != null) {
            inherited = enclosing.effectiveDeadline;
            shielded = openedAtDepth > enclosing.openedAtDepth;
        } else if (ctx instanceof Task t) {
            inherited = t.flock.effectiveDeadline;
            shielded = openedAtDepth > 0;
        } else {
            shielded = true;
        }
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

    /** Starts the deadline timer, if any. Called once by the owner, after the scope is linked. */
    void startTimer() {
        if (deadline == null) {
            return;
        }
        long nanos;
        try {
            nanos = Duration.between(Instant.now(), deadline).toNanos();
        } catch (ArithmeticException e) {
            nanos = deadline.isBefore(Instant.now()) ? 0 : Long.MAX_VALUE;
        }
        if (nanos <= 0) {
            cancel(Reason.deadline(this));
        } else if (nanos < Long.MAX_VALUE / 2) {
            timer = Timers.schedule(this::deadlinePassed, nanos);
            if (reason != null) {           // cancelled meanwhile: the timer is not needed
                timer.cancel(false);
            }
        }
    }

    private void deadlinePassed() {
        if (reason == null && phase != CLOSED) {
            cancel(Reason.deadline(this));
        }
    }

    // ---------------------------------------------------------------------------------------
    // Fork

    /** Forks {@code body}, a Callable, or a Runnable when {@code runnable}. */
    Task fork(String taskName, Object body, boolean runnable) {
        ensureOwner("fork");
        int ph = phase;
        if (ph != OPEN) {
            throw new IllegalStateException(ph == JOINED
                    ? "scope '" + name + "' is closed to new subtasks: join() has completed. Fork before join(), or open a new scope."
                    : "scope '" + name + "' is closed; open a new scope to fork more subtasks");
        }
        int index = ++forkCount;
        Task task = new Task(this, index, taskName, body, runnable);
        if (reason != null) {
            task.cancelBeforeStart();
            joiner.onFork(task);
            forked = true;
            return task;
        }
        ContextPropagator[] cp = propagators;
        if (cp != null) {
            // Capture on the owner, before the thread exists; throws RejectedExecutionException.
            task.snapshots = ContextChain.capture(this, task, cp);
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
            cancel(Reason.joiner(this));
        }
        if (reason != null) {
            task.cancelBeforeStart();
            return task;
        }
        LIVE.getAndAdd(this, 1);
        append(task);
        if (reason != null) {             // the Dekker re-check: see the class comment
            task.requestCancel();
        }
        task.started = true;
        try {
            thread.start();
        } catch (Throwable e) {
            RejectedExecutionException ree = new RejectedExecutionException("scope '" + name
                    + "' could not start the thread for subtask " + task.name() + ": " + e, e);
            if (task.failToStart(ree)) {
                taskDone(task);
            }
            throw ree;
        }
        return task;
    }

    /**
     * The name of the thread of {@code task} when the scope made it: {@code scope#index} or
     * {@code scope#index:name}.
     */
    String threadName(Task task) {
        return task.name != null ? threadNamePrefix + task.index + ":" + task.name : threadNamePrefix + task.index;
    }

    private Thread newThread(Task task) {
        if (factory == null) {
            // Named by the builder, not by setName (which synchronizes); the prefix is concatenated once.
            return Thread.ofVirtual().name(threadName(task)).uncaughtExceptionHandler(task).unstarted(task);
        }
        Thread t;
        try {
            t = factory.newThread(task);
        } catch (RuntimeException | Error e) {    // as for Thread.start() below: an Error too (OOME: no native thread)
            throw new RejectedExecutionException("the thread factory of scope '" + name + "' threw " + e
                    + " for subtask " + task.name(), e);
        }
        if (t == null) {
            throw new RejectedExecutionException("the thread factory of scope '" + name
                    + "' returned null for subtask " + task.name() + "; a thread factory must return a new, unstarted thread");
        }
        if (t.getState() != Thread.State.NEW) {
            throw new RejectedExecutionException("the thread factory of scope '" + name + "' returned thread '"
                    + t.getName() + "' in state " + t.getState() + "; a thread factory must return a new, unstarted thread");
        }
        task.delegateHandler = t.getUncaughtExceptionHandler();
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
                if (!t.isDone()) {
                    running++;
                }
            }
            Task[] b = new Task[Math.max(INITIAL_CAPACITY, running << 1)];
            int j = 0;
            for (Task t : a) {
                if (!t.isDone()) {
                    b[j++] = t;
                }
            }
            tasks = b;           // volatile: the copies are visible before the array
            a = b;
            n = j;
        }
        TASKS.setVolatile(a, n, task);
        used = n + 1;
    }

    // ---------------------------------------------------------------------------------------
    // Completion (subtask threads)

    void taskDone(Task task) {
        try {
            if (task.lifecycle() == Task.FAILED) {
                // Recorded, then phase read; join() writes phase, then reads the records (outcome): a
                // failure is attached to join's exception, or reported here as late, or both.
                recordFailure(task.failure());
                if (phase != OPEN || abandoned) {
                    Reports.lateFailure(this, task);
                }
            }
            boolean cancelScope;
            try {
                cancelScope = joiner.onComplete(task);
            } catch (Throwable e) {
                JOINER_FAILURE.compareAndSet(this, null, e);
                cancelScope = true;
            }
            if (cancelScope) {
                cancel(Reason.joiner(this));
            }
        } catch (Throwable e) {
            Reports.internalError(this, e);
        } finally {
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
    }

    private void recordFailure(Throwable t) {
        Queue<Throwable> q = failures;
        if (q == null) {
            q = new ConcurrentLinkedQueue<>();
            if (!FAILURES.compareAndSet(this, null, q)) {
                q = failures;
            }
        }
        // The bound is approximate under concurrency, which is fine: it only limits memory.
        if (q.size() < MAX_RECORDED_FAILURES) {
            q.add(t);
        } else {
            DROPPED.getAndAdd(this, 1);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Cancellation (any thread)

    /** Cancels the scope; returns true if this call did. */
    boolean cancel(Reason r) {
        if (reason != null) {
            return false;
        }
        int running = live;
        // Stamped before the CAS, so that whoever sees the reason sees when and on how many subtasks.
        if (!REASON.compareAndSet(this, null, r.stamped(System.nanoTime(), running))) {
            return false;
        }
        if (running == 0) {
            reportCancelled();
        }
        Future<?> tm = timer;
        if (tm != null) {
            tm.cancel(false);
        }
        if (waiting) {
            LockSupport.unpark(owner);
        }
        Flock in = inner;
        if (in != null && !abandoned && in.openedAtDepth <= openedAtDepth) {
            in.cancel(Reason.upstream(this, r));
        }
        Task[] a = tasks;
        for (int i = 0; i < a.length; i++) {
            Task t = (Task) TASKS.getVolatile(a, i);      // volatile: the canceller's half of the fork/cancel Dekker
            if (t == null) {
                break;
            }
            if (!t.isDone()) {
                t.requestCancel();
            }
        }
        return true;
    }

    /** Reports, once, that the cancelled scope has no running subtask left. */
    private void reportCancelled() {
        Reason r = reason;
        if (!cancelReported && CANCEL_REPORTED.compareAndSet(this, false, true)) {
            Events.scopeCancelled(this, r.liveAtCancel(), System.nanoTime() - r.nanos());
        }
    }

    boolean isCancelled() {
        return reason != null;
    }

    // ---------------------------------------------------------------------------------------
    // Join (owner)

    Object join() throws ExecutionException, InterruptedException {
        ensureOwner("join");
        int ph = phase;
        if (ph != OPEN) {
            throw new IllegalStateException(ph == JOINED
                    ? "join() was already called on scope '" + name + "' and completed; it may be called again only after it threw InterruptedException"
                    : "scope '" + name + "' is closed");
        }
        joinStarted = true;
        boolean interrupted = false;
        if (live > 0 && reason == null) {
            waiting = true;
            try {
                while (live > 0 && reason == null) {
                    LockSupport.park(this);
                    if (Thread.interrupted()) {
                        if (live > 0 && reason == null) {
                            throw new InterruptedException("interrupted while joining scope '" + name + "'");
                        }
                        interrupted = true;
                    }
                }
            } finally {
                waiting = false;
            }
        }
        if (reason != null && live > 0 && !interrupted) {
            interrupted = awaitDone(remainingGrace(), true);
        }
        phase = JOINED;
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return outcome();
    }

    private Object outcome() throws ExecutionException {
        Reason r = reason;
        if (r != null && r.kind() != Reason.Kind.JOINER) {
            CancelledException e = r.kind() == Reason.Kind.DEADLINE
                    ? new DeadlineExceededException("scope '" + name + "' " + r.text(), deadline)
                    : new CancelledException("scope '" + name + "' " + r.text(), r.cause());
            attachFailures(e, r.cause());
            throw e;
        }
        Throwable jf = joinerFailure;
        if (jf != null) {
            ExecutionException e = new ExecutionException("the joiner of scope '" + name + "' threw " + jf, jf);
            attachFailures(e, jf);
            throw e;
        }
        try {
            return joiner.result();
        } catch (Throwable t) {
            ExecutionException e = new ExecutionException(t);
            attachFailures(e, t);
            throw e;
        }
    }

    private void attachFailures(Throwable e, Throwable cause) {
        Queue<Throwable> q = failures;
        if (q != null) {
            for (Throwable f : q) {
                if (f != cause && f != e) {
                    e.addSuppressed(f);
                }
            }
        }
        int dropped = droppedFailures;
        if (dropped > 0) {
            e.addSuppressed(new RuntimeException(dropped + " more subtask failures of scope '" + name
                    + "' were not attached (limit " + MAX_RECORDED_FAILURES + "); read them from the subtasks"));
        }
    }

    /**
     * The grace period left for waiting on cancelled subtasks: the whole grace period at the first
     * wait, what remains of it later ({@code Long.MAX_VALUE} when unbounded). Owner only.
     */
    private long remainingGrace() {
        if (graceNanos == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        long now = System.nanoTime();
        if (graceEnd == 0) {
            graceEnd = now + graceNanos;
            if (graceEnd == 0) {
                graceEnd = 1;
            }
            return graceNanos;
        }
        return Math.max(0, graceEnd - now);
    }

    /**
     * Waits until every subtask is done, at most {@code nanos} ({@code Long.MAX_VALUE}: no limit).
     * Returns whether the owner was interrupted; if {@code stopOnInterrupt}, it stops waiting then.
     * The interrupt status is cleared; the caller re-asserts it. Owner only.
     */
    private boolean awaitDone(long nanos, boolean stopOnInterrupt) {
        if (live == 0) {
            return false;
        }
        boolean interrupted = false;
        boolean timed = nanos != Long.MAX_VALUE;
        long end = timed ? System.nanoTime() + nanos : 0L;
        waiting = true;
        try {
            while (live > 0) {
                if (timed) {
                    long left = end - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    LockSupport.parkNanos(this, left);
                } else {
                    LockSupport.park(this);
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

    // ---------------------------------------------------------------------------------------
    // Close (owner)

    /** See {@link TaskScope#close()}. */
    void close() {
        ensureOwner("close");
        if (phase == CLOSED) {
            return;
        }
        StructureViolationException violation = null;
        Flock f;
        while ((f = ownerContext.innermost) != this && f != null && f.phase != CLOSED) {
            if (!f.abandoned && violation == null) {
                violation = new StructureViolationException("scope '" + name + "' was closed while scope '" + f.name
                        + "', opened later by the same thread, was still open; Weft closed '" + f.name
                        + "' first. Close scopes in the reverse order of opening (use try-with-resources).");
            }
            try {
                f.close();
            } catch (RuntimeException e) {
                if (violation != null) {
                    violation.addSuppressed(e);
                }
            }
            if (ownerContext.innermost == f) {
                ownerContext.pop(f);
            }
        }
        Reason r0 = reason;
        boolean neverJoined = forked && !joinStarted && (r0 == null || r0.kind() == Reason.Kind.JOINER);
        if (live > 0) {
            cancel(Reason.closed(this));
        }
        boolean interrupted = awaitDone(remainingGrace(), false);
        List<GracePeriodExceededException.Straggler> report = List.of();
        if (live > 0) {
            report = collectStragglers();
            stragglers = report;
        }
        phase = CLOSED;
        Future<?> tm = timer;
        if (tm != null) {
            tm.cancel(false);
        }
        if (ownerContext.innermost == this) {
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

        RuntimeException primary = null;
        if (violation != null) {
            primary = violation;
        }
        if (!report.isEmpty()) {
            GracePeriodExceededException g = new GracePeriodExceededException(name, grace, report);
            if (primary == null) {
                primary = g;
            } else {
                primary.addSuppressed(g);
            }
        }
        if (neverJoined) {
            IllegalStateException ise = new IllegalStateException("scope '" + name
                    + "' was closed after forking without join(), so the subtasks' outcomes were never collected"
                    + " (their failures are attached as suppressed). Call join() before close(), or cancel() to"
                    + " discard them; if an exception is already unwinding the try block, this is only its side effect.");
            attachFailures(ise, null);      // so that no failure is lost with the missing join
            if (primary == null) {
                primary = ise;
            } else {
                primary.addSuppressed(ise);
            }
        }
        if (primary != null) {
            throw primary;
        }
    }

    /** Describes the subtasks still running. */
    List<GracePeriodExceededException.Straggler> collectStragglers() {
        List<GracePeriodExceededException.Straggler> list = new ArrayList<>();
        long now = System.nanoTime();
        Task[] a = tasks;
        for (int i = 0; i < a.length; i++) {
            Task t = (Task) TASKS.getAcquire(a, i);
            if (t == null) {
                break;
            }
            if (t.isDone()) {
                continue;
            }
            Thread th = t.thread;
            List<StackTraceElement> stack = list.size() < MAX_STRAGGLER_STACKS ? List.of(th.getStackTrace()) : List.of();
            String section = t.sectionName();
            list.add(new GracePeriodExceededException.Straggler(name, t.index, t.name(), th, th.getState(),
                    Duration.ofNanos(now - t.forkNanos), t.criticalDepth() > 0, section, stack));
        }
        return list;
    }

    /** Called by the Cleaner when the public scope became unreachable while open. */
    void leaked() {
        if (phase == CLOSED) {
            return;
        }
        abandoned = true;
        int running = live;
        cancel(Reason.leaked(this));
        if (root) {
            Registry.removeRoot(this);
        }
        Registry.linger(this);
        // Report last: whoever reacts to the report sees the scope cancelled, unregistered and recorded.
        Events.scopeLeaked(this, running);
        Reports.leak(this, running);
    }

    // ---------------------------------------------------------------------------------------
    // Diagnostics

    int liveCount() {
        return live;
    }

    /** A snapshot of the subtasks not yet done, in fork order. */
    List<Task> runningTasks() {
        List<Task> list = new ArrayList<>();
        Task[] a = tasks;
        for (int i = 0; i < a.length; i++) {
            Task t = (Task) TASKS.getAcquire(a, i);
            if (t == null) {
                break;
            }
            if (!t.isDone()) {
                list.add(t);
            }
        }
        return list;
    }

    private void ensureOwner(String what) {
        if (Thread.currentThread() != owner) {
            throw new WrongThreadException(what + "() on scope '" + name + "' must be called by its owner thread '"
                    + owner.getName() + "'; the current thread is '" + Thread.currentThread().getName() + "'");
        }
    }

    @Override
    public String toString() {
        return Dumps.describe(this);
    }

    /**
     * Why a scope was cancelled.
     *
     * @param kind the kind, which decides what {@code join} throws
     * @param cause the reason given by the user or inherited from above, or null
     * @param text completes "scope 'x' ..." in messages
     * @param nanos {@link System#nanoTime()} when the scope was cancelled (set by {@link Flock#cancel})
     * @param liveAtCancel subtasks running when the scope was cancelled (set by {@link Flock#cancel})
     */
    record Reason(Kind kind, Throwable cause, String text, long nanos, int liveAtCancel) {

        enum Kind { JOINER, DEADLINE, EXPLICIT, UPSTREAM, GLOBAL, CLOSE, LEAK }

        Reason(Kind kind, Throwable cause, String text) {
            this(kind, cause, text, 0L, 0);
        }

        Reason stamped(long atNanos, int running) {
            return new Reason(kind, cause, text, atNanos, running);
        }

        static Reason joiner(Flock f) {
            return new Reason(Kind.JOINER, null, "was cancelled by its joiner");
        }

        static Reason deadline(Flock f) {
            return new Reason(Kind.DEADLINE, null, "exceeded its deadline " + f.deadline);
        }

        static Reason explicit(Throwable cause) {
            return new Reason(Kind.EXPLICIT, cause, cause == null ? "was cancelled" : "was cancelled: " + cause);
        }

        static Reason global(String by) {
            return new Reason(Kind.GLOBAL, null, "was cancelled by " + by);
        }

        static Reason closed(Flock f) {
            return new Reason(Kind.CLOSE, null, "was closed");
        }

        static Reason leaked(Flock f) {
            return new Reason(Kind.LEAK, null, "was leaked: it became unreachable while open, and was never closed");
        }

        /** For a scope nested in the same thread inside {@code parent}. */
        static Reason upstream(Flock parent, Reason r) {
            return new Reason(Kind.UPSTREAM, r.cause(), "was cancelled because the scope enclosing it, '"
                    + parent.name + "', " + r.text());
        }

        /** For a scope opened by the subtask {@code t}. */
        static Reason fromTask(Task t) {
            Reason r = t.flock.reason;
            String why = r != null ? "its scope '" + t.flock.name + "' " + r.text() : "it was cancelled by Subtask.cancel()";
            return new Reason(Kind.UPSTREAM, r != null ? r.cause() : null,
                    "was cancelled because subtask " + t.label() + ", which opened it, was cancelled: " + why);
        }
    }

    // VarHandle mechanics
    private static final VarHandle REASON;
    private static final VarHandle LIVE;
    private static final VarHandle JOINER_FAILURE;
    private static final VarHandle FAILURES;
    private static final VarHandle DROPPED;
    private static final VarHandle CANCEL_REPORTED;
    private static final VarHandle TASKS = MethodHandles.arrayElementVarHandle(Task[].class);

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            REASON = l.findVarHandle(Flock.class, "reason", Reason.class);
            LIVE = l.findVarHandle(Flock.class, "live", int.class);
            JOINER_FAILURE = l.findVarHandle(Flock.class, "joinerFailure", Throwable.class);
            FAILURES = l.findVarHandle(Flock.class, "failures", Queue.class);
            DROPPED = l.findVarHandle(Flock.class, "droppedFailures", int.class);
            CANCEL_REPORTED = l.findVarHandle(Flock.class, "cancelReported", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}

package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.FAILED;
import static dev.weft.TaskScope.Subtask.State.RUNNING;
import static dev.weft.TaskScope.Subtask.State.SUCCESS;
import static dev.weft.TestSupport.checkThrows;
import static dev.weft.TestSupport.spin;

import dev.weft.StressPlan.Chaos;
import dev.weft.StressPlan.JoinerKind;
import dev.weft.StressPlan.StressCancel;
import dev.weft.StressPlan.StressError;
import dev.weft.StressPlan.StressException;
import dev.weft.StressPlan.Value;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Runs one {@link StressPlan.Tree} on the current thread (the root scope's owner) and checks the
 * invariants of {@link StressTest} after every scope and at the end of the tree. Violations go to
 * a sink, prefixed with the tree's seed.
 */
final class StressRun {

    /** A cancellation that does not deliver its interrupt within this long is lost. */
    static final Duration LOST_AFTER = Duration.ofSeconds(20);
    /** How long a thread of a closed scope (or a resource close) may take to finish. */
    static final Duration SETTLE = Duration.ofSeconds(10);

    /** Counters over a whole stress test. */
    enum Stat {
        TREES, SCOPES, SHIELDED_SCOPES, LIFECYCLES, STARTED, SUCCESS, FAILED, CANCELLED, NEVER_RAN,
        EXCEPTIONS, ERRORS, OWNER_SUBTASK_CANCELS, CHAOS_SCOPE_CANCELS, CHAOS_SUBTASK_CANCELS, CHAOS_CANCEL_ALL,
        CHAOS_MISSED, OWN_SCOPE_CANCELS, DEADLINES, STUBBORN, STRAGGLERS, SWALLOWED_INTERRUPTS, SECTIONS,
        CANCEL_BEFORE_ENTRY, CANCEL_INSIDE, SECTION_NOT_CANCELLED, RESOURCES, RESOURCES_CLOSED, LINGER_INTERRUPTS,
        CANCEL_NOT_YET_VISIBLE;

        static LongAdder[] counters() {
            LongAdder[] a = new LongAdder[values().length];
            for (int i = 0; i < a.length; i++) {
                a[i] = new LongAdder();
            }
            return a;
        }
    }

    /** An onCancel resource that counts its closes. */
    static final class Resource implements AutoCloseable {
        final boolean kept;
        final AtomicInteger closes = new AtomicInteger();
        final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        /** Closes when the registration was closed, or -1 while registered. */
        volatile int closesAtUnregister = -1;
        private final Runnable onSecondClose;

        Resource(boolean kept, Runnable onSecondClose) {
            this.kept = kept;
            this.onSecondClose = onSecondClose;
        }

        @Override
        public void close() {
            if (closes.incrementAndGet() > 1) {
                onSecondClose.run();
            }
            closed.countDown();
        }

        /** Closes run on a Weft closer thread after the interrupt: waits (boundedly) for the first. */
        boolean awaitClosed() {
            boolean interrupted = Thread.interrupted();
            try {
                return closed.await(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return closes.get() > 0;
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** What happened to one planned subtask. */
    static final class TaskRecord {
        final StressPlan.Task plan;
        final ScopeRecord scope;
        final TaskScope<Object, Object, ?> handle;
        final AtomicInteger runs = new AtomicInteger();
        final AtomicInteger onCompleteCalls = new AtomicInteger();
        final List<Resource> resources = Collections.synchronizedList(new ArrayList<>());
        volatile Task task;
        volatile Task self;
        volatile Object returned;
        volatile Throwable thrown;
        volatile Subtask.State stateAtComplete;
        /** The body saw an interrupt (sleep, park, swallow). */
        volatile boolean sawInterrupt;
        /** Listed as a straggler by its scope's close; checked at the end of the tree. */
        volatile boolean straggler;
        /** The terminal state checked; it must not change afterwards. */
        volatile Subtask.State checkedState;

        TaskRecord(StressPlan.Task plan, ScopeRecord scope, TaskScope<Object, Object, ?> handle) {
            this.plan = plan;
            this.scope = scope;
            this.handle = handle;
        }

        @Override
        public String toString() {
            return plan + " #" + (task == null ? "?" : task.index) + " of " + scope.plan;
        }
    }

    /** What happened to one planned scope. */
    static final class ScopeRecord {
        final StressPlan.Scope plan;
        final List<TaskRecord> tasks = new ArrayList<>();
        Flock flock;
        boolean joinReturned;
        Object result;
        Throwable joinThrew;
        boolean interruptedAfterJoin;
        /** The subtasks still RUNNING just after join() returned or threw: their failures come too late to attach. */
        Set<Task> runningAfterJoin = Set.of();
        /** Whether the owner is a subtask (it may be cancelled and interrupted) or a thread of the test. */
        boolean ownerIsTask;
        GracePeriodExceededException stragglers;
        /** What close() threw, or null: failures that join() did not deliver may be attached to it. */
        Throwable closeThrew;

        ScopeRecord(StressPlan.Scope plan) {
            this.plan = plan;
        }
    }

    /** The scope's joiner, wrapped to see every onFork and onComplete. */
    private final class RecordingJoiner implements Joiner<Object, Object, Throwable> {
        private final Joiner<Object, ?, ?> delegate;
        private final Map<Subtask<?>, TaskRecord> bySubtask = new ConcurrentHashMap<>();
        /** The record of the subtask being forked. Owner thread only. */
        TaskRecord pending;

        RecordingJoiner(Joiner<Object, ?, ?> delegate) {
            this.delegate = delegate;
        }

        @Override
        public boolean onFork(Subtask<Object> subtask) {
            TaskRecord r = pending;
            pending = null;
            r.task = (Task) subtask;
            bySubtask.put(subtask, r);
            count(Stat.LIFECYCLES);
            return delegate.onFork(subtask);
        }

        @Override
        public boolean onComplete(Subtask<Object> subtask) {
            TaskRecord r = bySubtask.get(subtask);
            Subtask.State s = subtask.state();
            if (r == null) {
                violation("onComplete for a subtask that was never forked: " + subtask);
            } else {
                r.onCompleteCalls.incrementAndGet();
                r.stateAtComplete = s;
            }
            if (s == RUNNING) {
                violation(r + ": onComplete saw the subtask RUNNING");
            }
            return delegate.onComplete(subtask);
        }

        @Override
        public Object result() throws Throwable {
            return delegate.result();
        }
    }

    private final StressPlan.Tree tree;
    private final LongAdder[] stats;
    private final Consumer<String> violations;
    private final ScheduledExecutorService chaos;
    /** The failures Weft reported as late (a straggler failed after its scope closed). */
    private final Set<Throwable> lateFailures;
    private final Map<Integer, TaskScope<Object, Object, ?>> scopes = new ConcurrentHashMap<>();
    private final Map<Integer, Subtask<Object>> subtasks = new ConcurrentHashMap<>();
    private final Queue<ScopeRecord> scopeRecords = new ConcurrentLinkedQueue<>();
    private final Queue<TaskRecord> records = new ConcurrentLinkedQueue<>();
    /** Released at the end of the tree: lets the stubborn subtasks end. */
    private final CountDownLatch release = new CountDownLatch(1);
    /** The end of the current bounded wait for threads and resource closes to settle, shared by all of its waits. */
    private long settleEnd;

    StressRun(StressPlan.Tree tree, LongAdder[] stats, Consumer<String> violations, ScheduledExecutorService chaos,
              Set<Throwable> lateFailures) {
        this.tree = tree;
        this.stats = stats;
        this.violations = violations;
        this.chaos = chaos;
        this.lateFailures = lateFailures;
    }

    /** Runs the tree, then checks what can only be checked at its end. */
    void run() {
        count(Stat.TREES);
        List<Future<?>> events = new ArrayList<>();
        for (Chaos c : tree.chaos) {
            events.add(chaos.schedule(() -> fire(c), c.delayNanos(), TimeUnit.NANOSECONDS));
        }
        try {
            runScope(tree.root);
        } catch (ExecutionException | CancelledException | GracePeriodExceededException expected) {
            // outcomes of the root scope, checked by checkScope
        } catch (Throwable t) {
            violation("the root owner got " + t + suppressedOf(t));
        }
        for (Future<?> f : events) {
            f.cancel(false);
        }
        try {
            chaos.submit(() -> { }).get(SETTLE.toMillis(), TimeUnit.MILLISECONDS);   // single thread: in-flight events are done
        } catch (Exception e) {
            violation("the chaos thread did not settle: " + e);
        }
        release.countDown();
        finish();
    }

    // ---------------------------------------------------------------------------------------
    // Owners

    private Object runScope(StressPlan.Scope sp) throws Exception {
        count(Stat.SCOPES);
        if (sp.shielded) {
            count(Stat.SHIELDED_SCOPES);
        }
        ScopeRecord sr = new ScopeRecord(sp);
        sr.ownerIsTask = Context.current() instanceof Task;
        scopeRecords.add(sr);
        var joiner = new RecordingJoiner(sp.joiner.create(sp.untilModulus));
        TaskScope<Object, Object, ?> scope = TaskScope.open(joiner, cfg -> {
            var c = cfg.withName("s" + sp.id);
            if (sp.timeoutMicros >= 0) {
                c = c.withTimeout(Duration.ofNanos(sp.timeoutMicros * 1_000));
            }
            return sp.graceMillis >= 0 ? c.withGrace(Duration.ofMillis(sp.graceMillis)) : c;
        });
        sr.flock = TestSupport.flockOf(scope);
        scopes.put(sp.id, scope);
        Throwable primary = null;
        Object result = null;
        try {
            for (StressPlan.Task tp : sp.tasks) {
                TaskRecord r = new TaskRecord(tp, sr, scope);
                sr.tasks.add(r);
                records.add(r);
                joiner.pending = r;
                subtasks.put(tp.id, fork(scope, r));
            }
            if (sp.ownerNested != null) {
                try {
                    runScope(sp.ownerNested);
                } catch (ExecutionException | CancelledException | GracePeriodExceededException | InterruptedException e) {
                    // its own outcome, checked by its own checkScope; the owner goes on with this scope
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
            if (sp.ownerCancels.length > 0) {
                spin(sp.ownerCancelSpins);
                for (int i : sp.ownerCancels) {
                    sr.tasks.get(i).task.cancel();
                    count(Stat.OWNER_SUBTASK_CANCELS);
                }
            }
            try {
                result = scope.join();
                sr.result = result;
                sr.joinReturned = true;
            } catch (Throwable t) {
                sr.joinThrew = t;
                throw t;
            } finally {
                sr.interruptedAfterJoin = Thread.currentThread().isInterrupted();
                Set<Task> running = Collections.newSetFromMap(new IdentityHashMap<>());
                for (TaskRecord r : sr.tasks) {
                    if (r.task.state() == RUNNING) {
                        running.add(r.task);
                    }
                }
                sr.runningAfterJoin = running;
            }
        } catch (Throwable t) {
            primary = t;
        }
        Throwable closeFailure = null;
        try {
            scope.close();
        } catch (Throwable t) {
            closeFailure = t;
            sr.closeThrew = t;
            if (t instanceof GracePeriodExceededException g) {
                sr.stragglers = g;
            } else {
                violation(sp + ": close() threw " + t);
            }
        }
        checkScope(sr);
        if (primary != null) {
            if (closeFailure != null) {
                primary.addSuppressed(closeFailure);
            }
            throw StressRun.<Exception>sneaky(primary);
        }
        if (closeFailure != null) {
            throw StressRun.<Exception>sneaky(closeFailure);
        }
        return result;
    }

    private Subtask<Object> fork(TaskScope<Object, Object, ?> scope, TaskRecord r) {
        StressPlan.Task tp = r.plan;
        if (tp.runnable) {
            Runnable body = () -> runnableBody(r);
            return tp.name != null ? scope.fork(tp.name, body) : scope.fork(body);
        }
        return tp.name != null ? scope.fork(tp.name, () -> callableBody(r)) : scope.fork(() -> callableBody(r));
    }

    // ---------------------------------------------------------------------------------------
    // Subtask bodies

    private Object callableBody(TaskRecord r) throws Exception {
        try {
            Object v = body(r);
            r.returned = v;
            return v;
        } catch (Exception | Error e) {
            r.thrown = e;
            throw e;
        }
    }

    private void runnableBody(TaskRecord r) {
        try {
            body(r);
        } catch (RuntimeException | Error e) {
            r.thrown = e;
            throw e;
        } catch (Exception e) {
            RuntimeException wrapped = new RuntimeException("checked exception in a Runnable subtask", e);
            r.thrown = wrapped;
            throw wrapped;
        }
    }

    private Object body(TaskRecord r) throws Exception {
        r.runs.incrementAndGet();
        Task self = (Task) Context.current();
        r.self = self;
        StressPlan.Task tp = r.plan;
        List<Cancellation.Registration> scoped = new ArrayList<>(tp.scopedResources);
        List<Resource> scopedResources = new ArrayList<>(tp.scopedResources);
        try {
            for (int i = 0; i < tp.keptResources; i++) {
                Cancellation.onCancel(newResource(r, true));
            }
            for (int i = 0; i < tp.scopedResources; i++) {
                Resource res = newResource(r, false);
                scopedResources.add(res);
                scoped.add(Cancellation.onCancel(res));
            }
            if (tp.critical != null) {
                critical(r, self);
            } else if (tp.nested != null) {
                runScope(tp.nested);
            }
            return act(r, self);
        } finally {
            for (int i = 0; i < scoped.size(); i++) {
                scoped.get(i).close();
                scopedResources.get(i).closesAtUnregister = scopedResources.get(i).closes.get();
            }
        }
    }

    private Resource newResource(TaskRecord r, boolean kept) {
        count(Stat.RESOURCES);
        Resource res = new Resource(kept, () -> violation(r + ": an onCancel resource was closed twice"));
        r.resources.add(res);
        return res;
    }

    private void critical(TaskRecord r, Task self) throws Exception {
        StressPlan.Critical c = r.plan.critical;
        count(Stat.SECTIONS);
        boolean cancelledAtEntry;
        boolean cancelledAtExit;
        List<Resource> kept = keptResources(r);
        yieldFor(c.entryDelayNanos());          // so that cancellations land around the entry
        try (var cs = Cancellation.critical(r.plan.name)) {
            cancelledAtEntry = self.isCancelRequested();
            int[] closesAtEntry = closes(kept);
            inside(r, self, "at entry");
            if (c.registerInside()) {
                Resource res = newResource(r, true);
                Cancellation.onCancel(res);
                kept.add(res);
                closesAtEntry = closes(kept);
                if (res.closes.get() != 0) {
                    violation(r + ": a resource registered inside a critical section was closed at once");
                }
            }
            if (c.nestedTwice()) {
                try (var inner = Cancellation.critical()) {
                    inside(r, self, "in the inner section");
                    work(r, self, c);
                }
                inside(r, self, "after the inner section closed");
            } else {
                work(r, self, c);
            }
            if (r.plan.nested != null && r.plan.nestedInCritical) {
                try {
                    runScope(r.plan.nested);
                } finally {
                    inside(r, self, "after the shielded scope closed");
                }
            }
            inside(r, self, "before exit");
            int[] closesBeforeExit = closes(kept);
            for (int i = 0; i < kept.size(); i++) {
                if (closesBeforeExit[i] != closesAtEntry[i]) {
                    violation(r + ": an onCancel resource was closed inside a critical section");
                }
            }
            cancelledAtExit = self.isCancelRequested();
        }
        count(cancelledAtEntry ? Stat.CANCEL_BEFORE_ENTRY : cancelledAtExit ? Stat.CANCEL_INSIDE : Stat.SECTION_NOT_CANCELLED);
        if (cancelledAtExit) {
            // The cancellation was held back by the section (it saw depth > 0): the exit must deliver it, now.
            if (!Thread.currentThread().isInterrupted()) {
                violation(r + ": cancellation lost across the section's exit: interrupt status not set");
            }
            if (!Cancellation.isRequested()) {
                violation(r + ": cancellation lost across the section's exit: isRequested() is false");
            }
            if (!checkThrows()) {
                violation(r + ": cancellation lost across the section's exit: check() did not throw");
            }
            for (Resource res : kept) {
                if (!res.awaitClosed() || res.closes.get() != 1) {
                    violation(r + ": cancellation lost across the section's exit: an onCancel resource has "
                            + res.closes.get() + " closes");
                }
            }
        }
        if (r.plan.nested != null && !r.plan.nestedInCritical) {
            runScope(r.plan.nested);
        }
    }

    private static List<Resource> keptResources(TaskRecord r) {
        List<Resource> kept = new ArrayList<>();
        synchronized (r.resources) {
            for (Resource res : r.resources) {
                if (res.kept) {
                    kept.add(res);
                }
            }
        }
        return kept;
    }

    private static int[] closes(List<Resource> resources) {
        int[] a = new int[resources.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = resources.get(i).closes.get();
        }
        return a;
    }

    /** The body of a critical section: sleep (must not be interrupted) or yield for a while. */
    private void work(TaskRecord r, Task self, StressPlan.Critical c) {
        if (c.sleepInside()) {
            try {
                Thread.sleep(Duration.ofNanos(c.bodyNanos()));
            } catch (InterruptedException e) {
                violation(r + ": interrupt delivered inside a critical section: sleep threw " + e);
            }
        } else {
            yieldFor(c.bodyNanos());
        }
        inside(r, self, "after the section's work");
    }

    private static void yieldFor(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.yield();
        }
    }

    /** Inside a section: no interrupt, no visible cancellation. */
    private void inside(TaskRecord r, Task self, String where) {
        if (Thread.interrupted()) {      // cleared, so that one violation does not cascade
            violation(r + ": interrupt status set inside a critical section, " + where);
        }
        if (Cancellation.isRequested()) {
            violation(r + ": isRequested() true inside a critical section, " + where);
        }
        if (checkThrows()) {
            violation(r + ": check() threw inside a critical section, " + where);
        }
        if (self.criticalDepth() == 0) {
            violation(r + ": critical depth 0 inside a critical section, " + where);
        }
    }

    private Object act(TaskRecord r, Task self) throws Exception {
        StressPlan.Task tp = r.plan;
        Value value = new Value(tp.id);
        switch (tp.action) {
            case RETURN -> {
                return linger(r, self, value);
            }
            case THROW_EXCEPTION -> {
                count(Stat.EXCEPTIONS);
                throw new StressException(tp.id);
            }
            case THROW_ERROR -> {
                count(Stat.ERRORS);
                throw switch (tp.errorKind) {
                    case 0 -> new StressError(tp.id);
                    case 1 -> new StackOverflowError("injected by task " + tp.id);
                    default -> new OutOfMemoryError("injected by task " + tp.id);
                };
            }
            case SLEEP -> {
                try {
                    Thread.sleep(Duration.ofNanos(tp.amount));
                } catch (InterruptedException e) {
                    r.sawInterrupt = true;
                    throw e;
                }
                return linger(r, self, value);
            }
            case BLOCK -> {
                awaitInterrupt(r, self, "a BLOCK subtask under a deadline was never interrupted");
                return value;
            }
            case POLL -> {
                for (long i = 0; i < tp.amount; i++) {
                    Cancellation.check();
                    Thread.yield();
                }
                return linger(r, self, value);
            }
            case SWALLOW -> {
                long end = System.nanoTime() + tp.amount;
                for (long left; (left = end - System.nanoTime()) > 0; ) {
                    try {
                        Thread.sleep(Duration.ofNanos(left));
                    } catch (InterruptedException swallowed) {
                        r.sawInterrupt = true;
                        count(Stat.SWALLOWED_INTERRUPTS);
                    }
                }
                return value;
            }
            case STUBBORN -> {
                count(Stat.STUBBORN);
                ShutdownSupport.ignoreInterruptsUntil(new CountDownLatch(1), release);
                return value;
            }
            case CANCEL_OWN_SCOPE -> {
                count(Stat.OWN_SCOPE_CANCELS);
                r.handle.cancel(new StressCancel("its own task " + tp.id));
                if (!Cancellation.isRequested()) {
                    // Another cancellation of the scope was under way and has not reached this task yet.
                    count(Stat.CANCEL_NOT_YET_VISIBLE);
                    awaitInterrupt(r, self, "cancelled its own scope, but the cancellation never reached it");
                }
                Cancellation.check();
                violation(r + ": check() did not throw after isRequested() read true");
                return value;
            }
            default -> throw new AssertionError(tp.action);
        }
    }

    /** If the subtask is cancelled, waits for the interrupt that must follow (the task then ends CANCELLED). */
    private Object linger(TaskRecord r, Task self, Object value) throws InterruptedException {
        if (r.plan.lingerCheck && self.isCancelRequested()) {
            count(Stat.LINGER_INTERRUPTS);
            awaitInterrupt(r, self, "cancellation requested, but its interrupt never arrived");
        }
        return value;
    }

    /** Parks until interrupted (then throws), at most {@link #LOST_AFTER} (then reports a violation). */
    private void awaitInterrupt(TaskRecord r, Task self, String lost) throws InterruptedException {
        long end = System.nanoTime() + LOST_AFTER.toNanos();
        for (;;) {
            if (Thread.interrupted()) {
                r.sawInterrupt = true;
                throw new InterruptedException("stress: interrupted as expected");
            }
            long left = end - System.nanoTime();
            if (left <= 0) {
                violation(r + ": " + lost + " within " + LOST_AFTER + " (cancel requested: " + self.isCancelRequested()
                        + ", scope cancelled: " + (self.flock.reason != null) + ")");
                return;
            }
            LockSupport.parkNanos(left);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Foreign cancellations

    private void fire(Chaos c) {
        switch (c.kind()) {
            case ROOT, SCOPE -> {
                TaskScope<Object, Object, ?> s = scopes.get(c.kind() == Chaos.Kind.ROOT ? tree.root.id : c.targetId());
                if (s == null) {
                    count(Stat.CHAOS_MISSED);
                } else {
                    s.cancel(new StressCancel("a foreign thread"));
                    count(Stat.CHAOS_SCOPE_CANCELS);
                }
            }
            case SUBTASK -> {
                Subtask<Object> s = subtasks.get(c.targetId());
                if (s == null) {
                    count(Stat.CHAOS_MISSED);
                } else {
                    s.cancel();
                    count(Stat.CHAOS_SUBTASK_CANCELS);
                }
            }
            case ALL -> {
                Scopes.cancelAll();
                count(Stat.CHAOS_CANCEL_ALL);
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Checks

    /** After a scope's close returned or threw: its subtasks, its threads, its join outcome. Owner thread. */
    private void checkScope(ScopeRecord sr) {
        long settle = System.nanoTime() + SETTLE.toNanos();
        Set<Integer> listed = new java.util.HashSet<>();
        if (sr.stragglers != null) {
            if (sr.plan.graceMillis < 0) {
                violation(sr.plan + ": GracePeriodExceededException without a grace period");
            }
            for (GracePeriodExceededException.Straggler s : sr.stragglers.stragglers()) {
                listed.add(s.index());
                if (!s.scope().equals(sr.flock.name)) {
                    violation(sr.plan + ": straggler of another scope listed: " + s.describe());
                }
            }
        }
        for (TaskRecord r : sr.tasks) {
            Task t = r.task;
            if (t.state() == RUNNING) {
                if (!listed.contains(t.index)) {
                    violation(r + ": RUNNING after close() and not reported as a straggler");
                }
                r.straggler = true;
                count(Stat.STRAGGLERS);
                continue;
            }
            if (t.isLaunched()) {
                awaitThreadEnd(r, settle);
            }
            checkOutcome(r);
        }
        if (sr.stragglers == null && sr.flock.liveCount() != 0) {
            violation(sr.plan + ": close() returned normally with " + sr.flock.liveCount() + " subtasks live");
        }
        Reason reason = sr.flock.reason;
        if (reason != null && reason.kind() == Reason.Kind.DEADLINE) {
            count(Stat.DEADLINES);
        }
        if (sr.plan.shielded && reason != null && (reason.kind() == Reason.Kind.UPSTREAM
                || reason.kind() == Reason.Kind.GLOBAL)) {
            violation(sr.plan + ": a scope opened and closed inside a critical section was reached by outer cancellation: "
                    + reason.text());
        }
        checkJoin(sr);
    }

    /**
     * Waits (bounded) for the subtask's thread to terminate. The owner may be a cancelled subtask with
     * its interrupt status set: the status is put aside for the wait and restored.
     */
    private void awaitThreadEnd(TaskRecord r, long end) {
        Thread th = r.task.thread;
        boolean interrupted = Thread.interrupted();
        try {
            while (th.isAlive()) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    violation(r + ": thread still alive " + SETTLE + " after its scope closed: " + th
                            + " at " + List.of(th.getStackTrace()));
                    return;
                }
                try {
                    th.join(Duration.ofNanos(left));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The subtask's terminal state agrees with what its body did, and it is reached exactly once. */
    private void checkOutcome(TaskRecord r) {
        Task t = r.task;
        Subtask.State st = t.state();
        r.checkedState = st;
        int runs = r.runs.get();
        count(switch (st) {
            case SUCCESS -> Stat.SUCCESS;
            case FAILED -> Stat.FAILED;
            default -> Stat.CANCELLED;
        });
        if (t.isLaunched()) {
            count(Stat.STARTED);
        }
        int calls = r.onCompleteCalls.get();
        if (calls != (t.isLaunched() ? 1 : 0)) {
            violation(r + ": onComplete called " + calls + " times (started: " + t.isLaunched() + ")");
        } else if (calls == 1 && r.stateAtComplete != st) {
            violation(r + ": onComplete saw " + r.stateAtComplete + ", but the subtask is " + st);
        }
        if (runs > 1) {
            violation(r + ": body ran " + runs + " times");
        }
        if (runs == 0) {
            count(Stat.NEVER_RAN);
            if (st != CANCELLED || !t.isCancelRequested() || !(t.exception() instanceof CancelledException)) {
                violation(r + ": never ran, yet ended " + st + " (cancel requested: " + t.isCancelRequested() + ")");
            }
            return;
        }
        if (r.self != t) {
            violation(r + ": the body's Cancellation context is " + r.self + ", not its own subtask");
        }
        if (r.sawInterrupt && !t.isCancelRequested()) {
            violation(r + ": interrupted without being cancelled");
        }
        Throwable thrown = r.thrown;
        if (thrown == null) {
            Object expected = r.plan.runnable ? null : r.returned;
            if (st != SUCCESS) {
                violation(r + ": the body returned, yet the subtask is " + st);
            } else if (t.get() != expected) {
                violation(r + ": get() is " + t.get() + ", not what the body returned: " + expected);
            }
            return;
        }
        // Cancelled: marked, or (not yet marked, the canceller still on its way) its scope cancelled;
        // the scope's reason read now may have come after the completion, so that case allows both.
        Subtask.State want = !causedByCancellation(thrown) ? FAILED
                : t.isCancelRequested() ? CANCELLED
                : t.flock.reason == null ? FAILED : st;
        if (st != want) {
            violation(r + ": the body threw " + thrown + " (cancel requested: " + t.isCancelRequested()
                    + "), so it should be " + want + ", but it is " + st);
        } else if (t.exception() != thrown) {
            violation(r + ": exception() is " + t.exception() + ", not what the body threw: " + thrown);
        }
    }

    /** {@link Subtask.State#CANCELLED}'s documented rule, without I/O (the stress does none). */
    private static boolean causedByCancellation(Throwable ex) {
        Throwable t = ex;
        for (int i = 0; t != null && i < 16; i++, t = t.getCause()) {
            if (t instanceof InterruptedException || t instanceof CancelledException || t instanceof ClosedByInterruptException
                    || (t instanceof InterruptedIOException && !(t instanceof SocketTimeoutException))) {
                return true;
            }
        }
        return false;
    }

    /** The join outcome agrees with the joiner, the reason, and the subtasks; no failure is lost. */
    private void checkJoin(ScopeRecord sr) {
        Throwable e = sr.joinThrew;
        if (e == null && !sr.joinReturned) {
            return;         // the owner failed before joining: checked where it failed
        }
        StressPlan.Scope sp = sr.plan;
        if (e instanceof InterruptedException) {
            if (!sr.ownerIsTask) {
                violation(sp + ": join() of a scope owned by the test's thread threw " + e);
            }
            return;
        }
        if (e != null && !(e instanceof ExecutionException) && !(e instanceof CancelledException)) {
            violation(sp + ": join() threw " + e);
            return;
        }
        // With no grace bound and no interrupt of the owner, join() waited for every subtask.
        boolean complete = sp.graceMillis < 0 && !sr.interruptedAfterJoin;
        if (e instanceof ExecutionException ee) {
            Throwable cause = ee.getCause();
            boolean fromSubtask = false;
            for (TaskRecord r : sr.tasks) {
                Subtask.State st = r.task.state();
                if ((st == FAILED && r.task.exception() == cause)
                        || (st == CANCELLED && cause instanceof CancelledException && cause.getCause() == r.task.exception())) {
                    fromSubtask = true;
                }
            }
            if (!fromSubtask && !(sp.joiner == JoinerKind.ANY_SUCCESSFUL && cause instanceof NoSuchElementException)) {
                violation(sp + ": join()'s cause is no subtask's outcome: " + cause);
            }
            if (sp.joiner == JoinerKind.AWAIT_ALL || sp.joiner == JoinerKind.ALL_UNTIL) {
                violation(sp + ": a joiner that never fails made join() throw " + ee);
            }
            if (complete && sp.joiner == JoinerKind.ANY_SUCCESSFUL
                    && sr.tasks.stream().anyMatch(r -> r.task.state() == SUCCESS)) {
                violation(sp + ": anySuccessfulOrThrow threw although a subtask succeeded: " + cause);
            }
        } else if (e instanceof CancelledException ce) {
            Reason reason = sr.flock.reason;
            if (reason == null || reason.kind() == Reason.Kind.JOINER) {
                violation(sp + ": join() threw " + ce + " but the scope's cancellation reason is " + reason);
            } else if (ce instanceof DeadlineExceededException) {
                Instant deadline = sr.flock.deadline;
                if (reason.kind() != Reason.Kind.DEADLINE || deadline == null || Instant.now().isBefore(deadline)) {
                    violation(sp + ": DeadlineExceededException, but the reason is " + reason + " and the deadline " + deadline);
                }
            } else if (reason.kind() == Reason.Kind.DEADLINE || ce.getCause() != reason.cause()) {
                violation(sp + ": " + ce + " (cause " + ce.getCause() + ") does not match the reason " + reason);
            }
        }
        if (!complete) {
            return;
        }
        if (e != null) {
            Set<Throwable> attached = Collections.newSetFromMap(new IdentityHashMap<>());
            attached.add(e.getCause());
            attached.addAll(List.of(e.getSuppressed()));
            for (TaskRecord r : sr.tasks) {
                Subtask.State st = r.task.state();
                if (st == FAILED && !attached.contains(r.task.exception())) {
                    violation(r + ": its failure " + r.task.exception() + " is neither join()'s cause nor suppressed: " + e);
                } else if (st == CANCELLED && attached.contains(r.task.exception())) {
                    violation(r + ": the exception of a CANCELLED subtask is attached to join()'s exception as a failure");
                }
            }
            return;
        }
        Object result = sr.result;
        switch (sp.joiner) {
            case AWAIT_ALL_SUCCESSFUL, ALL_SUCCESSFUL -> {
                List<Object> values = new ArrayList<>();
                for (TaskRecord r : sr.tasks) {
                    if (r.task.state() != SUCCESS) {
                        violation(r + ": join() of a fail-fast scope returned, yet this subtask is " + r.task.state());
                        return;
                    }
                    values.add(r.task.get());
                }
                if (sp.joiner == JoinerKind.ALL_SUCCESSFUL ? !sameElements(result, values) : result != null) {
                    violation(sp + ": join() returned " + result + ", expected " + values);
                }
            }
            case ANY_SUCCESSFUL -> {
                if (sr.tasks.stream().noneMatch(r -> r.task.state() == SUCCESS && r.task.get() == result)) {
                    violation(sp + ": anySuccessfulOrThrow returned " + result + ", which no subtask returned");
                }
            }
            case AWAIT_ALL -> {
                if (result != null) {
                    violation(sp + ": awaitAll returned " + result);
                }
            }
            case ALL_UNTIL -> {
                List<Object> forked = new ArrayList<>();
                for (TaskRecord r : sr.tasks) {
                    forked.add(r.task);
                }
                if (!sameElements(result, forked)) {
                    violation(sp + ": allUntil returned " + result + ", not the forked subtasks in fork order");
                }
            }
        }
    }

    private static boolean sameElements(Object result, List<Object> expected) {
        if (!(result instanceof List<?> list) || list.size() != expected.size()) {
            return false;
        }
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) != expected.get(i)) {
                return false;
            }
        }
        return true;
    }

    /** At the end of the tree: stragglers, states, resources, threads and the registry. */
    private void finish() {
        settleEnd = System.nanoTime() + SETTLE.toNanos();
        for (TaskRecord r : records) {
            if (r.straggler) {
                awaitThreadEnd(r, settleEnd);
                if (r.task.state() == RUNNING) {
                    violation(r + ": a released straggler is still RUNNING");
                } else {
                    checkOutcome(r);
                    if (r.task.state() == FAILED && !lateFailures.contains(r.task.exception())) {
                        violation(r + ": a straggler failed after its scope closed, and the failure was not reported: "
                                + r.task.exception());
                    }
                }
            } else if (r.checkedState == null) {
                violation(r + ": its scope never checked it");
            } else if (r.task.state() != r.checkedState) {
                violation(r + ": its terminal state changed from " + r.checkedState + " to " + r.task.state());
            }
            checkResources(r);
        }
        for (ScopeRecord sr : scopeRecords) {
            checkNoFailureLost(sr);
            while ((Registry.lingering().contains(sr.flock) || Registry.roots().contains(sr.flock))
                    && System.nanoTime() < settleEnd) {
                Thread.yield();
            }
            if (Registry.roots().contains(sr.flock)) {
                violation(sr.plan + ": still a root in the registry after close()");
            }
            if (Registry.lingering().contains(sr.flock)) {
                violation(sr.plan + ": still lingering in the registry after its stragglers ended");
            }
        }
    }

    /**
     * Nothing is lost: a failure is attached to join()'s exception, or, when the subtask failed after
     * join() had returned or thrown (it stopped waiting: grace period, or its owner was interrupted),
     * reported as a late failure. (When join waited for every subtask, {@link #checkJoin} already
     * checked the attachment.)
     */
    private void checkNoFailureLost(ScopeRecord sr) {
        if (sr.joinThrew == null && !sr.joinReturned) {
            return;
        }
        Set<Throwable> attached = Collections.newSetFromMap(new IdentityHashMap<>());
        if (sr.joinThrew != null) {
            attached.add(sr.joinThrew.getCause());
            attached.addAll(List.of(sr.joinThrew.getSuppressed()));
        }
        if (sr.closeThrew != null) {
            attached.addAll(List.of(sr.closeThrew.getSuppressed()));
        }
        for (TaskRecord r : sr.tasks) {
            if (r.task.state() != FAILED) {
                continue;
            }
            Throwable f = r.task.exception();
            boolean reported = lateFailures.contains(f) || sr.closeThrew != null && attached.contains(f);
            if (sr.runningAfterJoin.contains(r.task) && !reported) {
                violation(r + ": failed after join() had " + (sr.joinReturned ? "returned" : "thrown")
                        + ", and the failure was neither attached nor reported: " + f);
            } else if (sr.joinThrew != null && !(sr.joinThrew instanceof InterruptedException)
                    && !attached.contains(f) && !reported) {
                violation(r + ": its failure is neither attached to join()'s exception nor reported: " + f);
            }
        }
    }

    /**
     * Every kept resource of a cancelled subtask closed exactly once, of a subtask of a cancelled
     * scope at most once, none of the others; unregistered ones frozen.
     */
    private void checkResources(TaskRecord r) {
        Task t = r.task;
        List<Resource> resources;
        synchronized (r.resources) {
            resources = List.copyOf(r.resources);
        }
        for (Resource res : resources) {
            if (res.kept) {
                int want = t.isCancelRequested() ? 1 : 0;
                // A canceller closes resources after marking the subtask, maybe after it ended: wait a little.
                while (res.closes.get() < want && System.nanoTime() < settleEnd) {
                    Thread.yield();
                }
                // A subtask that saw its scope cancelled and ended before the canceller marked it
                // has its kept resources closed too (once): when the scope was cancelled, 0 or 1.
                boolean scopeCancelled = t.flock.reason != null;
                int closes = res.closes.get();
                if (closes > 1 || (closes != want && !(scopeCancelled && want == 0))) {
                    violation(r + ": a registered onCancel resource was closed " + closes
                            + " times (cancel requested: " + t.isCancelRequested() + ", scope cancelled: " + scopeCancelled + ")");
                }
            } else if (res.closesAtUnregister < 0) {
                violation(r + ": an onCancel registration was never closed by the body");
            } else if (res.closes.get() != res.closesAtUnregister) {
                violation(r + ": an onCancel resource was closed after its registration was closed");
            }
            if (res.closes.get() > 0) {
                count(Stat.RESOURCES_CLOSED);
            }
        }
    }

    // ---------------------------------------------------------------------------------------

    private void count(Stat s) {
        stats[s.ordinal()].increment();
    }

    private void violation(String message) {
        violations.accept("tree " + tree.seed + ": " + message);
    }



    private static String suppressedOf(Throwable t) {
        return t.getSuppressed().length == 0 ? "" : " suppressed " + List.of(t.getSuppressed());
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneaky(Throwable t) throws E {
        throw (E) t;
    }
}

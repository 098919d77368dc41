package dev.weft;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * JVM-wide operations on scopes: cancel everything, stop cleanly on JVM shutdown, and look at the
 * live scope tree.
 *
 * {@snippet :
 * public static void main(String[] args) throws Exception {
 *     Scopes.installShutdownHook(Duration.ofSeconds(5));   // Ctrl-C / SIGTERM cancels every scope
 *     try (var scope = TaskScope.open(Joiner.awaitAll())) {
 *         for (int i = 0; i < 8; i++) scope.fork(Worker::run);
 *         scope.join();
 *     }
 * }
 * }
 */
public final class Scopes {

    private Scopes() {
    }

    /** Stack frames per subtask in {@link #dump()}. */
    static final int DEFAULT_DUMP_FRAMES = 8;

    private static final AtomicBoolean HOOK_INSTALLED = new AtomicBoolean();
    private static volatile Duration hookGrace;

    /**
     * Cancels every open root scope in the JVM (a root scope is one opened outside any other
     * scope and outside any subtask), and with them every scope nested below. This is the
     * graceful-thread-exit proposal's {@code interrupt_all_threads()}. A pending {@code join()}
     * of those scopes throws {@link CancelledException}. Scopes opened inside a critical section
     * of a subtask stay shielded until the section ends.
     *
     * <p>May be called from any thread. Does not wait: it only marks, interrupts and hands
     * {@code onCancel} closes to Weft's closer threads, and runs no user code. Close the scopes, or
     * use {@link #installShutdownHook(Duration)}, to wait. It reaches scopes at any depth, and scopes
     * opened on a thread after a scope that leaked there.
     *
     * @return the number of root scopes this call cancelled (scopes already cancelled are not
     *         counted)
     */
    public static int cancelAll() {
        return Registry.cancelAll(Reason.global("Scopes.cancelAll()"));
    }

    /**
     * Installs a JVM shutdown hook that, on shutdown (SIGINT, SIGTERM, {@code System.exit}, or the
     * end of the last non-daemon thread), cancels every root scope, waits up to {@code grace} for
     * every live task of every scope to end (nested scopes included, and {@code onCancel} closes),
     * and writes what is still running to {@code System.err}, one line each, as
     * {@link GracePeriodExceededException} does. Subtasks inside critical sections, at any depth,
     * finish their sections first, within the grace period. Once shutdown has begun, a root scope
     * opened anywhere is born cancelled.
     *
     * <p>Idempotent: only the first call installs a hook; a later call changes the grace period
     * the hook uses and returns {@code false}.
     *
     * @param grace how long the hook waits for subtasks to end
     * @return {@code true} if this call installed the hook
     * @throws NullPointerException if {@code grace} is null
     * @throws IllegalArgumentException if {@code grace} is negative
     * @throws IllegalStateException if the JVM is already shutting down
     */
    public static boolean installShutdownHook(Duration grace) {
        Objects.requireNonNull(grace, "grace");
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace must not be negative: " + grace);
        }
        hookGrace = grace;
        if (!HOOK_INSTALLED.compareAndSet(false, true)) {
            return false;
        }
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(Scopes::onShutdown, "weft-shutdown-hook"));
        } catch (RuntimeException e) {
            HOOK_INSTALLED.set(false);
            throw e;
        }
        return true;
    }

    /**
     * Returns the live scope tree as indented text: every open root scope with its name, state,
     * owner, age, deadline and grace period; under it each running subtask with its state, age,
     * critical section and the top of its stack; then the scopes nested below. Scopes that were
     * closed or leaked with subtasks still running (stragglers) follow, then recent incidents
     * (leaks, failures after close).
     *
     * @return the dump
     */
    public static String dump() {
        return Dumps.text(DEFAULT_DUMP_FRAMES);
    }

    /**
     * Same as {@link #dump()}, with at most {@code maxFrames} stack frames per subtask.
     *
     * @param maxFrames stack frames per subtask; 0 for none
     * @return the dump
     * @throws IllegalArgumentException if {@code maxFrames} is negative
     */
    public static String dump(int maxFrames) {
        if (maxFrames < 0) {
            throw new IllegalArgumentException("maxFrames must not be negative: " + maxFrames);
        }
        return Dumps.text(maxFrames);
    }

    /**
     * Returns the same data as {@link #dump()} as a JSON document, for tools. Its layout
     * ({@code "format": "dev.weft.dump/2"}) is flat, so that a tree of any depth is a document of
     * bounded nesting that any parser reads:
     * <pre>
     * { "format", "time", "pid", "maxFrames", "runningSubtasks",
     *   "scopes": [scope...], "incidents": [{"time", "kind", "message", "error"}...] }
     * scope: { "id", "listedAs" (root|lingering|nested), "parent" (id or null), "parentTask" (index or null),
     *          "depth", "name", "phase" (open|joined|closed), "root", "cancelled",
     *          "cancellation": null | {"kind", "reason", "cause"}, "leaked", "lingering",
     *          "owner": thread, "ageMillis", "deadline" (ISO-8601 or null), "remainingMillis",
     *          "graceMillis" (null: unbounded), "running", "stragglersAtClose",
     *          "tasks": [task...], "omittedTasks" }
     * task:  { "index", "name", "state", "ageMillis", "cancelRequested",
     *          "criticalSection": null | {"name", "depth", "holdingCancellation"},
     *          "thread": thread, "location", "stack": ["frame"...], "moreFrames", "stackOmitted" }
     * thread: { "name", "tid", "virtual", "state" }
     * </pre>
     * Scopes come parents first. A nested scope names its {@code "parent"} scope, and the
     * {@code "parentTask"} that opened it, or null when the parent's owner opened it inside the
     * parent. Roots come first, then the lingering scopes (closed or leaked with stragglers), each
     * followed by the scopes below it. A task's {@code "location"} is the frame it is in, as
     * {@code SimpleClass.method} past the JDK's scheduling frames (null with no stack). Stack frames
     * are written like {@link StackTraceElement#toString()}, as in the JDK's
     * {@code jcmd Thread.dump_to_file -format=json}. Strings are escaped as RFC 8259 requires, so
     * any JSON parser reads the document, whatever the scope, subtask and thread names contain.
     *
     * @return the dump as JSON
     */
    public static String dumpJson() {
        return Dumps.json(DEFAULT_DUMP_FRAMES);
    }

    /**
     * Same as {@link #dumpJson()}, with at most {@code maxFrames} stack frames per subtask.
     *
     * @param maxFrames stack frames per subtask; 0 for none
     * @return the dump as JSON
     * @throws IllegalArgumentException if {@code maxFrames} is negative
     */
    public static String dumpJson(int maxFrames) {
        if (maxFrames < 0) {
            throw new IllegalArgumentException("maxFrames must not be negative: " + maxFrames);
        }
        return Dumps.json(maxFrames);
    }

    private static void onShutdown() {
        Duration grace = hookGrace;
        Registry.beginShutdown(Reason.global("the JVM shutdown hook"));
        long graceNanos;
        try {
            graceNanos = grace.toNanos();
        } catch (ArithmeticException e) {
            graceNanos = Long.MAX_VALUE;
        }
        long start = System.nanoTime();
        // Every live task of every scope, nested ones included, so that a critical section anywhere
        // in the tree ends before the JVM exits. Polled: the hook runs once per JVM, and a 1 ms poll
        // adds at most 1 ms to the exit of a JVM whose tasks all ended.
        while (TreeWalk.live() > 0 && System.nanoTime() - start < graceNanos) {
            LockSupport.parkNanos(1_000_000);
        }
        List<String> lines = new ArrayList<>();
        for (TreeWalk.Node n : TreeWalk.all()) {
            if (n.flock().liveCount() > 0) {
                for (GracePeriodExceededException.Straggler s : Stragglers.of(n.flock())) {
                    lines.add(s.describe());
                }
            }
        }
        if (!lines.isEmpty()) {
            StringBuilder sb = new StringBuilder("weft: JVM shutdown: ").append(lines.size())
                    .append(lines.size() == 1 ? " subtask" : " subtasks").append(" still running after the grace period of ")
                    .append(GracePeriodExceededException.Straggler.seconds(grace)).append(':');
            for (String l : lines) {
                sb.append("\n  ").append(l);
            }
            System.err.println(sb);
            System.err.flush();
        }
    }
}

package dev.weft.jmh;

import dev.weft.ContextPropagator;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of context propagation on the fork path: {@link ForkJoinBenchmark}'s WEFT case (open a
 * scope, fork N trivial subtasks, join, read every result, close), with no propagator
 * ({@code NO_CONTEXT}: the scope pays a null check per fork) and with one
 * {@link ContextPropagator#ofThreadLocals} propagator carrying three {@code ThreadLocal} values
 * ({@code THREAD_LOCALS_3}: per fork, one capture of three values on the owner; per subtask, one
 * install and one restore on its thread). Target: THREAD_LOCALS_3 at most 1.2 x NO_CONTEXT at
 * N = 10 000.
 *
 * <p>A third row, {@code BY_HAND}, has no propagator: each task sets the three values itself
 * (captured when the task list was built) and removes them in a {@code finally}, as a hand-written
 * wrapper such as OpenTelemetry's {@code Context.taskWrapping} does. It is the cost of having three
 * {@code ThreadLocal} values on a new virtual thread at all (its first value creates the thread's
 * {@code ThreadLocalMap}, and each value is a weak entry), so {@code THREAD_LOCALS_3 - BY_HAND}
 * is what the hook itself adds.
 *
 * <p>The subtasks return their index (they do not read the values, so both rows run the same task
 * code); {@link #checkCarried()} checks once per trial, outside the timing, that the values do
 * reach the subtasks.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class ContextForkJoinBenchmark {

    /** With or without a propagator. */
    public enum Peer { NO_CONTEXT, THREAD_LOCALS_3, BY_HAND }

    static final ThreadLocal<String> REQUEST_ID = new ThreadLocal<>();
    static final ThreadLocal<String> TENANT = new ThreadLocal<>();
    static final ThreadLocal<String> USER = new ThreadLocal<>();

    @Param({"10000"})
    public int n;

    @Param({"NO_CONTEXT", "THREAD_LOCALS_3", "BY_HAND"})
    public Peer peer;

    private List<Callable<Integer>> tasks;
    private List<Supplier<Integer>> results;
    private UnaryOperator<TaskScope.Configuration> config;

    @Setup
    public void prepare() throws Exception {
        REQUEST_ID.set("req-7f3a");
        TENANT.set("acme");
        USER.set("alice");
        tasks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int k = i;
            tasks.add(peer == Peer.BY_HAND ? byHand(k, REQUEST_ID.get(), TENANT.get(), USER.get()) : () -> k);
        }
        results = new ArrayList<>(n);
        ContextPropagator threeValues = ContextPropagator.ofThreadLocals(REQUEST_ID, TENANT, USER);
        config = peer == Peer.THREAD_LOCALS_3 ? c -> c.withContext(threeValues) : UnaryOperator.identity();
        checkCarried();
    }

    /** The hand-written equivalent: the task sets the values it was built with, and removes them. */
    private static Callable<Integer> byHand(int k, String requestId, String tenant, String user) {
        return () -> {
            REQUEST_ID.set(requestId);
            TENANT.set(tenant);
            USER.set(user);
            try {
                return k;
            } finally {
                USER.remove();
                TENANT.remove();
                REQUEST_ID.remove();
            }
        };
    }

    /** Outside the timing: the subtasks see the owner's three values only with the propagator. */
    private void checkCarried() throws Exception {
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), config)) {
            scope.fork(() -> REQUEST_ID.get() + "/" + TENANT.get() + "/" + USER.get());
            String seen = scope.join().get(0);
            String expected = peer == Peer.THREAD_LOCALS_3 ? "req-7f3a/acme/alice" : "null/null/null";
            if (!seen.equals(expected)) {
                throw new IllegalStateException("a subtask saw " + seen + ", expected " + expected);
            }
        }
    }

    @TearDown
    public void clear() {
        REQUEST_ID.remove();
        TENANT.remove();
        USER.remove();
    }

    @Benchmark
    public long forkJoin() throws Exception {
        List<Supplier<Integer>> r = results;
        r.clear();
        try (TaskScope<Integer, Void, java.util.concurrent.ExecutionException> scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), config)) {
            for (Callable<Integer> t : tasks) {
                r.add(scope.fork(t));
            }
            scope.join();
        }
        long s = 0;
        for (Supplier<Integer> x : r) {
            s += x.get();
        }
        return s;
    }
}

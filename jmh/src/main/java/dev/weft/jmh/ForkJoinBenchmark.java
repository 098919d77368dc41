package dev.weft.jmh;

import dev.weft.TaskScope;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fixed cost of structure: open a scope, fork N trivial subtasks (each returns its index), join,
 * read every result, close. The sum of the results is returned, so nothing is dead code.
 *
 * <p>Peers: Weft ({@code TaskScope.open()}), the JDK 25 {@code StructuredTaskScope.open()}, a
 * virtual-thread-per-task executor opened and closed around {@code invokeAll}, and RAW: N virtual
 * threads started and joined by hand, writing into an array (the floor: no scope at all).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-preview", "-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class ForkJoinBenchmark {

    public enum Peer { WEFT, JDK_STS, EXECUTOR, RAW }

    @Param({"1", "10", "1000", "10000"})
    public int n;

    @Param({"WEFT", "JDK_STS", "EXECUTOR", "RAW"})
    public Peer peer;

    private List<Callable<Integer>> tasks;
    private List<Supplier<Integer>> results;

    @Setup
    public void prepare() {
        tasks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int k = i;
            tasks.add(() -> k);
        }
        results = new ArrayList<>(n);
    }

    @Benchmark
    public long forkJoin() throws Exception {
        return switch (peer) {
            case WEFT -> weft();
            case JDK_STS -> jdk();
            case EXECUTOR -> executor();
            case RAW -> raw();
        };
    }

    private long weft() throws Exception {
        List<Supplier<Integer>> r = results;
        r.clear();
        try (TaskScope<Integer, Void, ExecutionException> scope = TaskScope.open()) {
            for (Callable<Integer> t : tasks) {
                r.add(scope.fork(t));
            }
            scope.join();
        }
        return sum(r);
    }

    private long jdk() throws Exception {
        List<Supplier<Integer>> r = results;
        r.clear();
        try (Sts.Scope scope = Sts.open()) {
            for (Callable<Integer> t : tasks) {
                r.add(scope.fork(t));
            }
            if (!scope.join()) {
                throw new IllegalStateException("a trivial subtask failed");
            }
        }
        return sum(r);
    }

    private long executor() throws Exception {
        long s = 0;
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Future<Integer> f : ex.invokeAll(tasks)) {
                s += f.get();
            }
        }
        return s;
    }

    private long raw() throws Exception {
        int size = tasks.size();
        int[] out = new int[size];
        Thread[] threads = new Thread[size];
        for (int i = 0; i < size; i++) {
            Callable<Integer> t = tasks.get(i);
            int k = i;
            threads[i] = Thread.startVirtualThread(() -> {
                try {
                    out[k] = t.call();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        long s = 0;
        for (int i = 0; i < size; i++) {
            threads[i].join();
            s += out[i];
        }
        return s;
    }

    private static long sum(List<Supplier<Integer>> r) {
        long s = 0;
        for (Supplier<Integer> x : r) {
            s += x.get();
        }
        return s;
    }
}

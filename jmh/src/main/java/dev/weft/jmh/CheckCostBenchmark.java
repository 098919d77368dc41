package dev.weft.jmh;

import dev.weft.Cancellation;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * The cost of asking "should I stop?", measured on a thread that is a running Weft subtask: the JMH
 * worker threads of this benchmark are subtasks (see {@link WeftWorkers}), so
 * {@code Cancellation.isRequested()} takes its production path (thread-local lookup of the task,
 * then a volatile read of its state). The task is not cancelled, so {@code check()} never throws.
 *
 * <p>Baselines: a plain volatile read of a field of this state (the hand-made flag), and
 * {@code Thread.currentThread().isInterrupted()} (what JDK code polls). Every method returns its
 * value, so JMH consumes it; the fields are not final and not constant, so nothing folds.
 * {@code isRequestedOutsideTask} runs on JMH's ordinary threads, where Weft falls back to the
 * interrupt status.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Djmh.executor=CUSTOM", "-Djmh.executor.class=dev.weft.jmh.WeftWorkers"})
@State(Scope.Thread)
public class CheckCostBenchmark {

    private volatile boolean flag;

    /** A per-thread stop flag, reached through a thread-local: see {@link #threadLocalFlag()}. */
    static final class Flag {
        volatile boolean stop;
    }

    private static final ThreadLocal<Flag> FLAG = ThreadLocal.withInitial(Flag::new);

    @Setup
    public void checkContext(BenchmarkParams params) {
        boolean inTask = WeftWorkers.currentSubtask() != null;
        if (inTask == params.getBenchmark().endsWith("OutsideTask")) {
            throw new IllegalStateException(params.getBenchmark() + (inTask ? " must not" : " must")
                    + " run on WeftWorkers threads (see its @Fork)");
        }
    }

    /** Weft: {@code Cancellation.isRequested()} inside a task. */
    @Benchmark
    public boolean weftIsRequested() {
        return Cancellation.isRequested();
    }

    /** Weft: {@code Cancellation.check()} inside a task that is not cancelled. */
    @Benchmark
    public void weftCheck() {
        Cancellation.check();
    }

    /** Baseline: a volatile boolean, as in a hand-made stop flag. */
    @Benchmark
    public boolean volatileRead() {
        return flag;
    }

    /** Baseline: the interrupt status, as JDK code polls it. */
    @Benchmark
    public boolean isInterrupted() {
        return Thread.currentThread().isInterrupted();
    }

    /**
     * Where {@code isRequested()}'s time goes: the first step of its lookup alone, the current
     * thread's uncaught-exception-handler slot, through the only public accessor,
     * {@code Thread.getUncaughtExceptionHandler()}, which first checks that the thread has not
     * terminated (it reads and decodes the thread's status). Not a target row.
     */
    @Benchmark
    public Thread.UncaughtExceptionHandler handlerSlot() {
        return Thread.currentThread().getUncaughtExceptionHandler();
    }

    /**
     * What the design contract describes for {@code isRequested()}, "a thread-local read and a
     * volatile read": a per-thread flag object found through a {@link ThreadLocal}, then its
     * volatile field. It shows what that mechanism costs against {@link #volatileRead()} on this
     * JIT and machine. Not a target row.
     */
    @Benchmark
    public boolean threadLocalFlag() {
        return FLAG.get().stop;
    }

    /** Weft outside any task (a plain JMH thread): the interrupt-status fallback. */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = "-Djmh.executor=PLATFORM")  // JMH merges @Fork attributes: override the class-level executor
    public boolean weftIsRequestedOutsideTask() {
        return Cancellation.isRequested();
    }
}

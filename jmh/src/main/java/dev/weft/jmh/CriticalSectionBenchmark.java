package dev.weft.jmh;

import dev.weft.Cancellation;
import dev.weft.TaskScope;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code try (var s = Cancellation.critical()) { }}: entering and leaving a critical section, on a
 * thread that is a Weft subtask (see {@link WeftWorkers}).
 *
 * <ul>
 *   <li>{@code enterExit}: the task is not cancelled: the common case.</li>
 *   <li>{@code enterExitCancelled}: the task was cancelled before the iteration (by itself), so each
 *       exit delivers the held-back interrupt to the thread and the next entry clears it again: the
 *       cost of a loop of sections that keeps running after a cancellation.</li>
 *   <li>{@code contended}: one thread enters and exits sections while a second thread keeps calling
 *       {@code Subtask.cancel()} on the first one's task. The first call cancels it; the later ones
 *       read its state word, which the section thread writes, so every entry and exit competes for
 *       that cache line. Scores: {@code contended:section} (enter + exit) and
 *       {@code contended:canceller} (one {@code cancel()} call).</li>
 *   <li>{@code enterExitOutsideTask}: a plain JMH thread, where sections only nest.</li>
 * </ul>
 * The interrupt status that {@code enterExitCancelled} and {@code contended} leave set is cleared
 * after each iteration, outside the measurement.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Djmh.executor=CUSTOM", "-Djmh.executor.class=dev.weft.jmh.WeftWorkers"})
@SuppressWarnings("try")        // the sections are used for their extent, never referenced
public class CriticalSectionBenchmark {

    /** The current worker's subtask, checked to exist. */
    @State(Scope.Thread)
    public static class InTask {
        TaskScope.Subtask<?> self;

        @Setup(Level.Iteration)
        public void find() {
            self = WeftWorkers.currentSubtask();
            if (self == null) {
                throw new IllegalStateException("CriticalSectionBenchmark must run on WeftWorkers threads (see its @Fork)");
            }
        }

        @TearDown(Level.Iteration)
        public void clearInterrupt() {
            Thread.interrupted();
        }
    }

    /** As {@link InTask}, and the task is cancelled before the iteration. */
    @State(Scope.Thread)
    public static class CancelledTask extends InTask {
        @Setup(Level.Iteration)
        public void cancelSelf() {
            find();                 // JMH does not order a state's set-up methods
            self.cancel();
            Thread.interrupted();
        }
    }

    /** Shared by the two threads of {@code contended}: the section thread's task. */
    @State(Scope.Group)
    public static class Target {
        volatile TaskScope.Subtask<?> sectionTask;
    }

    /** The section thread of {@code contended}: publishes its task to the canceller. */
    @State(Scope.Thread)
    public static class SectionThread extends InTask {
        @Setup(Level.Iteration)
        public void publish(Target target) {
            find();
            target.sectionTask = self;
        }
    }

    @Benchmark
    public void enterExit(InTask task) {
        try (Cancellation.Section s = Cancellation.critical()) {
            // empty: the cost of the section itself
        }
    }

    @Benchmark
    public void enterExitCancelled(CancelledTask task) {
        try (Cancellation.Section s = Cancellation.critical()) {
            // empty
        }
    }

    @Benchmark
    @Group("contended")
    @GroupThreads(1)
    public void section(SectionThread thread) {
        try (Cancellation.Section s = Cancellation.critical()) {
            // empty
        }
    }

    @Benchmark
    @Group("contended")
    @GroupThreads(1)
    public boolean canceller(Target target, InTask self) {
        TaskScope.Subtask<?> t = target.sectionTask;
        return t != null && t.cancel();
    }

    /** On a plain JMH thread (not a subtask). */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = "-Djmh.executor=PLATFORM")  // JMH merges @Fork attributes: override the class-level executor
    public void enterExitOutsideTask() {
        try (Cancellation.Section s = Cancellation.critical()) {
            // empty
        }
    }
}

package dev.weft.jmh;

import dev.weft.jmh.Children.Behaviour;

import java.lang.management.ManagementFactory;
import javax.management.ObjectName;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Retained heap per parked child, N = 100 000, from the JVM's live-object class histogram (the
 * {@code GC.class_histogram} diagnostic command, through the {@code DiagnosticCommand} MBean; it
 * runs a full GC first): the live heap with the N children parked, minus the mean of the live heap
 * before they started and after they ended, divided by N. (Averaging the two baselines cancels the
 * drift of the heap between invocations.) Not JMH's GC profiler, which measures allocation, not
 * retention.
 *
 * <p>Results, as JMH secondary metrics (the primary score, a time, means nothing):
 * <ul>
 *   <li>{@code bytesPerChild}: everything the child retains: its thread, continuation, stack, and
 *       the peer's bookkeeping. A parked virtual thread's stack is a heap object
 *       ({@code jdk.internal.vm.StackChunk}).</li>
 *   <li>{@code stackBytesPerChild}: the stack chunks alone. Their size depends on how the JIT
 *       compiled the parked frames, which varies from JVM to JVM by tens of bytes per child.</li>
 *   <li>{@code otherBytesPerChild}: the difference: objects other than stacks, which is
 *       deterministic.</li>
 * </ul>
 * "Beyond a raw virtual thread" is the peer's figure minus RAW's; {@code jmh/compare.sh} prints it.
 * Every peer carries the same ~28 bytes of harness per child (an array slot and the child's
 * lambda). JDK_STS forks one extra child (the failing sibling that stops the others), 1/N of an
 * error.
 *
 * <p>{@code checked=true}: each child first calls its peer's stop check once
 * ({@code Cancellation.isRequested()} for Weft, {@code isInterrupted()} otherwise), as a real child
 * would, which shows what that first call retains.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"--enable-preview", "-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class MemoryFootprintBenchmark {

    public enum Peer {
        WEFT(Children.Peer.WEFT_CANCEL), JDK_STS(Children.Peer.JDK_STS), RAW(Children.Peer.RAW);

        final Children.Peer children;

        Peer(Children.Peer children) {
            this.children = children;
        }
    }

    @Param({"100000"})
    public int n;

    @Param({"WEFT", "JDK_STS", "RAW"})
    public Peer peer;

    @Param({"false", "true"})
    public boolean checked;

    /** The results, as JMH secondary metrics. */
    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class Footprint {
        public double bytesPerChild;
        public double stackBytesPerChild;
        public double otherBytesPerChild;
    }

    private Children children;

    @Benchmark
    public void retained(Footprint result) throws Exception {
        Heap before = Heap.live();
        children = Children.start(peer.children, checked ? Behaviour.PARK_CHECKED : Behaviour.PARK, n, null);
        Heap during = Heap.live();
        stopChildren();
        Heap after = Heap.live();
        result.bytesPerChild = (during.total - (before.total + after.total) / 2.0) / n;
        result.stackBytesPerChild = (during.stacks - (before.stacks + after.stacks) / 2.0) / n;
        result.otherBytesPerChild = result.bytesPerChild - result.stackBytesPerChild;
    }

    /** Stops the children; also after a failed measurement. */
    @TearDown(Level.Invocation)
    public void stopChildren() throws Exception {
        Children c = children;
        children = null;
        if (c != null) {
            c.cancelAndAwait();
            c.verifyTerminated();
        }
    }

    /** Live heap bytes, in total and in virtual-thread stack chunks. */
    record Heap(long total, long stacks) {

        private static final String STACK_CHUNK = "jdk.internal.vm.StackChunk";

        static Heap live() throws Exception {
            System.gc();            // let references cleared by the previous cycle be collected too
            String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
            long total = -1;
            long stacks = 0;
            for (String line : histogram.split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 3 && f[0].equals("Total")) {
                    total = Long.parseLong(f[2]);
                } else if (f.length >= 4 && f[3].equals(STACK_CHUNK)) {
                    stacks += Long.parseLong(f[2]);
                }
            }
            if (total < 0) {
                throw new IllegalStateException("unexpected GC.class_histogram output: " + histogram.lines().limit(3).toList());
            }
            return new Heap(total, stacks);
        }
    }
}

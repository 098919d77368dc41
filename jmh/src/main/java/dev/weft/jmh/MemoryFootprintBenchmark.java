package dev.weft.jmh;

import dev.weft.jmh.Children.Behaviour;

import java.lang.management.ManagementFactory;
import javax.management.ObjectName;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jol.info.ClassLayout;

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
 * ({@code Cancellation.isRequested()} for Weft, {@code isInterrupted()} for JDK_STS and RAW,
 * {@code ensureActive()} for KOTLIN), as a real child would, which shows what that first call
 * retains.
 *
 * <p>Peers: WEFT, JDK_STS and RAW park a virtual thread per child; KOTLIN suspends a coroutine per
 * child in {@code awaitCancellation()} ({@link Coroutines}): no thread and no stack chunk, its
 * suspended frame is the coroutine object itself.
 *
 * <p><b>Breakdown.</b> At the end of each trial the fork prints (to its standard output, which JMH
 * shows and the scripts keep in their logs; lines starting with {@code #}) the retained bytes per
 * child by class, from the same three histograms, for every class with at least half an instance
 * or one byte per child and for the watched per-subtask classes (Weft's, the JDK's {@code StructuredTaskScope}
 * and {@code ThreadFlock}, {@code VirtualThread}, {@code Continuation}, {@code StackChunk},
 * kotlinx.coroutines'); then the field layout of each such class (JOL, {@code ClassLayout}), for a
 * per-field comparison of the peers.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"--enable-preview", "-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class MemoryFootprintBenchmark {

    public enum Peer {
        WEFT(Children.Peer.WEFT_CANCEL), JDK_STS(Children.Peer.JDK_STS), RAW(Children.Peer.RAW),
        /** Kotlin coroutines suspended in {@code awaitCancellation()}: no thread, no stack chunk. */
        KOTLIN(Children.Peer.KOTLIN);

        final Children.Peer children;

        Peer(Children.Peer children) {
            this.children = children;
        }
    }

    @Param({"100000"})
    public int n;

    @Param({"WEFT", "JDK_STS", "RAW", "KOTLIN"})
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
    /** The per-class breakdown of the last measurement, printed at the end of the trial. */
    private List<ClassShare> breakdown = List.of();

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
        breakdown = ClassShare.of(before, during, after, n);
    }

    /**
     * Prints, once per trial (in the fork's output, after the measurement), the per-class breakdown
     * of the last invocation and the field layout of each class in it, for a per-field comparison of
     * the peers' per-child objects.
     */
    @TearDown(Level.Trial)
    public void printBreakdown() {
        String what = peer + ", checked=" + checked + ", n=" + n;
        if (n < LAYOUT_MIN_N) {       // e.g. the smoke pass's n=1: every class the JVM loaded would be listed
            System.out.print("\n# Per-class breakdown of " + what + " not printed: it needs n >= " + LAYOUT_MIN_N + "\n");
            return;
        }
        System.out.print(ClassShare.format(breakdown, what));
    }

    /** Below this N, the per-class breakdown would be noise (classes loaded meanwhile), so it is not printed. */
    static final int LAYOUT_MIN_N = 1000;

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

    /**
     * Live heap bytes: in total, in virtual-thread stack chunks, and per class (instances and bytes,
     * keyed by the class name the histogram prints).
     */
    record Heap(long total, long stacks, Map<String, long[]> classes) {

        static final String STACK_CHUNK = "jdk.internal.vm.StackChunk";

        static Heap live() throws Exception {
            System.gc();            // let references cleared by the previous cycle be collected too
            String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
            return parse(histogram);
        }

        /** Parses {@code GC.class_histogram}: rows {@code "num: #instances #bytes class-name (module)"}, then {@code "Total ..."}. */
        static Heap parse(String histogram) {
            long total = -1;
            long stacks = 0;
            Map<String, long[]> classes = new HashMap<>();
            for (String line : histogram.split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 3 && f[0].equals("Total")) {
                    total = Long.parseLong(f[2]);
                } else if (f.length >= 4 && f[0].endsWith(":")) {
                    long instances = Long.parseLong(f[1]);
                    long bytes = Long.parseLong(f[2]);
                    long[] row = classes.computeIfAbsent(f[3], k -> new long[2]);   // a name can repeat (two loaders)
                    row[0] += instances;
                    row[1] += bytes;
                    if (f[3].equals(STACK_CHUNK)) {
                        stacks += bytes;
                    }
                }
            }
            if (total < 0) {
                throw new IllegalStateException("unexpected GC.class_histogram output: " + histogram.lines().limit(3).toList());
            }
            return new Heap(total, stacks, classes);
        }
    }

    /**
     * One class's share of the retained heap per child: instances and bytes with the children
     * parked, minus the mean of before and after, divided by N.
     */
    record ClassShare(String name, double instancesPerChild, double bytesPerChild) {

        /** At least this many instances per child make a class a per-child class. */
        static final double PER_CHILD = 0.5;

        /** Classes always listed when they retain anything: the per-subtask classes of each peer. */
        private static final String[] WATCHED = {
            "dev.weft.", "java.util.concurrent.StructuredTaskScope", "jdk.internal.misc.ThreadFlock",
            "java.lang.VirtualThread", "java.lang.ThreadBuilders", "jdk.internal.vm.Continuation",
            Heap.STACK_CHUNK, "kotlinx.coroutines.", "kotlin.coroutines.",
        };

        static List<ClassShare> of(Heap before, Heap during, Heap after, int n) {
            List<ClassShare> shares = new ArrayList<>();
            for (Map.Entry<String, long[]> e : during.classes.entrySet()) {
                long[] b = before.classes.getOrDefault(e.getKey(), new long[2]);
                long[] a = after.classes.getOrDefault(e.getKey(), new long[2]);
                double instances = (e.getValue()[0] - (b[0] + a[0]) / 2.0) / n;
                double bytes = (e.getValue()[1] - (b[1] + a[1]) / 2.0) / n;
                if (instances >= PER_CHILD || bytes >= 1.0 || (watched(e.getKey()) && bytes >= 0.5)) {
                    shares.add(new ClassShare(e.getKey(), instances, bytes));
                }
            }
            shares.sort(Comparator.comparingDouble(ClassShare::bytesPerChild).reversed());
            return shares;
        }

        private static boolean watched(String name) {
            for (String w : WATCHED) {
                if (name.startsWith(w)) {
                    return true;
                }
            }
            return false;
        }

        /** The breakdown as a table, then the field layout (JOL) of each class in it. */
        static String format(List<ClassShare> shares, String what) {
            StringBuilder out = new StringBuilder();
            out.append("\n# Retained heap per child by class, ").append(what)
                    .append(" (classes with >= ").append(PER_CHILD).append(" instances or >= 1 byte per child, and the watched per-subtask classes)\n");
            out.append(String.format(Locale.ROOT, "#   %12s %12s %12s  %s%n", "instances", "bytes", "bytes/inst.", "class"));
            double sum = 0;
            for (ClassShare c : shares) {
                sum += c.bytesPerChild;
                out.append(String.format(Locale.ROOT, "#   %12.3f %12.1f %12.1f  %s%n", c.instancesPerChild, c.bytesPerChild,
                        c.instancesPerChild > 0 ? c.bytesPerChild / c.instancesPerChild : Double.NaN, c.name));
            }
            out.append(String.format(Locale.ROOT, "#   %12s %12.1f %12s  %s%n", "", sum, "", "(sum of these rows)"));
            for (ClassShare c : shares) {
                out.append(layout(c.name));
            }
            return out.toString();
        }

        /** JOL's field layout of a class; a note instead for arrays, hidden classes (lambdas) and failures. */
        private static String layout(String name) {
            // Field layouts need no instrumentation agent: do not let JOL try to attach one (slow, and refused on JDK 21+)
            System.setProperty("jol.skipDynamicAttach", "true");
            System.setProperty("jol.skipInstallAttach", "true");
            if (name.startsWith("[")) {
                return "# " + name + ": an array (header, then elements)\n";
            }
            try {
                Class<?> c = Class.forName(name, false, MemoryFootprintBenchmark.class.getClassLoader());
                return ClassLayout.parseClass(c).toPrintable().lines().map(l -> "# " + l + "\n")
                        .reduce("", String::concat);
            } catch (ClassNotFoundException e) {
                return "# " + name + ": no layout (a hidden class, such as a lambda, cannot be looked up by name)\n";
            } catch (RuntimeException | LinkageError e) {
                return "# " + name + ": no layout (" + e + ")\n";
            }
        }
    }
}

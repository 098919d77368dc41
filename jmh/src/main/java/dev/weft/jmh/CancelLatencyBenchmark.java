package dev.weft.jmh;

import dev.weft.jmh.Children.Behaviour;
import dev.weft.jmh.Children.Peer;

import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * Cancellation latency: the time from the cancel trigger until the peer's {@code close()} (or
 * {@code awaitTermination}, or the last {@code join()}) returns with every child finished.
 *
 * <p>One invocation is one cancellation ({@code SingleShotTime}). The N children are started and
 * observed blocked in {@code @Setup(Level.Invocation)}, outside the timed region (see
 * {@link Children}); for N &ge; 10 000 the set-up also runs {@code System.gc()}, so that a collection
 * caused by the set-up does not land in the timed region. {@code @TearDown(Level.Invocation)}
 * checks, untimed, that every child thread has terminated.
 *
 * <p>JMH cannot skip parameter combinations, so each child behaviour is its own benchmark method
 * with its own state, listing only the peers that make sense for it:
 * <ul>
 *   <li>{@code sleep}, {@code socket}: no FLAG (a flag cannot wake a sleeping thread or a blocked
 *       read); {@code socket} only for N &le; 1 000 (two file descriptors per child);</li>
 *   <li>{@code park}, {@code poll}: every peer (FLAG unparks each parked child after setting the
 *       flag);</li>
 *   <li>{@code critical}: Weft only (a critical section that ends 1 ms after the trigger).</li>
 * </ul>
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5)
@Measurement(iterations = 20)
@Fork(value = 2, jvmArgsAppend = {"--enable-preview", "-Xms2g", "-Xmx2g"})
public class CancelLatencyBenchmark {

    /** Above this many children the set-up collects garbage before the timed region. */
    static final int GC_BEFORE_TRIGGER = 10_000;

    /** The per-invocation fixture; subclasses only declare their parameters. */
    public abstract static class Fixture {
        private ServerSocket server;
        private Children children;

        abstract int n();

        abstract Peer peer();

        abstract Behaviour behaviour();

        @Setup(Level.Trial)
        public void openServer() throws Exception {
            if (behaviour() == Behaviour.SOCKET) {
                server = Children.loopbackServer();
            }
        }

        @Setup(Level.Invocation)
        public void startChildren() throws Exception {
            children = Children.start(peer(), behaviour(), n(), server);
            if (n() >= GC_BEFORE_TRIGGER) {
                System.gc();
            }
        }

        @TearDown(Level.Invocation)
        public void checkTerminated() throws Exception {
            Children c = children;
            children = null;
            c.verifyTerminated();
        }

        @TearDown(Level.Trial)
        public void closeServer() throws Exception {
            if (server != null) {
                server.close();
            }
        }

        void cancelAndAwait() throws Exception {
            children.cancelAndAwait();
        }
    }

    @State(Scope.Thread)
    public static class SleepState extends Fixture {
        @Param({"1", "1000", "10000", "100000"})
        public int n;
        @Param({"WEFT_CANCEL", "WEFT_SIBLING", "JDK_STS", "EXECUTOR", "RAW"})
        public Peer peer;

        @Override int n() { return n; }
        @Override Peer peer() { return peer; }
        @Override Behaviour behaviour() { return Behaviour.SLEEP; }
    }

    @State(Scope.Thread)
    public static class ParkState extends Fixture {
        @Param({"1", "1000", "10000", "100000"})
        public int n;
        @Param({"WEFT_CANCEL", "WEFT_SIBLING", "JDK_STS", "EXECUTOR", "RAW", "FLAG"})
        public Peer peer;

        @Override int n() { return n; }
        @Override Peer peer() { return peer; }
        @Override Behaviour behaviour() { return Behaviour.PARK; }
    }

    @State(Scope.Thread)
    public static class PollState extends Fixture {
        @Param({"1", "1000", "10000", "100000"})
        public int n;
        @Param({"WEFT_CANCEL", "WEFT_SIBLING", "JDK_STS", "EXECUTOR", "RAW", "FLAG"})
        public Peer peer;

        @Override int n() { return n; }
        @Override Peer peer() { return peer; }
        @Override Behaviour behaviour() { return Behaviour.POLL; }
    }

    @State(Scope.Thread)
    public static class SocketState extends Fixture {
        @Param({"1", "1000"})
        public int n;
        @Param({"WEFT_CANCEL", "WEFT_SIBLING", "JDK_STS", "EXECUTOR", "RAW"})
        public Peer peer;

        @Override int n() { return n; }
        @Override Peer peer() { return peer; }
        @Override Behaviour behaviour() { return Behaviour.SOCKET; }
    }

    @State(Scope.Thread)
    public static class CriticalState extends Fixture {
        @Param({"1", "1000", "10000", "100000"})
        public int n;
        @Param({"WEFT_CANCEL", "WEFT_SIBLING"})
        public Peer peer;

        @Override int n() { return n; }
        @Override Peer peer() { return peer; }
        @Override Behaviour behaviour() { return Behaviour.CRITICAL; }
    }

    /** Children in {@code Thread.sleep}. */
    @Benchmark
    public void sleep(SleepState s) throws Exception {
        s.cancelAndAwait();
    }

    /** Children in {@code LockSupport.park()}. The target rows of docs/design.md are N = 10 000 and 100 000 here. */
    @Benchmark
    public void park(ParkState s) throws Exception {
        s.cancelAndAwait();
    }

    /** Children busy-polling their peer's stop check, yielding between polls. */
    @Benchmark
    public void poll(PollState s) throws Exception {
        s.cancelAndAwait();
    }

    /** Children blocked reading a loopback socket. */
    @Benchmark
    public void socket(SocketState s) throws Exception {
        s.cancelAndAwait();
    }

    /** Weft only: children inside a critical section that ends 1 ms after the trigger; the score includes that 1 ms. */
    @Benchmark
    public void critical(CriticalState s) throws Exception {
        s.cancelAndAwait();
    }
}

package dev.weft.samples;

import static dev.weft.samples.Show.brief;
import static dev.weft.samples.Show.count;
import static dev.weft.samples.Show.say;
import static dev.weft.samples.Show.since;

import dev.weft.CancelledException;
import dev.weft.Cancellation;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Sample 2: TensorFlow's {@code tf.train.Coordinator}, without its failure modes.
 *
 * <p>Eight workers loop until a stop is requested, as TensorFlow's do with
 * {@code coord.wait_for_stop(timeout)}: {@code Cancellation.await(step)} returns {@code true} on the
 * stop instead of throwing, so the loop ends cleanly and the worker returns its count. A ninth reads a feed that never answers, blocked in a socket read
 * that ignores interrupts (these are platform threads, as TensorFlow's are). The main thread
 * requests a stop ({@code scope.cancel()} for {@code coord.request_stop()}), and {@code close()}
 * with a 1 s grace period plays {@code coord.join(threads, stop_grace_period_secs=1)}.
 * <ul>
 *   <li>the workers see the stop in {@code Cancellation.await} and return cleanly;</li>
 *   <li>the blocked reader is unblocked by {@code Cancellation.onCancel(socket)}, which closes its
 *       socket;</li>
 *   <li>when a worker fails, the others stop and {@code join()} reports the failure.</li>
 * </ul>
 * The contrast is the hand-made version ({@code volatile boolean} flag, a thread pool): the
 * blocked reader never sees the flag, and the worker's exception vanishes into a {@code Future}
 * nobody reads. This answers the TensorFlow API documentation of {@code tf.train.Coordinator}
 * (https://www.tensorflow.org/api_docs/python/tf/train/Coordinator) and the question "Does
 * TensorFlow's Coordinator reliably stop threads?": blocked workers, and exceptions that are lost.
 *
 * <p>Run alone: {@code mvn -q -pl samples -am -Ptour -DskipTests package -Dsample=Sample02_Coordinator}
 */
public final class Sample02_Coordinator {

    private Sample02_Coordinator() {
    }

    private static final int WORKERS = 8;
    /** The worker that fails, in the runs that have one. */
    private static final int FAILING = 5;

    /** The pace of a training step. */
    private static final Duration STEP = Duration.ofMillis(1);

    // tag::worker[]
    static int trainLoop(CountDownLatch started) {
        started.countDown();
        int steps = 0;
        while (!Cancellation.await(STEP)) {              // coord.wait_for_stop(step): false means go on
            steps++;                                     // one training step
        }
        return steps;                                    // a clean exit: the worker reports its work
    }
    // end::worker[]

    static int failingTrainLoop(CountDownLatch started) throws InterruptedException {
        started.countDown();
        started.await();                                 // fail only once everyone is working
        int steps = 0;
        while (!Cancellation.await(STEP)) {
            if (++steps == 50) {
                throw new IllegalStateException("worker-" + FAILING + ": corrupt batch at step 50");
            }
        }
        return steps;
    }

    // tag::reader[]
    @SuppressWarnings("try")                             // the registration is only closed, never read
    static String readFeed(Socket feed, CountDownLatch started) throws IOException {
        started.countDown();
        try (var registration = Cancellation.onCancel(feed)) {   // a cancellation closes the socket
            int b = feed.getInputStream().read();        // blocks; on a platform thread, interrupts do not reach it
            return "read " + b;
        }
    }
    // end::reader[]

    public static void main(String[] args) throws Exception {
        // A feed that accepts connections and never sends a byte.
        try (var server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            say("1. Eight workers train; a ninth reads a feed that never answers. The main thread requests a stop after 200 ms.");
            stopRequested(server);
            say("2. The same, but worker-%d fails at step 50.", FAILING);
            workerFails(server);
            say("3. The hand-made version: a volatile boolean flag and a thread pool, with the same failure.");
            handMade(server);
        }
    }

    private static TaskScope<Object, Void, ExecutionException> openCoordinator() {
        return TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), cfg -> cfg
                .withName("coordinator")
                .withThreadFactory(Thread.ofPlatform().name("trainer-", 0).factory())
                .withGrace(Duration.ofSeconds(1)));      // coord.join(threads, stop_grace_period_secs=1)
    }

    private static void stopRequested(ServerSocket server) throws Exception {
        List<Subtask<Integer>> workers = new ArrayList<>();
        Subtask<String> reader;
        long stop;
        var started = new CountDownLatch(WORKERS + 1);
        try (var feed = connect(server); var scope = openCoordinator()) {
            for (int i = 0; i < WORKERS; i++) {
                workers.add(scope.fork("worker-" + i, () -> trainLoop(started)));
            }
            reader = scope.fork("reader", () -> readFeed(feed, started));
            started.await();                             // (a subtask cancelled before it starts never runs)
            Thread.sleep(200);                           // the main thread's own work
            stop = System.nanoTime();
            scope.cancel();                              // coord.request_stop()
            try {
                scope.join();                            // waits (within the grace period) for all nine to end
            } catch (CancelledException requested) {
                // the stop we asked for: join() says the scope was cancelled, as it should
                say("   all %d threads ended %s after the stop request (join: %s)", WORKERS + 1, since(stop),
                        requested.getClass().getSimpleName());
            }
        }
        int steps = workers.stream().mapToInt(Subtask::get).sum();
        say("   %d workers returned cleanly after %s steps in total", workers.size(), count(steps));
        say("   reader: %s, unblocked by onCancel, which closed its socket (%s)", reader.state(), brief(reader.exception()));
    }

    private static void workerFails(ServerSocket server) throws Exception {
        List<Subtask<Integer>> workers = new ArrayList<>();
        Subtask<String> reader;
        long start = System.nanoTime();
        var started = new CountDownLatch(WORKERS + 1);
        try (var feed = connect(server); var scope = openCoordinator()) {
            for (int i = 0; i < WORKERS; i++) {
                workers.add(scope.fork("worker-" + i,
                        i == FAILING ? () -> failingTrainLoop(started) : () -> trainLoop(started)));
            }
            reader = scope.fork("reader", () -> readFeed(feed, started));
            try {
                scope.join();
                throw new AssertionError("join() should have reported the failure");
            } catch (ExecutionException e) {
                say("   join() threw after %s, with the failure as its cause: %s", since(start), brief(e.getCause()));
            }
        }
        long clean = workers.stream().filter(w -> w.state() == Subtask.State.SUCCESS).count();
        say("   the failure stopped the others: %d workers returned cleanly, the reader was %s", clean, reader.state());
    }

    /** What people write by hand: a flag, a pool, and a bounded wait. */
    private static void handMade(ServerSocket server) throws Exception {
        var running = new Object() {
            volatile boolean value = true;               // the hand-made stop flag
        };
        ExecutorService pool = Executors.newFixedThreadPool(WORKERS + 1);
        List<Future<?>> futures = new ArrayList<>();
        try (var feed = connect(server)) {
            for (int i = 0; i < WORKERS; i++) {
                int id = i;
                futures.add(pool.submit(() -> {
                    int steps = 0;
                    while (running.value) {
                        LockSupport.parkNanos(STEP.toNanos());     // one training step
                        if (id == FAILING && ++steps == 50) {
                            throw new IllegalStateException("worker-" + FAILING + ": corrupt batch at step 50");
                        }
                    }
                    return steps;
                }));
            }
            futures.add(pool.submit(() -> feed.getInputStream().read()));
            Thread.sleep(200);
            running.value = false;                       // request_stop()
            pool.shutdown();
            long stop = System.nanoTime();
            boolean allEnded = pool.awaitTermination(1, TimeUnit.SECONDS);   // join(threads, grace=1 s)
            say("   after %s: all threads ended? %s. The reader is still blocked: it cannot see the flag.",
                    since(stop), allEnded);
            Future<?> failed = futures.get(FAILING);
            say("   the main thread saw no exception; worker-%d's failure sat in a Future nobody read: %s",
                    FAILING, failed.state() == Future.State.FAILED ? brief(failed.exceptionNow()) : failed.state());
        } finally {
            // The socket is closed by the try above, which unblocks the reader; now the pool can end.
            pool.shutdownNow();
            if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the hand-made pool did not end after its socket was closed");
            }
        }
    }

    private static Socket connect(ServerSocket server) throws IOException {
        return new Socket(server.getInetAddress(), server.getLocalPort());
    }
}

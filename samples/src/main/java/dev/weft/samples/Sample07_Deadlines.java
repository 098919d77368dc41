package dev.weft.samples;

import static dev.weft.samples.Show.brief;
import static dev.weft.samples.Show.ms;
import static dev.weft.samples.Show.say;
import static dev.weft.samples.Show.since;

import dev.weft.CancelledException;
import dev.weft.Cancellation;
import dev.weft.DeadlineExceededException;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sample 7: deadlines that nest, and the time left handed to I/O.
 *
 * <ol>
 *   <li>A request has 300 ms. A scope nested in it asks for 5 s; its subtasks see the request's
 *       tighter deadline, through {@code Cancellation.deadline()} and {@code remaining()}.</li>
 *   <li>A call to a server that never answers gets {@code Cancellation.remaining()}, less a reserve,
 *       as its socket timeout: it gives up in time to answer from a cache, and the request still
 *       ends inside its deadline.</li>
 *   <li>Without that care, the deadline passes: the request's {@code join()} throws
 *       {@code DeadlineExceededException}, and the nested scope, cancelled from above, throws a
 *       plain {@code CancelledException} that says why.</li>
 * </ol>
 * This answers the deadline side of the TensorFlow questions "Does TensorFlow's Session.close()
 * interrupt Session.run() in another thread?" and "Does TensorFlow's Coordinator reliably stop
 * threads?":
 * a {@code run()} or a {@code join()} that may block for ever needs a limit that nested work
 * inherits, not a grace period bolted on at the end.
 *
 * <p>Run alone: {@code mvn -q -pl samples -am -Ptour -DskipTests package -Dsample=Sample07_Deadlines}
 */
public final class Sample07_Deadlines {

    private Sample07_Deadlines() {
    }

    // tag::remaining[]
    static String recommendations(Socket socket) throws IOException {
        Duration left = Cancellation.remaining().orElse(Duration.ofSeconds(30));
        Duration reserve = Duration.ofMillis(100);       // time kept to answer from the cache
        socket.setSoTimeout((int) Math.max(1, left.minus(reserve).toMillis()));
        try {
            return "fresh recommendations, first byte " + socket.getInputStream().read();
        } catch (SocketTimeoutException e) {
            return "cached recommendations";             // the server was too slow: answer in time anyway
        }
    }
    // end::remaining[]

    public static void main(String[] args) throws Exception {
        inheritedDeadline();
        remainingForIo();
        deadlinePasses();
    }

    private static void inheritedDeadline() throws Exception {
        say("1. A request with 300 ms; inside it, a search scope that asks for 5,000 ms.");
        try (var request = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                                          cfg -> cfg.withName("request").withTimeout(Duration.ofMillis(300)))) {
            request.fork("search", () -> {
                try (var search = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                                                 cfg -> cfg.withName("search").withTimeout(Duration.ofSeconds(5)))) {
                    search.fork("shard", () -> {
                        Instant deadline = Cancellation.deadline().orElseThrow();
                        say("   a shard sees Cancellation.remaining() = %s: the request's deadline (%s UTC), which is tighter",
                                ms(Cancellation.remaining().orElseThrow().toNanos()),
                                DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneOffset.UTC).format(deadline));
                        return "results";
                    });
                    return search.join().get(0);
                }
            });
            say("   the request got %s", request.join());
        }
    }

    private static void remainingForIo() throws Exception {
        say("2. The request (400 ms) calls a server that never answers, with remaining() less 100 ms as socket timeout.");
        try (var server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             var socket = new Socket(server.getInetAddress(), server.getLocalPort())) {
            long start = System.nanoTime();
            try (var request = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                                              cfg -> cfg.withName("request").withTimeout(Duration.ofMillis(400)))) {
                request.fork("recommendations", () -> recommendations(socket));
                say("   the request got \"%s\" after %s, inside its 400 ms deadline", request.join().get(0), since(start));
            }
        }
    }

    private static void deadlinePasses() throws Exception {
        say("3. The request (200 ms) waits for a nested scope whose call takes 5 s.");
        var nested = new AtomicReference<CancelledException>();
        Subtask<Object> lookup;
        long start = System.nanoTime();
        try (var request = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(),
                                          cfg -> cfg.withName("request").withTimeout(Duration.ofMillis(200)))) {
            lookup = request.fork("lookup", () -> {
                try (var inner = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), cfg -> cfg.withName("lookup"))) {
                    inner.fork("slow-call", () -> {
                        Thread.sleep(5_000);
                        return null;
                    });
                    inner.join();
                    return null;
                } catch (CancelledException e) {
                    nested.set(e);
                    throw e;
                }
            });
            try {
                request.join();
                throw new AssertionError("the request should have missed its deadline");
            } catch (DeadlineExceededException e) {
                say("   after %s the request's join() threw %s", since(start), brief(e));
            }
        }
        say("   the nested scope's join() threw %s", brief(nested.get()));
        say("   the lookup subtask ended %s; no thread is left running", lookup.state());
    }
}

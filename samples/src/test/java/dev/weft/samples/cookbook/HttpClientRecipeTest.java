package dev.weft.samples.cookbook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.weft.Cancellation;
import dev.weft.CancelledException;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The HttpClient recipe against a local {@code com.sun.net.httpserver} server that stalls. */
@Timeout(30)
@SuppressWarnings("try")       // registrations and sections are used for their extent
class HttpClientRecipeTest {

    private HttpServer server;
    private URI stalling;
    private URI quick;
    private final CountDownLatch requestArrived = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final HttpClient client = HttpClient.newHttpClient();

    @BeforeEach
    void startServer() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/stall", exchange -> {
            requestArrived.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);         // answers only when the test is over
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.createContext("/quick", exchange -> {
            byte[] body = "hello".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        stalling = URI.create(base + "/stall");
        quick = URI.create(base + "/quick");
    }

    @AfterEach
    void stopServer() {
        release.countDown();
        server.stop(0);
        client.close();
    }

    @Test
    void get_answersNormally() throws Exception {
        try (var scope = TaskScope.<String, Void, java.util.concurrent.ExecutionException>open(Joiner.awaitAllSuccessfulOrThrow(),
                cfg -> cfg.withTimeout(Duration.ofSeconds(20)))) {
            var body = scope.fork(() -> Recipes.get(client, quick));
            scope.join();
            assertThat(body.get()).isEqualTo("hello");
        }
    }

    @Test
    void cancellingTheTask_endsAStalledRequest_andTheTaskIsCancelled() throws Exception {
        Subtask<String> request;
        long start = System.nanoTime();
        try (var scope = TaskScope.<String, Void, RuntimeException>open(Joiner.awaitAll(),
                cfg -> cfg.withGrace(Duration.ofSeconds(10)))) {
            request = scope.fork(() -> Recipes.get(client, stalling));
            assertThat(requestArrived.await(20, TimeUnit.SECONDS)).isTrue();
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(request.state()).isEqualTo(Subtask.State.CANCELLED);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15)); // the server stalls 30 s
    }

    @Test
    void taskDeadline_isTheRequestTimeout_evenWhereCancellationCannotReach() throws Exception {
        var outcome = new AtomicReference<Throwable>();
        long start = System.nanoTime();
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withTimeout(Duration.ofSeconds(1)).withGrace(Duration.ofSeconds(10)))) {
            scope.fork(() -> {
                // A critical section holds Weft's cancellation back: only the request timeout can end the wait.
                try (var cs = Cancellation.critical("request that must not be interrupted")) {
                    return Recipes.get(client, stalling);
                } catch (Exception e) {
                    outcome.set(e);
                    return null;
                }
            });
            assertThatThrownBy(scope::join).isInstanceOf(dev.weft.DeadlineExceededException.class);
        }
        assertThat(outcome.get()).isInstanceOf(HttpTimeoutException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .isGreaterThanOrEqualTo(Duration.ofMillis(900)).isLessThan(Duration.ofSeconds(15));
    }
}

package dev.weft.samples.cookbook;

import dev.weft.Cancellation;
import dev.weft.CancelledException;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The recipes of {@code docs/cookbook.md}: the code there is the code between the tags here, and
 * the tests beside this class run it against real components.
 */
@SuppressWarnings("try")       // registrations and sections are used for their extent
final class Recipes {

    private Recipes() {
    }

    // tag::http[]
    /** GET {@code uri}: cancelled with the task, and timed out at the task's deadline. */
    static String get(HttpClient client, URI uri) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri);
        Optional<Duration> left = Cancellation.remaining();
        if (left.isPresent()) {
            request.timeout(left.get().isZero() ? Duration.ofMillis(1) : left.get()); // HttpTimeoutException then
        }
        CompletableFuture<HttpResponse<String>> response =
                client.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString());
        try (var reg = Cancellation.onCancel(() -> response.cancel(true))) {  // aborts the exchange
            return response.get().body();       // an interrupt ends the wait; onCancel ends the request
        } catch (CancellationException e) {
            throw new CancelledException("GET " + uri + " was cancelled", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }
    // end::http[]

    // tag::jdbc[]
    /** Runs a query that returns one number: cancelled with the task, and timed out at its deadline. */
    static long queryForLong(Connection db, String sql) throws SQLException {
        try (Statement statement = db.createStatement();
             var reg = Cancellation.onCancel(statement::cancel)) {     // the driver stops the query
            Optional<Duration> left = Cancellation.remaining();
            if (left.isPresent()) {
                statement.setQueryTimeout(secondsRoundedUp(left.get())); // 0 would mean "no timeout"
            }
            Cancellation.check();     // cancel() stops only a running query: one that came earlier is seen here
            try (ResultSet rs = statement.executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            } catch (SQLException e) {
                if (reg.isClosedByCancellation()) {               // ends the task as CANCELLED, not FAILED
                    throw new CancelledException("query cancelled: " + sql, e);
                }
                throw e;
            }
        }
    }

    /** JDBC timeouts are whole seconds; round up, and never 0. */
    static int secondsRoundedUp(Duration d) {
        long s = d.getSeconds() + (d.getNano() > 0 ? 1 : 0);
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, s));
    }
    // end::jdbc[]

    // tag::process[]
    /** Runs a child process to its end; cancelling the task stops the child, politely first. */
    static int run(ProcessBuilder command, Duration politeness) throws IOException, InterruptedException {
        Process child = command.start();
        try (var reg = Cancellation.onCancel(() -> stop(child, politeness))) {
            return child.waitFor();
        }
    }

    /** SIGTERM, then SIGKILL if the child is still alive after {@code politeness}. */
    static void stop(Process child, Duration politeness) throws InterruptedException {
        child.destroy();
        if (!child.waitFor(politeness.toMillis(), TimeUnit.MILLISECONDS)) {
            child.destroyForcibly();
            child.waitFor();                    // the kernel reaps it at once
        }
    }
    // end::process[]

    // tag::socket[]
    /** Reads one byte; a platform thread blocked here ignores interrupts, so close the socket. */
    static int readByte(Socket socket) throws IOException {
        try (var reg = Cancellation.onCancel(socket)) {   // closing the socket ends the read
            return socket.getInputStream().read();        // SocketException then: the task is CANCELLED
        }
    }
    // end::socket[]
}

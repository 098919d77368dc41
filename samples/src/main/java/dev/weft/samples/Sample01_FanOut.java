package dev.weft.samples;

import static dev.weft.samples.Show.brief;
import static dev.weft.samples.Show.ms;
import static dev.weft.samples.Show.say;
import static dev.weft.samples.Show.since;

import dev.weft.DeadlineExceededException;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;

/**
 * Sample 1: fan out, fail fast, and a deadline.
 *
 * <p>A page is built from three backend calls made at once. When one call fails, the two others
 * are cancelled at once and the failure reaches the caller. With a deadline, a call that is too
 * slow is cancelled when the time is up. This answers the TensorFlow question "Does TensorFlow's
 * Session.close() interrupt Session.run() in another thread?" ({@code tf.compat.v1.Session} in the
 * TensorFlow API documentation): closing a TensorFlow session does not stop a {@code run()} in
 * flight; a Weft scope stops every call in
 * flight as soon as the outcome is known, and never lets one outlive the method.
 *
 * <p>Run alone: {@code mvn -q -pl samples -am -Ptour -DskipTests package -Dsample=Sample01_FanOut}
 */
public final class Sample01_FanOut {

    /** What the three calls build. */
    record Page(String user, String orders, String ads) {
    }

    /** A fake backend: each call takes its latency; the call named {@code failing} then throws. */
    record Backend(long userMillis, long ordersMillis, long adsMillis, String failing) {

        String user(int id) throws IOException, InterruptedException {
            return call("user", userMillis, id);
        }

        String orders(int id) throws IOException, InterruptedException {
            return call("orders", ordersMillis, id);
        }

        String ads(int id) throws IOException, InterruptedException {
            return call("ads", adsMillis, id);
        }

        private String call(String service, long millis, int id) throws IOException, InterruptedException {
            long start = System.nanoTime();
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                say("   %-6s call cancelled after %s (it would have taken %s)", service, since(start), ms(millis * 1_000_000));
                throw e;                       // ends the subtask as CANCELLED
            }
            if (service.equals(failing)) {
                throw new IOException(service + " service unavailable");
            }
            return service + "#" + id;
        }
    }

    private final Backend backend;

    Sample01_FanOut(Backend backend) {
        this.backend = backend;
    }

    // tag::quickstart[]
    Page loadPage(int userId) throws ExecutionException, InterruptedException {
        try (var scope = TaskScope.open()) {             // all must succeed; the first failure cancels the rest
            Subtask<String> user   = scope.fork(() -> backend.user(userId));
            Subtask<String> orders = scope.fork(() -> backend.orders(userId));
            Subtask<String> ads    = scope.fork(() -> backend.ads(userId));
            scope.join();                                // waits for all three, or throws the first failure
            return new Page(user.get(), orders.get(), ads.get());
        }                                                // close(): no call outlives this block
    }
    // end::quickstart[]

    // tag::deadline[]
    Page loadPageWithin(int userId, Duration budget) throws ExecutionException, InterruptedException {
        try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(),
                                        cfg -> cfg.withName("page").withTimeout(budget))) {
            Subtask<String> user   = scope.fork(() -> backend.user(userId));
            Subtask<String> orders = scope.fork(() -> backend.orders(userId));
            Subtask<String> ads    = scope.fork(() -> backend.ads(userId));
            scope.join();                                // DeadlineExceededException when the budget runs out
            return new Page(user.get(), orders.get(), ads.get());
        }
    }
    // end::deadline[]

    public static void main(String[] args) throws Exception {
        // Warm up: load Weft's classes first, so that the times below measure the calls, not class loading.
        new Sample01_FanOut(new Backend(0, 0, 0, null)).loadPage(0);

        say("1. Three calls at once (50, 80 and 120 ms), all succeed.");
        long start = System.nanoTime();
        Page page = new Sample01_FanOut(new Backend(50, 80, 120, null)).loadPage(42);
        say("   page built in %s (one call after the other would take 250 ms): %s", since(start), page);

        say("2. The orders call fails after 30 ms; ads would take 2,000 ms.");
        start = System.nanoTime();
        try {
            new Sample01_FanOut(new Backend(50, 30, 2_000, "orders")).loadPage(42);
            throw new AssertionError("loadPage should have failed");
        } catch (ExecutionException e) {
            say("   loadPage threw after %s: %s", since(start), brief(e.getCause()));
            say("   the failure reached the caller, and no call was left running.");
        }

        say("3. A 150 ms budget; ads takes 2,000 ms.");
        start = System.nanoTime();
        try {
            new Sample01_FanOut(new Backend(50, 80, 2_000, null)).loadPageWithin(42, Duration.ofMillis(150));
            throw new AssertionError("loadPageWithin should have missed its deadline");
        } catch (DeadlineExceededException e) {
            say("   loadPageWithin threw after %s: %s", since(start), e.getClass().getSimpleName());
            say("   the slow call was cancelled at the deadline, not abandoned.");
        }
    }
}

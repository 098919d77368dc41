package dev.weft.samples;

import static dev.weft.samples.Show.say;
import static dev.weft.samples.Show.since;

import dev.weft.CancelledException;
import dev.weft.GracePeriodExceededException;
import dev.weft.GracePeriodExceededException.Straggler;
import dev.weft.Scopes;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Sample 3: a worker that ignores interruption, and a {@code close()} that still returns on time.
 *
 * <p>Two workers run; one of them swallows every interrupt (a bug often met in real code). After
 * a cancel, {@code close()} with a 500 ms grace period returns after 500 ms and throws a
 * {@code GracePeriodExceededException} that names the straggler: its name, age, thread, and where
 * it is stuck. Java cannot kill threads, so the straggler keeps running, and Weft keeps it listed
 * in {@code Scopes.dump()} until it ends. TensorFlow's {@code coord.join(threads)} and the JDK's
 * {@code StructuredTaskScope.close()} wait until every thread ends, which here is never; the
 * contrast shows the JDK's {@code ExecutorService.close()} doing exactly that, bounded by a
 * timeout so that the tour goes on. This answers {@code tf.train.Coordinator}'s
 * {@code join(threads, stop_grace_period_secs)} (TensorFlow API documentation), and the question
 * "Does TensorFlow's Coordinator reliably stop threads?": a thread that never checks
 * {@code should_stop()} keeps {@code join()} waiting.
 *
 * <p>Run alone: {@code mvn -q -pl samples -am -Ptour -DskipTests package -Dsample=Sample03_StuckWorker}
 */
public final class Sample03_StuckWorker {

    private Sample03_StuckWorker() {
    }

    /** Released at the end of the sample, so that the stuck workers end before the next sample. */
    private static final CountDownLatch RELEASE = new CountDownLatch(1);

    /** A well-behaved worker: it sleeps between pages, and the interrupt wakes it. */
    static Void crawl(CountDownLatch started) throws InterruptedException {
        started.countDown();
        while (true) {
            Thread.sleep(10);                             // fetch the next page
        }
    }

    /** A worker that ignores interruption. Only {@link #RELEASE}, outside Weft, ends it. */
    static void indexIgnoringInterrupts(CountDownLatch started) {
        started.countDown();
        while (RELEASE.getCount() > 0) {
            try {
                Thread.sleep(10);                         // index the next batch
            } catch (InterruptedException e) {
                // BUG, on purpose: the interrupt is swallowed, so cancellation cannot stop this worker
            }
        }
    }

    static GracePeriodExceededException stopIndexing(CountDownLatch started) throws InterruptedException {
        // tag::bounded-shutdown[]
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("indexing")
                .withTimeout(Duration.ofMillis(300))          // the deadline cancels both workers
                .withGrace(Duration.ofMillis(500)))) {        // then join() and close() wait 500 ms at most
            scope.fork("crawler", () -> crawl(started));
            scope.fork("indexer", () -> indexIgnoringInterrupts(started));
            scope.join();                                     // throws DeadlineExceededException
        } catch (CancelledException | GracePeriodExceededException e) {
            // close()'s report is attached to join()'s exception: one call finds it in either
            return GracePeriodExceededException.in(e).orElseThrow();
        }
        // end::bounded-shutdown[]
        throw new AssertionError("close() should have named the indexer");
    }

    public static void main(String[] args) throws Exception {
        say("1. A crawler and an indexer; the indexer swallows interrupts. Deadline 300 ms, grace period 500 ms.");
        long start = System.nanoTime();
        GracePeriodExceededException report = stopIndexing(new CountDownLatch(2));
        say("   stopIndexing() (start both, join, deadline, close) returned after %s, with this report:", since(start));
        for (String line : report.getMessage().split("\n")) {
            say("     %s", line);
        }
        Straggler s = report.stragglers().get(0);
        say("   %s's stack, as close() captured it:", s.task());
        s.stackTrace().stream()
                .filter(f -> f.getClassName().startsWith("dev.weft.samples") || f.getClassName().equals("java.lang.Thread"))
                .limit(3)
                .forEach(f -> say("       at %s", f));
        say("   the crawler is not in the report: it stopped at once.");
        say("   TensorFlow's coord.join(threads) and the JDK's StructuredTaskScope.close() would still be waiting:");
        say("   both wait until every thread ends, with no limit and no report.");

        say("2. Java cannot kill threads: the indexer is still running, and Weft still lists it. Scopes.dump(0):");
        for (String line : Scopes.dump(0).split("\n")) {
            say("     %s", line);
        }

        say("3. The JDK's ExecutorService.close() on the same kind of worker (we stop watching after 500 ms):");
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        var poolStarted = new CountDownLatch(1);
        pool.submit(() -> indexIgnoringInterrupts(poolStarted));
        poolStarted.await();
        Thread closer = Thread.ofPlatform().name("executor-closer").start(pool::close);
        long t0 = System.nanoTime();
        boolean ended = closer.join(Duration.ofMillis(500));
        say("   after %s, ExecutorService.close() %s (it waits for every task, with no limit and no report)",
                since(t0), ended ? "returned" : "is still waiting");

        say("4. We now end the stuck workers by hand, so that nothing outlives this sample.");
        RELEASE.countDown();
        s.thread().join();
        closer.join();
        say("   indexer ended; ExecutorService.close() returned; Scopes.dump() still lists scope 'indexing': %s",
                Scopes.dump(0).contains("'indexing'"));
    }
}

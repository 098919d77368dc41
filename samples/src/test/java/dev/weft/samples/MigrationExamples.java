package dev.weft.samples;

import dev.weft.CancelledException;
import dev.weft.Cancellation;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.LockSupport;

/**
 * The Weft side of {@code docs/migration.md}, compiled and run by {@link MigrationExamplesTest};
 * {@link ReadmeSnippetTest} checks that the guide shows exactly this code.
 */
final class MigrationExamples {

    private MigrationExamples() {
    }

    /** What the examples build. */
    record Page(String user, String order) {
    }

    static void step() {
        LockSupport.parkNanos(1_000_000);                // one unit of work, about 1 ms
    }

    static int process(int job) throws InterruptedException {
        Thread.sleep(5);
        if (job < 0) {
            throw new IllegalArgumentException("bad job " + job);
        }
        return job * 10;
    }

    static String findUser(int id) throws InterruptedException {
        Thread.sleep(10);
        return "user-" + id;
    }

    static String findOrder(int id) throws InterruptedException {
        Thread.sleep(10);
        if (id < 0) {
            throw new IllegalStateException("no orders for " + id);
        }
        return "order-" + id;
    }

    // tag::from-flag[]
    static int train(int workers, Duration trainFor) throws ExecutionException, InterruptedException {
        List<Subtask<Integer>> trainers = new ArrayList<>();
        try (var scope = TaskScope.open(Joiner.<Integer>awaitAllSuccessfulOrThrow(),
                                        cfg -> cfg.withName("trainer").withGrace(Duration.ofSeconds(1)))) {
            for (int i = 0; i < workers; i++) {
                trainers.add(scope.fork(() -> {
                    int steps = 0;
                    while (!Cancellation.isRequested()) {     // was: while (running)
                        step();
                        steps++;
                    }
                    return steps;
                }));
            }
            Thread.sleep(trainFor);
            scope.cancel();                                   // was: running = false
            try {
                scope.join();                                 // waits for the workers, within the grace period
            } catch (CancelledException stopped) {
                // the stop we asked for; a worker's failure would be attached to it as suppressed
            }
        }                                                     // stragglers: GracePeriodExceededException names them
        return trainers.stream().filter(t -> t.state() == Subtask.State.SUCCESS).mapToInt(Subtask::get).sum();
    }
    // end::from-flag[]

    // tag::from-executor[]
    static List<Integer> runAll(List<Integer> jobs) throws ExecutionException, InterruptedException {
        try (var scope = TaskScope.open(Joiner.<Integer>allSuccessfulOrThrow(),
                                        cfg -> cfg.withName("jobs")
                                                  .withTimeout(Duration.ofSeconds(30))    // was: awaitTermination(30 s)
                                                  .withGrace(Duration.ofSeconds(5)))) {   // was: shutdownNow + 5 s
            for (int job : jobs) {
                scope.fork(() -> process(job));
            }
            return scope.join();          // results in order; the first failure cancels the rest and is thrown
        }
    }
    // end::from-executor[]

    // tag::from-sts[]
    static Page page(int id) throws ExecutionException, InterruptedException {
        try (var scope = TaskScope.open()) {                  // was: StructuredTaskScope.open()
            Subtask<String> user  = scope.fork(() -> findUser(id));
            Subtask<String> order = scope.fork(() -> findOrder(id));
            scope.join();                                     // ExecutionException, as on JDK 27
            return new Page(user.get(), order.get());
        }
    }
    // end::from-sts[]

    // tag::from-sts-timeout[]
    static String firstQuote(List<Integer> mirrors) throws ExecutionException, InterruptedException {
        try (var scope = TaskScope.open(Joiner.<String>anySuccessfulOrThrow(),
                                        cfg -> cfg.withName("quotes").withTimeout(Duration.ofSeconds(2)))) {
            for (int mirror : mirrors) {
                scope.fork(() -> findUser(mirror));
            }
            return scope.join();          // the first success; DeadlineExceededException after 2 s
        }
    }
    // end::from-sts-timeout[]
}

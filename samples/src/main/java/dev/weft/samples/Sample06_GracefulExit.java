package dev.weft.samples;

import static dev.weft.samples.Show.brief;
import static dev.weft.samples.Show.count;
import static dev.weft.samples.Show.say;
import static dev.weft.samples.Show.since;

import dev.weft.CancelledException;
import dev.weft.Cancellation;
import dev.weft.Scopes;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sample 6: the proposal "Making it simpler to gracefully exit threads" (Python discussion forum,
 * https://discuss.python.org/t/making-it-simpler-to-gracefully-exit-threads/34019), point by point.
 *
 * <ul>
 *   <li>{@code thread.interrupt()} for one thread: {@code Subtask.cancel()};</li>
 *   <li>{@code interrupt_all_threads()}: {@code Scopes.cancelAll()};</li>
 *   <li>{@code interruption_requested()} and {@code check_interrupt()}:
 *       {@code Cancellation.isRequested()} and {@code Cancellation.check()}, which throws
 *       {@code CancelledException} so that {@code finally} blocks run on the way out;</li>
 *   <li>a region that must not be interrupted: {@code Cancellation.critical(...)};</li>
 *   <li>Ctrl-C and SIGTERM interrupting everything: {@code Scopes.installShutdownHook(grace)}.</li>
 * </ul>
 * The last part runs a small service in a child JVM (the same JDK and class path), sends it SIGTERM
 * ({@code ProcessHandle.destroy()}), and prints what it printed: the service stops within its grace
 * period, a commit in progress finishes first, and a worker that ignores interrupts is named on
 * stderr. (On Windows, {@code destroy()} ends the process without running shutdown hooks.)
 *
 * <p>Run alone: {@code mvn -q -pl samples -am -Ptour -DskipTests package -Dsample=Sample06_GracefulExit}.
 * To press Ctrl-C yourself, build once with that command, then run the service from the repository root
 * (the script finds a JDK 21 or later): {@code samples/run.sh Sample06_GracefulExit serve}
 */
public final class Sample06_GracefulExit {

    private Sample06_GracefulExit() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("serve")) {
            serve();
            return;
        }
        interruptOneThenAll();
        checkAtSafePoints();
        criticalSection();
        shutdownHookInChildJvm();
    }

    // tag::loop[]
    static Void loop(CountDownLatch looping, CountDownLatch exited) throws InterruptedException {
        looping.countDown();
        try {
            while (!Cancellation.isRequested()) {         // interruption_requested()
                Thread.sleep(10);
            }
            return null;
        } finally {
            exited.countDown();                           // 'exiting thread!'
        }
    }
    // end::loop[]

    private static void interruptOneThenAll() throws Exception {
        say("1. Eight threads loop on Cancellation.isRequested(). Subtask.cancel() stops the first four, one by one;");
        say("   Scopes.cancelAll() stops the rest.");
        List<Subtask<Void>> threads = new ArrayList<>();
        List<CountDownLatch> exited = new ArrayList<>();
        var looping = new CountDownLatch(8);
        try (var scope = TaskScope.open(Joiner.<Void>awaitAll(), cfg -> cfg.withName("proposal"))) {
            for (int i = 0; i < 8; i++) {
                var latch = new CountDownLatch(1);
                exited.add(latch);
                threads.add(scope.fork("thread-" + i, () -> loop(looping, latch)));
            }
            looping.await();                              // a subtask cancelled before it starts never runs
            for (int i = 0; i < 4; i++) {
                long t0 = System.nanoTime();
                threads.get(i).cancel();                  // thread.interrupt()
                exited.get(i).await();                    // thread.join()
                say("   thread-%d: Subtask.cancel() -> exited in %s; still looping: %d",
                        i, micros(t0), exited.stream().filter(e -> e.getCount() > 0).count());
            }
            long t0 = System.nanoTime();
            int cancelled = Scopes.cancelAll();           // interrupt_all_threads()
            try {
                scope.join();
                throw new AssertionError("join() should report the cancellation");
            } catch (CancelledException e) {
                say("   Scopes.cancelAll() cancelled %d root scope; the last four exited in %s", cancelled, micros(t0));
                say("   join(): %s", brief(e));
            }
        }
    }

    // tag::check[]
    static int processBatch(List<String> batch, AtomicInteger done) {
        try {
            for (String item : batch) {
                Cancellation.check();                     // check_interrupt(): throws CancelledException
                process(item);
                done.incrementAndGet();
            }
            return done.get();
        } finally {
            say("   finally block ran after %d items: temporary files removed", done.get());
        }
    }
    // end::check[]

    /** Set when {@link #process} swallowed an interrupt. */
    private static final AtomicBoolean SWALLOWED = new AtomicBoolean();

    /** About 1 ms of work per item, in a library that swallows interrupts, as some do. */
    private static void process(String item) {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            SWALLOWED.set(true);                          // the interrupt status is now clear; Weft's state is not
        }
    }

    private static void checkAtSafePoints() throws Exception {
        List<String> batch = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            batch.add("item-" + i);
        }
        say("2. A batch of %s items calls Cancellation.check() before each one; it is cancelled after about 20.",
                count(batch.size()));
        say("   Each item goes through a library that swallows interrupts.");
        var done = new AtomicInteger();
        Subtask<Integer> job;
        try (var scope = TaskScope.open(Joiner.<Integer>awaitAll(), cfg -> cfg.withName("batch"))) {
            job = scope.fork("batch", () -> processBatch(batch, done));
            while (done.get() < 20) {
                Thread.sleep(1);                          // let it process about twenty items
            }
            job.cancel();
            scope.join();
        }
        say("   the job ended %s: %s", job.state(), brief(job.exception()));
        say("   the library swallowed the interrupt: %s; check() saw the cancellation all the same", SWALLOWED.get());
    }

    @SuppressWarnings("try")                              // the section is only closed, never read
    private static void criticalSection() throws Exception {
        say("3. A commit of five 20 ms steps runs in Cancellation.critical(\"commit\"); it is cancelled after the first.");
        var firstStep = new CountDownLatch(1);
        var steps = new AtomicInteger();
        Subtask<Object> commit;
        long t0;
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("commit"))) {
            commit = scope.fork("commit", () -> {
                try (var section = Cancellation.critical("commit")) {
                    for (int i = 0; i < 5; i++) {
                        Thread.sleep(20);                 // no interrupt from Weft reaches this sleep
                        steps.incrementAndGet();
                        firstStep.countDown();
                    }
                    say("   commit: all 5 steps written; inside the section, isRequested() reads %s",
                            Cancellation.isRequested());
                }
                Cancellation.check();                     // the cancellation lands here
                return "never reached";
            });
            firstStep.await();
            t0 = System.nanoTime();
            commit.cancel();
            scope.join();
        }
        say("   the cancellation waited %s for the section, then: %s, %s", since(t0), commit.state(), brief(commit.exception()));
    }

    // ------------------------------------------------------------------------------------------
    // Ctrl-C / SIGTERM

    private static void shutdownHookInChildJvm() throws Exception {
        say("4. Scopes.installShutdownHook(1 s) in a service, run in a child JVM that gets SIGTERM (as from Ctrl-C):");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                Sample06_GracefulExit.class.getName(), "serve")
                .redirectErrorStream(true)
                .start();
        // Never hang the tour: whatever happens, the child is gone after 20 s, which ends its output.
        Thread.ofVirtual().name("child-watchdog").start(() -> {
            try {
                if (!child.waitFor(20, TimeUnit.SECONDS)) {
                    child.destroyForcibly();
                }
            } catch (InterruptedException e) {
                child.destroyForcibly();
            }
        });
        long sigterm = 0;
        try (var out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                say("   child | %s", line);
                if (sigterm == 0 && line.contains("ready")) {
                    sigterm = System.nanoTime();
                    // SIGTERM, as `kill PID` (Ctrl-C sends SIGINT, handled alike). Process.destroy() sends
                    // the same signal but also closes our end of the child's output, which we still read.
                    child.toHandle().destroy();
                    say("   parent: sent SIGTERM");
                }
            }
        }
        int code = child.waitFor();
        if (sigterm == 0) {
            throw new IllegalStateException("the service never became ready; exit code " + code);
        }
        say("   parent: the child exited with code %d%s, %s after SIGTERM", code, code == 143 ? " (128 + 15, SIGTERM)" : "",
                since(sigterm));
    }

    /** The service in the child JVM: runs until Ctrl-C or SIGTERM. */
    @SuppressWarnings("try")
    static void serve() throws Exception {
        Scopes.installShutdownHook(Duration.ofSeconds(1));   // on Ctrl-C / SIGTERM: cancel all, wait up to 1 s
        var running = new CountDownLatch(5);            // three workers, the committer, the stubborn one
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("service"))) {
            for (int i = 0; i < 3; i++) {
                int id = i;
                scope.fork("worker-" + id, () -> {
                    running.countDown();
                    try {
                        while (!Cancellation.isRequested()) {
                            Thread.sleep(10);
                        }
                    } finally {
                        System.out.println("worker-" + id + ": stopped, cleaned up");
                    }
                    return null;
                });
            }
            scope.fork("committer", () -> {
                for (int n = 1; !Cancellation.isRequested(); n++) {
                    try (var section = Cancellation.critical("commit")) {
                        if (n == 1) {
                            running.countDown();
                        }
                        Thread.sleep(300);                // a commit that must not be torn
                        System.out.println("committer: commit #" + n + " complete");
                    }
                }
                return null;
            });
            scope.fork("stubborn", () -> {
                running.countDown();
                while (true) {
                    try {
                        Thread.sleep(1_000);
                    } catch (InterruptedException e) {
                        // BUG, on purpose: ignores interrupts; the hook will name it
                    }
                }
            });
            running.await();
            System.out.println("service: ready, pid " + ProcessHandle.current().pid()
                    + "; stop it with Ctrl-C or SIGTERM");
            scope.join();
        } catch (CancelledException e) {
            System.out.println("service: " + brief(e));
        }
    }

    private static String micros(long startNanos) {
        return String.format(Locale.ROOT, "%.2f ms", (System.nanoTime() - startNanos) / 1e6);
    }
}

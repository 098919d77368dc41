package dev.weft;

import static dev.weft.RegressionSupport.async;
import static dev.weft.RegressionSupport.finishes;
import static dev.weft.RegressionSupport.thrownBy;
import static dev.weft.TestSupport.WAIT;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry covers the whole scope tree (issue 11, cause 5): the shutdown hook waits for the
 * live tasks of nested scopes too and cancels scopes opened after shutdown began; a leaked scope
 * does not hide the next scope opened on its thread; a thread blocked in {@code Joiner.onComplete}
 * is a straggler. The shutdown tests run a child JVM ({@link RegistryHookChild}) and send it SIGTERM.
 */
class RegistryCoverageTest {

    /** JVM start, shutdown and scheduling margin, generous for a loaded 2-core machine. */
    private static final Duration MARGIN = Duration.ofSeconds(15);
    private static final AtomicInteger IDS = new AtomicInteger();

    @TempDir
    Path dir;

    // ---------------------------------------------------------------------------------------
    // Shutdown hook, in a child JVM

    @Test
    @Timeout(120)
    void shutdownHook_subtaskOfNestedScopeInCriticalSection_sectionCompletesAndIsNoStraggler() throws Exception {
        Path file = dir.resolve("record.txt");
        Duration grace = Duration.ofSeconds(5);
        Process child = startChild("nested-critical", file.toString(), Long.toString(grace.toMillis()));
        try {
            var out = new ShutdownSupport.ChildOutput(child.getInputStream(), "child-stdout");
            var err = new ShutdownSupport.ChildOutput(child.getErrorStream(), "child-stderr");
            assertThat(out.await("in section"::equals, Duration.ofSeconds(60)))
                    .as("the writer entered its section; stderr: %s", err.snapshot()).isTrue();

            assertThat(child.toHandle().destroy()).isTrue();                  // SIGTERM
            assertThat(child.waitFor(grace.plus(MARGIN).toMillis(), TimeUnit.MILLISECONDS))
                    .as("the child exits within the hook's grace period plus a margin").isTrue();

            List<String> record = Files.readAllLines(file);
            List<String> stderr = err.all(Duration.ofSeconds(10));
            assertThat(record).as("the record written inside the critical section is whole (stderr %s)", stderr)
                    .startsWith("begin").endsWith("end").hasSize(12);
            assertThat(stderr).as("the writer finished its section within the grace period: not a straggler")
                    .noneMatch(l -> l.contains("'writer'"));
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    @Timeout(120)
    void shutdownHook_rootScopeOpenedAfterShutdownBegan_isBornCancelled() throws Exception {
        Process child = startChild("born-cancelled", "10000");
        try {
            var out = new ShutdownSupport.ChildOutput(child.getInputStream(), "child-stdout");
            var err = new ShutdownSupport.ChildOutput(child.getErrorStream(), "child-stderr");
            assertThat(out.await("ready"::equals, Duration.ofSeconds(60)))
                    .as("the child's tasks run; stderr: %s", err.snapshot()).isTrue();

            assertThat(child.toHandle().destroy()).isTrue();                  // SIGTERM
            assertThat(child.waitFor(Duration.ofSeconds(10).plus(MARGIN).toMillis(), TimeUnit.MILLISECONDS))
                    .as("the child exits").isTrue();
            List<String> stdout = out.all(Duration.ofSeconds(10));
            assertThat(stdout).as("a root scope opened after the hook's cancellation (stderr %s)", err.snapshot())
                    .contains("late scope cancelled: true", "late fork state: CANCELLED");
        } finally {
            child.destroyForcibly();
        }
    }

    private Process startChild(String... args) throws Exception {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", ShutdownSupport.classpathOf(TaskScope.class, RegistryHookChild.class), RegistryHookChild.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).start();
    }



    // ---------------------------------------------------------------------------------------
    // Leaked scopes

    /** Opens a scope on {@code owner}'s thread with one subtask parked until interrupted, and drops it unclosed. */
    private static void openAndDrop(ExecutorService owner, String name) throws Exception {
        var started = new CountDownLatch(1);
        owner.submit(() -> {
            var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName(name));
            scope.fork(() -> {
                started.countDown();
                return blockUntilInterrupted();
            });
            return null;                                    // the scope is unreachable from here on
        }).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        await(started);
    }

    /** A scope opened on {@code owner}'s thread, with one subtask parked until interrupted. */
    private record Opened(TaskScope<Object, Void, RuntimeException> scope, Subtask<Object> subtask) {
    }

    private static Opened openOn(ExecutorService owner, String name) throws Exception {
        var started = new CountDownLatch(1);
        Opened opened = owner.submit(() -> {
            TaskScope<Object, Void, RuntimeException> scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName(name));
            Subtask<Object> s = scope.fork(() -> {
                started.countDown();
                return blockUntilInterrupted();
            });
            return new Opened(scope, s);
        }).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        await(started);
        return opened;
    }

    private static void awaitLeakReport(WeftLog log, String name) throws Exception {
        log.await(r -> r.getMessage() != null && r.getMessage().contains("'" + name + "'"),
                Duration.ofSeconds(30), Duration.ofMillis(100), System::gc);
    }

    @Test
    @Timeout(120)
    void leakedScope_nextScopeOpenedOnSameThreadAfterTheLeakReport_cancelAllAndDumpSeeIt() throws Exception {
        assertNextScopeVisible(false);
    }

    @Test
    @Timeout(120)
    void leakedScope_nextScopeOpenedOnSameThreadBeforeTheLeakReport_cancelAllAndDumpSeeIt() throws Exception {
        assertNextScopeVisible(true);
    }

    private void assertNextScopeVisible(boolean openNextBeforeReport) throws Exception {
        int id = IDS.incrementAndGet();
        String leaked = "leaked-" + id;
        String next = "next-after-leak-" + id;
        ExecutorService owner = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-leaky-owner-" + id));
        Opened opened = null;
        try (var log = new WeftLog()) {
            openAndDrop(owner, leaked);
            if (openNextBeforeReport) {
                opened = openOn(owner, next);
            }
            awaitLeakReport(log, leaked);
            if (!openNextBeforeReport) {
                opened = openOn(owner, next);
            }
            assertThat(RegressionSupport.lines(Scopes.dump())).as("dump() lists the next scope")
                    .anyMatch(l -> l.contains("'" + next + "'"));
            Scopes.cancelAll();
            Subtask<Object> s = opened.subtask();
            assertThat(RegressionSupport.eventually(() -> s.state() != Subtask.State.RUNNING, WAIT))
                    .as("Scopes.cancelAll() reached the subtask of the scope opened on the leaky thread").isTrue();
            assertThat(s.state()).isEqualTo(Subtask.State.CANCELLED);
            assertThat(opened.scope().isCancelled()).isTrue();
        } finally {
            if (opened != null) {
                var scope = opened.scope();
                owner.submit(() -> {
                    scope.cancel();                        // if cancelAll did not reach it
                    thrownBy(scope::join);
                    thrownBy(scope::close);
                }).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
            owner.shutdown();
        }
    }

    // ---------------------------------------------------------------------------------------
    // Joiner callbacks are part of the task

    @Test
    @Timeout(60)
    void threadBlockedInJoinerOnCompleteAfterGrace_closeThrowsNamingThatSubtask() throws Exception {
        var inOnComplete = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        Joiner<Object, Void, RuntimeException> streaming = new Joiner<>() {
            @Override
            public boolean onComplete(Subtask<Object> subtask) {
                if (subtask.name().equals("producer")) {
                    ShutdownSupport.ignoreInterruptsUntil(inOnComplete, release);    // a full queue
                }
                return false;
            }

            @Override
            public Void result() {
                return null;
            }
        };
        CompletableFuture<Throwable> owner = async("test-owner", () -> {
            try (var scope = TaskScope.open(streaming, cfg -> cfg.withName("streaming")
                    .withGrace(Duration.ofMillis(300)))) {
                scope.fork("producer", () -> "item");
                await(inOnComplete);
                scope.cancel();
                thrownBy(scope::join);
                return thrownBy(scope::close);
            }
        });
        try {
            assertThat(finishes(owner, WAIT)).as("close() returns within its grace period").isTrue();
            Throwable thrown = owner.get();
            assertThat(thrown).as("close() while a thread is blocked in onComplete")
                    .isInstanceOf(GracePeriodExceededException.class);
            assertThat(((GracePeriodExceededException) thrown).stragglers())
                    .extracting(GracePeriodExceededException.Straggler::task).contains("producer");
        } finally {
            release.countDown();
        }
    }
}

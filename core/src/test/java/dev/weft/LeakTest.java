package dev.weft;

import static dev.weft.TestSupport.awaitTerminated;
import static dev.weft.TestSupport.threadOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Leak detection: a scope that becomes unreachable while open is reported once, with its name and
 * owner (and where it was opened, in trace mode), and its subtasks are cancelled; a closed scope is
 * never reported. Garbage collection is requested in a bounded loop while waiting for the report.
 */
class LeakTest {

    /** Keeps the intentional warnings (leak reports) off the build log. */
    @RegisterExtension
    static final LogCapture LOG = new LogCapture();

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration GC_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration GC_POLL = Duration.ofMillis(100);
    private static final AtomicInteger IDS = new AtomicInteger();


    /**
     * Opens a scope named {@code name} on a new thread, forks a subtask that blocks until
     * interrupted, and lets the thread end with the scope open (or, with {@code close}, joined and
     * closed). Nothing keeps the scope reachable afterwards. Returns the subtask.
     */
    private static Subtask<Object> openAndDrop(String name, boolean close) throws Exception {
        var subtask = new AtomicReference<Subtask<Object>>();
        var started = new CountDownLatch(1);
        Thread owner = Thread.ofPlatform().name("owner-of-" + name).start(() -> {
            var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName(name));
            subtask.set(scope.fork(() -> {
                started.countDown();
                if (!close) {
                    new CountDownLatch(1).await();
                }
                return null;
            }));
            if (close) {
                try {
                    scope.join();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                scope.close();
            }
        });
        awaitTerminated(owner, WAIT);
        started.await();
        return subtask.get();
    }

    private static boolean isLeakOf(Reports.Incident i, String name) {
        return i.kind().equals("leak") && i.message().startsWith("scope '" + name + "' ");
    }

    /** Waits for the leak report of scope {@code name}, requesting a GC before each poll. */
    private static Reports.Incident awaitLeakReport(ShutdownSupport.Incidents incidents, String name)
            throws InterruptedException, TimeoutException {
        return incidents.await(i -> isLeakOf(i, name), GC_TIMEOUT, GC_POLL, System::gc);
    }

    @Test
    @Timeout(120)
    void leakedScope_unreachableWhileOpen_reportedOnceWithNameAndOwnerAndTasksCancelled() throws Exception {
        assumeTrue(Leaks.MODE.equals("on"), "runs with the default leak detection");
        String name = "leaky-" + IDS.incrementAndGet();
        try (var incidents = new ShutdownSupport.Incidents()) {
            Subtask<Object> task = openAndDrop(name, false);

            Reports.Incident report = awaitLeakReport(incidents, name);
            assertThat(report.message()).contains("owner thread 'owner-of-" + name + "'")
                    .contains("-Ddev.weft.leakDetection=trace");
            assertThat(report.error()).as("no opening stack trace unless tracing").isNull();

            awaitTerminated(threadOf(task), WAIT);
            assertThat(task.state()).as("the leaked scope's subtask was cancelled").isEqualTo(Subtask.State.CANCELLED);
            assertThat(Scopes.dump()).doesNotContain("scope '" + name + "' open");

            // Reported once: by the time a later leak is reported, there is still one report of this one.
            String canary = "canary-" + IDS.incrementAndGet();
            openAndDrop(canary, false);
            awaitLeakReport(incidents, canary);
            assertThat(incidents.all()).filteredOn(i -> isLeakOf(i, name)).hasSize(1);
        }
    }

    @Test
    @Tag("settings")
    @Timeout(120)
    void leakedScope_traceMode_reportIncludesOpeningStackTrace() throws Exception {
        assertThat(Leaks.MODE).as("the settings execution runs with -Ddev.weft.leakDetection=trace").isEqualTo("trace");
        String name = "traced-" + IDS.incrementAndGet();
        try (var incidents = new ShutdownSupport.Incidents()) {
            Subtask<Object> task = openAndDrop(name, false);

            Reports.Incident report = awaitLeakReport(incidents, name);
            assertThat(report.message()).doesNotContain("-Ddev.weft.leakDetection=trace");
            assertThat(report.error()).as("where the scope was opened").isNotNull();
            assertThat(report.error().getMessage()).isEqualTo("scope opened here");
            assertThat(Arrays.stream(report.error().getStackTrace()))
                    .anyMatch(f -> f.getClassName().startsWith(LeakTest.class.getName()) && f.getMethodName().contains("openAndDrop"));
            awaitTerminated(threadOf(task), WAIT);
            assertThat(task.state()).isEqualTo(Subtask.State.CANCELLED);
        }
    }

    @Test
    @Timeout(120)
    void closedScope_unreachable_neverReported() throws Exception {
        assumeTrue(Leaks.MODE.equals("on"), "runs with the default leak detection");
        String closed = "closed-" + IDS.incrementAndGet();
        String canary = "canary-" + IDS.incrementAndGet();
        try (var incidents = new ShutdownSupport.Incidents()) {
            Subtask<Object> task = openAndDrop(closed, true);
            assertThat(task.state()).isEqualTo(Subtask.State.SUCCESS);
            openAndDrop(canary, false);            // collected in the same GCs as the closed one

            awaitLeakReport(incidents, canary);
            assertThat(incidents.all()).noneMatch(i -> i.message().contains("'" + closed + "'"));
        }
    }
}

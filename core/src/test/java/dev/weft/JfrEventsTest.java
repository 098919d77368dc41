package dev.weft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code dev.weft.*} JFR events, recorded with a real {@link Recording}, dumped to a file and
 * read back with {@link RecordingFile}.
 */
@Timeout(60)
class JfrEventsTest {

    /** Keeps the intentional warnings (the invalid threshold warnings and the leak report) off the build log. */
    @RegisterExtension
    static final LogCapture LOG = new LogCapture();

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final List<String> EVENTS = List.of("dev.weft.ScopeCancelled", "dev.weft.GracePeriodExceeded",
            "dev.weft.CriticalSection", "dev.weft.ScopeLeaked");

    @TempDir
    Path dir;

    interface Body {
        void run() throws Exception;
    }

    /** Runs {@code body} while recording Weft's events; returns those about {@code scope}. */
    private List<RecordedEvent> record(String scope, Body body) throws Exception {
        Path file = dir.resolve(scope + ".jfr");
        try (Recording r = new Recording()) {
            for (String e : EVENTS) {
                r.enable(e);
            }
            r.start();
            body.run();
            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> mine = new ArrayList<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            if (e.getEventType().getName().startsWith("dev.weft.") && scope.equals(e.getString("scope"))) {
                mine.add(e);
            }
        }
        return mine;
    }

    private static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
    }

    @Test
    void scopeCancelled_cancelWithCause_recordsCauseTasksAndLatency() throws Exception {
        long[] window = new long[2];
        AtomicReference<Long> id = new AtomicReference<>();
        List<RecordedEvent> events = record("jfr-cancel", () -> {
            try (var scope = TaskScope.open(TaskScope.Joiner.awaitAll(), c -> c.withName("jfr-cancel"))) {
                id.set(TestSupport.flockOf(scope).id);
                List<Thread> threads = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    threads.add(TestSupport.threadOf(scope.fork(() -> {
                        Thread.sleep(Duration.ofHours(1));
                        return null;
                    })));
                }
                for (Thread t : threads) {
                    TestSupport.awaitBlocked(t, WAIT);
                }
                window[0] = System.nanoTime();
                scope.cancel(new IOException("disk full"));
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
                for (Thread t : threads) {
                    TestSupport.awaitTerminated(t, WAIT);     // the event is committed before the last thread ends
                }
                window[1] = System.nanoTime();
            }
        });

        assertThat(events).hasSize(1);
        RecordedEvent e = events.get(0);
        assertThat(e.getEventType().getName()).isEqualTo("dev.weft.ScopeCancelled");
        assertThat(e.getLong("scopeId")).isEqualTo(id.get());
        assertThat(e.getString("reason")).isEqualTo("explicit");
        assertThat(e.getString("cause")).isEqualTo("scope 'jfr-cancel' was cancelled: java.io.IOException: disk full");
        assertThat(e.getInt("tasks")).isEqualTo(3);
        assertThat(e.getDuration("latency")).isPositive().isLessThanOrEqualTo(Duration.ofNanos(window[1] - window[0]));
        assertThat(e.getStackTrace()).isNull();
    }

    @Test
    void scopeCancelled_deadline_recordsDeadlineReason() throws Exception {
        List<RecordedEvent> events = record("jfr-deadline", () -> {
            try (var scope = TaskScope.open(TaskScope.Joiner.awaitAll(),
                    c -> c.withName("jfr-deadline").withTimeout(Duration.ofMillis(50)))) {
                Thread t = TestSupport.threadOf(scope.fork(() -> {
                    Thread.sleep(Duration.ofHours(1));
                    return null;
                }));
                assertThatThrownBy(scope::join).isInstanceOf(DeadlineExceededException.class);
                TestSupport.awaitTerminated(t, WAIT);
            }
        });

        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.getEventType().getName()).isEqualTo("dev.weft.ScopeCancelled");
            assertThat(e.getString("reason")).isEqualTo("deadline");
            assertThat(e.getString("cause")).startsWith("scope 'jfr-deadline' exceeded its deadline ");
            assertThat(e.getInt("tasks")).isEqualTo(1);
        });
    }

    @Test
    void gracePeriodExceeded_straggler_recordsStragglersAndTheClosingStack() throws Exception {
        Semaphore never = new Semaphore(0);
        AtomicReference<Thread> stubborn = new AtomicReference<>();
        List<RecordedEvent> events = record("jfr-grace", () -> {
            var scope = TaskScope.open(TaskScope.Joiner.awaitAll(),
                    c -> c.withName("jfr-grace").withGrace(Duration.ofMillis(50)));
            stubborn.set(TestSupport.threadOf(scope.fork("stubborn", () -> {
                never.acquireUninterruptibly();             // ignores the interrupt
                return null;
            })));
            TestSupport.awaitBlocked(stubborn.get(), WAIT);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThatThrownBy(scope::close).isInstanceOf(GracePeriodExceededException.class);
        });
        never.release();
        TestSupport.awaitTerminated(stubborn.get(), WAIT);

        List<RecordedEvent> grace = named(events, "dev.weft.GracePeriodExceeded");
        assertThat(grace).hasSize(1);
        RecordedEvent e = grace.get(0);
        assertThat(e.getDuration("grace")).isEqualTo(Duration.ofMillis(50));
        assertThat(e.getInt("stragglers")).isEqualTo(1);
        assertThat(e.getString("details")).startsWith("scope 'jfr-grace' task #1 'stubborn' stuck ")
                .contains("(not in a critical section)", "[thread 'jfr-grace:stubborn' ");
        assertThat(e.getStackTrace().getFrames()).extracting(f -> f.getMethod().getName()).contains("close");
    }

    @Test
    void criticalSection_heldLessThanDefaultThreshold_recordsNothing() throws Exception {
        assertThat(Events.CRITICAL_SECTION_THRESHOLD_NANOS).isEqualTo(10_000_000L);
        List<RecordedEvent> events = record("jfr-critical-short", () -> {
            heldSection("jfr-critical-short", null);     // held far less than 10 ms: no event
        });
        assertThat(named(events, "dev.weft.CriticalSection")).isEmpty();
    }

    @Test
    @Tag("settings")
    void criticalSection_heldLongerThanThreshold_recordsSectionAndHeldTime() throws Exception {
        assertThat(Events.CRITICAL_SECTION_THRESHOLD_NANOS).as("the settings execution sets the threshold to 0").isZero();
        long[] window = new long[2];
        {
            List<RecordedEvent> events = record("jfr-critical", () -> heldSection("jfr-critical", window));

            assertThat(events).filteredOn(e -> e.getEventType().getName().equals("dev.weft.CriticalSection")).hasSize(1);
            RecordedEvent e = named(events, "dev.weft.CriticalSection").get(0);
            assertThat(e.getString("task")).isEqualTo("writer");
            assertThat(e.getInt("taskIndex")).isEqualTo(1);
            assertThat(e.getString("section")).isEqualTo("flush");
            assertThat(e.getDuration("held")).isPositive().isLessThanOrEqualTo(Duration.ofNanos(window[1] - window[0]));
            List<RecordedFrame> frames = e.getStackTrace().getFrames();
            assertThat(frames).anyMatch(f -> f.getMethod().getType().getName().equals(JfrEventsTest.class.getName()));
        }
    }

    /** A subtask in critical section 'flush' when its scope is cancelled; the section ends after the cancellation. */
    private static void heldSection(String name, long[] window) throws Exception {
        CountDownLatch inSection = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (var scope = TaskScope.open(TaskScope.Joiner.awaitAll(), c -> c.withName(name))) {
            Thread t = TestSupport.threadOf(scope.fork("writer", () -> {
                try (var cs = Cancellation.critical("flush")) {
                    inSection.countDown();
                    release.await();                        // not interrupted: the section holds the cancellation
                }
                Cancellation.check();                       // delivered on exit
                return null;
            }));
            assertThat(inSection.await(10, TimeUnit.SECONDS)).isTrue();
            if (window != null) {
                window[0] = System.nanoTime();
            }
            scope.cancel();
            release.countDown();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            TestSupport.awaitTerminated(t, WAIT);
            if (window != null) {
                window[1] = System.nanoTime();
            }
        }
    }

    @Test
    @Tag("settings")
    void scopeLeaked_unreachableOpenScope_recordsLeak() throws Exception {
        assertThat(Leaks.MODE).isEqualTo("trace");
        CountDownLatch reported = new CountDownLatch(1);
        AtomicReference<Thread> task = new AtomicReference<>();
        try (var incidents = new ShutdownSupport.Incidents(i -> {
                if (i.kind().equals("leak") && i.message().contains("'jfr-leaky'")) {
                    reported.countDown();
                }
            })) {
            List<RecordedEvent> events = record("jfr-leaky", () -> {
                Thread leaker = Thread.ofPlatform().name("jfr-leaker").start(() -> {
                    var scope = TaskScope.open(TaskScope.Joiner.awaitAll(), c -> c.withName("jfr-leaky"));
                    task.set(TestSupport.threadOf(scope.fork("parked", () -> {
                        Thread.sleep(Duration.ofHours(1));
                        return null;
                    })));
                    // dropped without close()
                });
                leaker.join();
                TestSupport.awaitBlocked(task.get(), WAIT);
                long end = System.nanoTime() + WAIT.toNanos();
                do {
                    System.gc();
                } while (!reported.await(50, TimeUnit.MILLISECONDS) && System.nanoTime() < end);
                assertThat(reported.getCount()).as("leak reported").isZero();
                TestSupport.awaitTerminated(task.get(), WAIT);   // cancelled after the event was committed
            });

            List<RecordedEvent> leaks = named(events, "dev.weft.ScopeLeaked");
            assertThat(leaks).hasSize(1);
            RecordedEvent e = leaks.get(0);
            assertThat(e.getString("owner")).isEqualTo("jfr-leaker");
            assertThat(e.getInt("tasks")).isEqualTo(1);
            assertThat(e.getDuration("age")).isPositive();
            assertThat(e.getString("openedAt")).contains("scopeLeaked_unreachableOpenScope_recordsLeak");
            assertThat(e.getStackTrace()).isNull();
            assertThat(named(events, "dev.weft.ScopeCancelled")).singleElement()
                    .satisfies(c -> assertThat(c.getString("reason")).isEqualTo("leak"));
        }
    }

    @Test
    void thresholdNanos_durations_parseWithUnits() {
        assertThat(Events.thresholdNanos("10ms")).isEqualTo(10_000_000L);
        assertThat(Events.thresholdNanos(" 250 us ")).isEqualTo(250_000L);
        assertThat(Events.thresholdNanos("2s")).isEqualTo(2_000_000_000L);
        assertThat(Events.thresholdNanos("500ns")).isEqualTo(500L);
        assertThat(Events.thresholdNanos("0")).isZero();
        assertThat(Events.thresholdNanos(null)).isEqualTo(10_000_000L);
    }

    @Test
    void thresholdNanos_invalid_fallsBackToTheDefaultWithAWarning() {
        List<String> warnings = new ArrayList<>();
        try (var incidents = new ShutdownSupport.Incidents(i -> warnings.add(i.message()))) {
            assertThat(Events.thresholdNanos("ten ms")).isEqualTo(10_000_000L);
            assertThat(Events.thresholdNanos("5 minutes")).isEqualTo(10_000_000L);
            assertThat(Events.thresholdNanos("5")).isEqualTo(10_000_000L);
        }
        assertThat(warnings).hasSize(3).allMatch(w -> w.contains("dev.weft.jfr.criticalSectionThreshold"));
        assertThat(LOG.messages()).containsExactlyElementsOf(warnings);   // logged, not only listed
    }
}

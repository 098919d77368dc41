package dev.weft.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.weft.ContextPropagator;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ContextSnapshotFactory;
import io.micrometer.context.ThreadLocalAccessor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** SLF4J MDC, through Micrometer's registry, in subtasks at every depth; log lines read back from Logback. */
class MdcPropagationTest {

    static final String LOGGER = "dev.weft.context.mdc";
    static final Logger log = LoggerFactory.getLogger(LOGGER);

    ListAppender<ILoggingEvent> appender;

    @BeforeAll
    static void register() {
        Fixtures.registerAccessors();
    }

    @BeforeEach
    void attach() {
        appender = Fixtures.listAppender(LOGGER);
    }

    @AfterEach
    void detach() {
        Fixtures.detach(LOGGER, appender);
        MDC.clear();
    }

    /** Logs at this depth, then forks two subtasks that open a scope one level deeper, down to {@code max}. */
    static Void logAndFork(int depth, int max) throws Exception {
        log.info("depth {}", depth);
        if (depth < max) {
            try (var scope = TaskScope.open()) {          // inherits the propagator of the scope above
                scope.fork(() -> logAndFork(depth + 1, max));
                scope.fork(() -> logAndFork(depth + 1, max));
                scope.join();
            }
        }
        return null;
    }

    @Test
    @Timeout(20)
    void logLines_fromSubtasksThreeScopesDeep_carryTheOwnersMdc() throws Exception {
        MDC.put("requestId", "req-42");
        MDC.put("tenant", "acme");
        try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), c -> c.withContext(MicrometerPropagator.create()))) {
            scope.fork(() -> logAndFork(1, 3));
            scope.fork(() -> logAndFork(1, 3));
            scope.join();
        }
        List<ILoggingEvent> events = Fixtures.events(appender);
        assertThat(events).hasSize(2 + 4 + 8);
        assertThat(events).extracting(ILoggingEvent::getFormattedMessage).filteredOn("depth 3"::equals).hasSize(8);
        assertThat(events).allSatisfy(e -> assertThat(e.getMDCPropertyMap())
                .containsExactlyInAnyOrderEntriesOf(Map.of("requestId", "req-42", "tenant", "acme")));
        // Logged on the subtasks' threads, which carry their scope's name: one scope at depth 1,
        // two at depth 2, four at depth 3 (two sibling subtasks share their scope's name).
        assertThat(events).extracting(ILoggingEvent::getThreadName)
                .doesNotContain(Thread.currentThread().getName())
                .allSatisfy(n -> assertThat(n).matches("scope-\\d+"));
        assertThat(events.stream().map(ILoggingEvent::getThreadName).distinct()).hasSize(1 + 2 + 4);
    }

    @Test
    @Timeout(20)
    void logLines_withoutThePropagator_haveNoMdc() throws Exception {
        MDC.put("requestId", "req-42");
        try (var scope = TaskScope.open()) {
            scope.fork(() -> logAndFork(1, 2));
            scope.join();
        }
        List<ILoggingEvent> events = Fixtures.events(appender);
        assertThat(events).hasSize(3).allSatisfy(e -> assertThat(e.getMDCPropertyMap()).isEmpty());
    }

    @Test
    @Timeout(20)
    void owner_mdcUnchangedAfterJoin_whateverTheSubtasksDidToTheirs() throws Exception {
        MDC.put("requestId", "req-1");
        MDC.put("tenant", "acme");
        Map<String, String> before = MDC.getCopyOfContextMap();
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withContext(MicrometerPropagator.create()))) {
            scope.fork(() -> {
                MDC.put("requestId", "changed");
                MDC.put("extra", "x");
                return MDC.get("requestId");
            });
            scope.fork(() -> {
                MDC.clear();
                return String.valueOf(MDC.get("requestId"));
            });
            assertThat(scope.join()).containsExactly("changed", "null");
        }
        assertThat(MDC.getCopyOfContextMap()).isEqualTo(before);
    }

    @Test
    @Timeout(20)
    void platformThreadSubtasks_carryTheMdc_andTheirThreadsEndWithTheirOwn() throws Exception {
        ThreadFactory platform = Thread.ofPlatform().name("worker-", 0).factory();
        AtomicReference<Map<String, String>> afterRestore = new AtomicReference<>(Map.of("unset", "unset"));
        ContextPropagator observe = () -> () -> () -> afterRestore.set(MDC.getCopyOfContextMap());  // restored after Micrometer's
        MDC.put("requestId", "req-7");
        try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(),
                c -> c.withThreadFactory(platform).withContext(observe).withContext(MicrometerPropagator.create()))) {
            scope.fork(() -> logAndFork(1, 2));
            scope.join();
        }
        List<ILoggingEvent> events = Fixtures.events(appender);
        assertThat(events).hasSize(3).allSatisfy(e -> assertThat(e.getMDCPropertyMap()).containsEntry("requestId", "req-7"));
        assertThat(events.get(0).getThreadName()).isEqualTo("worker-0");
        assertThat(afterRestore.get()).isNullOrEmpty();
    }

    @Test
    @Timeout(20)
    void reusedPlatformThread_doesNotLeakThePreviousTasksMdcIntoTheNext() throws Exception {
        // A pool thread runs one task after another: install, body, restore; then the next one.
        MicrometerPropagator propagator = MicrometerPropagator.create();
        MDC.put("requestId", "req-A");
        MDC.put("user", "alice");
        ContextPropagator.Snapshot taskA = propagator.capture();
        MDC.clear();
        MDC.put("requestId", "req-B");
        ContextPropagator.Snapshot taskB = propagator.capture();
        MDC.clear();
        ContextPropagator.Snapshot taskC = propagator.capture();      // forked by an owner with no MDC

        List<Map<String, String>> seen = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread pooled = Thread.ofPlatform().name("pool-1").start(() -> {
            try {
                for (ContextPropagator.Snapshot task : List.of(taskA, taskB, taskC)) {
                    ContextPropagator.Restorer restorer = task.install();
                    log.info("task");
                    seen.add(mdc());
                    restorer.restore();
                    seen.add(mdc());
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        pooled.join();
        assertThat(failure.get()).isNull();
        assertThat(seen).containsExactly(
                Map.of("requestId", "req-A", "user", "alice"), Map.of(),
                Map.of("requestId", "req-B"), Map.of(),                   // no user=alice from task A
                Map.of(), Map.of());
        List<ILoggingEvent> events = Fixtures.events(appender);
        assertThat(events).extracting(ILoggingEvent::getMDCPropertyMap)
                .containsExactly(Map.of("requestId", "req-A", "user", "alice"), Map.of("requestId", "req-B"), Map.of());
    }

    /** The current thread's MDC, empty rather than null. */
    static Map<String, String> mdc() {
        Map<String, String> m = MDC.getCopyOfContextMap();
        return m == null ? Map.of() : m;
    }

    @Test
    @Timeout(20)
    void threadWithStaleMdc_subtaskSeesOnlyTheOwnersContext_andTheThreadGetsItsOwnBack() throws Exception {
        MDC.put("requestId", "req-owner");
        ContextPropagator.Snapshot snapshot = MicrometerPropagator.create().capture();
        List<Map<String, String>> seen = new ArrayList<>();
        Thread pooled = Thread.ofPlatform().start(() -> {
            MDC.put("stale", "left-by-someone-else");
            ContextPropagator.Restorer restorer = snapshot.install();
            seen.add(mdc());
            restorer.restore();
            seen.add(mdc());
        });
        pooled.join();
        assertThat(seen).containsExactly(Map.of("requestId", "req-owner"), Map.of("stale", "left-by-someone-else"));
    }

    @Test
    @Timeout(20)
    void accessorThatFailsToSet_failsTheSubtaskNamingThePropagator() throws Exception {
        ContextRegistry registry = new ContextRegistry();
        registry.registerThreadLocalAccessor(new ThreadLocalAccessor<String>() {
            @Override public Object key() {
                return "broken";
            }
            @Override public String getValue() {
                return "value";
            }
            @Override public void setValue(String value) {
                throw new IllegalStateException("cannot set");
            }
            @Override public void setValue() {
            }
        });
        MicrometerPropagator broken = MicrometerPropagator.create(ContextSnapshotFactory.builder().contextRegistry(registry).build());
        Subtask<Object> s;
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withContext(broken))) {
            s = scope.fork(() -> "never");
            scope.join();
        }
        assertThat(s.state()).isEqualTo(Subtask.State.FAILED);
        assertThat(s.exception()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("context propagator #1 (MicrometerPropagator")
                .hasMessageContaining("failed to install")
                .rootCause().hasMessage("cannot set");
        assertThatThrownBy(() -> MicrometerPropagator.create(null)).isInstanceOf(NullPointerException.class);
    }
}

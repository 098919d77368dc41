package dev.weft.context;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** OpenTelemetry spans (real SDK, in-memory exporter) started in subtasks, through Micrometer's registry. */
class TracePropagationTest {

    InMemorySpanExporter exporter;
    SdkTracerProvider provider;
    Tracer tracer;

    @BeforeAll
    static void register() {
        Fixtures.registerAccessors();
    }

    @BeforeEach
    void sdk() {
        exporter = InMemorySpanExporter.create();
        provider = Fixtures.tracerProvider(exporter);
        tracer = Fixtures.tracer(provider);
    }

    @AfterEach
    void shutdown() {
        provider.close();
    }

    /** Runs {@code body} inside a new span named {@code name}, a child of the current context. */
    <V> V inSpan(String name, Callable<V> body) throws Exception {
        Span span = tracer.spanBuilder(name).startSpan();
        try (Scope ignored = span.makeCurrent()) {
            return body.call();
        } finally {
            span.end();
        }
    }

    /** In a span {@code level-n}, forks one subtask in a nested scope that goes one level deeper. */
    Void level(int n, int max) throws Exception {
        return inSpan("level-" + n, () -> {
            if (n < max) {
                try (var scope = TaskScope.open()) {       // inherits the propagator
                    scope.fork(() -> level(n + 1, max));
                    scope.join();
                }
            }
            return null;
        });
    }

    Map<String, SpanData> spansByName() {
        return exporter.getFinishedSpanItems().stream().collect(Collectors.toMap(SpanData::getName, Function.identity()));
    }

    @Test
    @Timeout(20)
    void spansStartedInSubtasks_areChildrenOfTheOwnersSpan_acrossNestedScopes() throws Exception {
        Span request = tracer.spanBuilder("request").startSpan();
        SpanContext requestContext = request.getSpanContext();
        try (Scope ignored = request.makeCurrent()) {
            try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), c -> c.withContext(MicrometerPropagator.create()))) {
                scope.fork(() -> level(1, 3));
                scope.join();
            }
            assertThat(Span.current().getSpanContext()).isEqualTo(requestContext);     // owner unchanged after join
        } finally {
            request.end();
        }
        assertThat(Context.current()).isSameAs(Context.root());

        Map<String, SpanData> spans = spansByName();
        assertThat(spans).containsOnlyKeys("request", "level-1", "level-2", "level-3");
        assertThat(spans.values()).extracting(SpanData::getTraceId).containsOnly(requestContext.getTraceId());
        assertThat(spans.get("level-1").getParentSpanId()).isEqualTo(requestContext.getSpanId());
        assertThat(spans.get("level-2").getParentSpanId()).isEqualTo(spans.get("level-1").getSpanId());
        assertThat(spans.get("level-3").getParentSpanId()).isEqualTo(spans.get("level-2").getSpanId());
    }

    @Test
    @Timeout(20)
    void siblingSubtasks_eachGetTheForkersSpanAsParent() throws Exception {
        Span request = tracer.spanBuilder("request").startSpan();
        try (Scope ignored = request.makeCurrent()) {
            try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), c -> c.withContext(MicrometerPropagator.create()))) {
                for (String name : List.of("users", "orders", "prices")) {
                    scope.fork(() -> inSpan(name, () -> null));
                }
                scope.join();
            }
        } finally {
            request.end();
        }
        Map<String, SpanData> spans = spansByName();
        for (String name : List.of("users", "orders", "prices")) {
            assertThat(spans.get(name).getParentSpanId()).as(name).isEqualTo(request.getSpanContext().getSpanId());
            assertThat(spans.get(name).getTraceId()).as(name).isEqualTo(request.getSpanContext().getTraceId());
        }
    }

    @Test
    @Timeout(20)
    void withoutThePropagator_subtaskSpansStartNewTraces() throws Exception {
        Span request = tracer.spanBuilder("request").startSpan();
        try (Scope ignored = request.makeCurrent()) {
            try (var scope = TaskScope.open()) {
                scope.fork(() -> inSpan("orphan", () -> null));
                scope.join();
            }
        } finally {
            request.end();
        }
        SpanData orphan = spansByName().get("orphan");
        assertThat(orphan.getParentSpanContext().isValid()).isFalse();
        assertThat(orphan.getTraceId()).isNotEqualTo(request.getSpanContext().getTraceId());
    }

    @Test
    @Timeout(20)
    void subtaskThreads_endWithTheRootContext_afterTheirBody() throws Exception {
        Span request = tracer.spanBuilder("request").startSpan();
        var afterRestore = new java.util.concurrent.atomic.AtomicReference<Context>();
        dev.weft.ContextPropagator observe = () -> () -> () -> afterRestore.set(Context.current());   // runs after Micrometer's restore
        try (Scope ignored = request.makeCurrent()) {
            try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(),
                    c -> c.withContext(observe).withContext(MicrometerPropagator.create()))) {
                scope.fork(() -> inSpan("work", () -> null));
                scope.join();
            }
        } finally {
            request.end();
        }
        assertThat(afterRestore.get()).isSameAs(Context.root());
    }
}

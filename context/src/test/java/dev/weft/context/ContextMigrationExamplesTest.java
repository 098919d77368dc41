package dev.weft.context;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.MDC;

/** The Weft code of docs/migration.md, "Context", does what the page says. */
class ContextMigrationExamplesTest {

    @Test
    @Timeout(10)
    void fromInheritableThreadLocal_subtasksSeeTheForkersTenant() throws Exception {
        ContextMigrationExamples.TENANT.set("acme");
        try {
            assertThat(ContextMigrationExamples.process(List.of("a", "b"))).containsExactly("acme:a", "acme:b");
        } finally {
            ContextMigrationExamples.TENANT.remove();
        }
    }

    @Test
    @Timeout(10)
    void fromMdcContext_subtaskLogLinesCarryTheRequestId_andTheOwnersMdcIsCleanAfter() throws Exception {
        ContextMigrationExamples.startup();
        String logger = "dev.weft.context.migration";
        ListAppender<ILoggingEvent> appender = Fixtures.listAppender(logger);
        try {
            ContextMigrationExamples.handle("req-9");
            assertThat(Fixtures.events(appender)).hasSize(2).allSatisfy(e ->
                    assertThat(e.getMDCPropertyMap()).isEqualTo(Map.of("requestId", "req-9")));
            assertThat(MDC.get("requestId")).isNull();
        } finally {
            Fixtures.detach(logger, appender);
        }
    }

    @Test
    @Timeout(10)
    void fromTaskWrapping_shardSpansAreChildrenOfTheCallersSpan() throws Exception {
        InMemorySpanExporter exporter = InMemorySpanExporter.create();
        try (SdkTracerProvider provider = Fixtures.tracerProvider(exporter)) {
            Tracer tracer = Fixtures.tracer(provider);
            Span caller = tracer.spanBuilder("caller").startSpan();
            try (Scope ignored = caller.makeCurrent()) {
                ContextMigrationExamples.queryShards(tracer, List.of("s1", "s2"));
            } finally {
                caller.end();
            }
            List<SpanData> shards = exporter.getFinishedSpanItems().stream().filter(s -> s.getName().startsWith("query")).toList();
            assertThat(shards).hasSize(2).allSatisfy(s -> {
                assertThat(s.getParentSpanId()).isEqualTo(caller.getSpanContext().getSpanId());
                assertThat(s.getTraceId()).isEqualTo(caller.getSpanContext().getTraceId());
            });
        }
    }
}

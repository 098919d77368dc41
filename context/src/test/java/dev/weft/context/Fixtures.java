package dev.weft.context;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.integration.Slf4jThreadLocalAccessor;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.List;
import org.slf4j.LoggerFactory;

/** The real libraries the tests run on: Logback behind SLF4J, the OpenTelemetry SDK, and the registry. */
final class Fixtures {

    private Fixtures() {
    }

    /**
     * Registers, once per JVM, the accessors an application registers at startup: the whole MDC
     * (context-propagation's own accessor) and OpenTelemetry's current context.
     */
    static void registerAccessors() {
        // Test classes run one after another (no parallel execution in this module); registering
        // an accessor under a key that is already registered replaces it.
        ContextRegistry registry = ContextRegistry.getInstance();
        registry.registerThreadLocalAccessor(new Slf4jThreadLocalAccessor());
        registry.registerThreadLocalAccessor(new OtelContextAccessor());
    }

    /**
     * A real Logback appender on the logger {@code name}, keeping every event in memory. Each event
     * is prepared for deferred processing as it is appended, on the logging thread, as Logback's
     * {@code AsyncAppender} does: a {@code LoggingEvent} reads the thread name and the MDC lazily,
     * from whichever thread asks first, so reading them later from the test thread would show the
     * test thread's.
     */
    static ListAppender<ILoggingEvent> listAppender(String name) {
        Logger logger = (Logger) LoggerFactory.getLogger(name);
        ListAppender<ILoggingEvent> appender = new ListAppender<>() {
            @Override
            protected void append(ILoggingEvent event) {
                event.prepareForDeferredProcessing();
                super.append(event);
            }
        };
        appender.setContext(logger.getLoggerContext());
        appender.setName("list-" + name);
        appender.start();
        logger.addAppender(appender);
        return appender;
    }

    static void detach(String name, ListAppender<ILoggingEvent> appender) {
        ((Logger) LoggerFactory.getLogger(name)).detachAppender(appender);
        appender.stop();
    }

    /**
     * Copies the appender's events. Call after {@code join()}: the subtasks' appends happen-before
     * it returns.
     */
    static List<ILoggingEvent> events(ListAppender<ILoggingEvent> appender) {
        return List.copyOf(appender.list);
    }

    /** An SDK tracer provider that exports every ended span to {@code exporter}. */
    static SdkTracerProvider tracerProvider(InMemorySpanExporter exporter) {
        return SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
    }

    static Tracer tracer(SdkTracerProvider provider) {
        return provider.get("dev.weft.context.test");
    }
}

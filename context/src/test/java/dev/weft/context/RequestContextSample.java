package dev.weft.context;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.integration.Slf4jThreadLocalAccessor;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Sample: an HTTP-style request handler whose every log line, from every subtask at every depth,
 * carries the request id, and whose spans form one trace per request.
 *
 * <p>The server handles two requests at once. Each handler puts the request id in the MDC and starts
 * a span, then opens one scope with {@link MicrometerPropagator}: the subtasks it forks, and the
 * scopes they open in turn (three levels), log and trace as if they ran on the handler's thread.
 * Nothing else in the handler's code mentions context.
 *
 * <p>Run by {@code RequestContextSampleTest}, which checks the output and prints it:
 * {@code mvn -pl context -am test -Dtest=RequestContextSampleTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * Its {@code main} prints the same to standard output when run with the test class path.
 */
public final class RequestContextSample {

    static final org.slf4j.Logger log = LoggerFactory.getLogger("dev.weft.context.sample");

    /** An incoming request. */
    record Request(String id, String path, String customer) { }

    /** What the handler returns. */
    record Response(int status, String body) { }

    private final Tracer tracer;

    RequestContextSample(Tracer tracer) {
        this.tracer = tracer;
    }

    /** Once, at application startup: what the registry carries (MDC, OpenTelemetry's context). */
    static void registerContextAccessors() {
        ContextRegistry.getInstance()
                .registerThreadLocalAccessor(new Slf4jThreadLocalAccessor())
                .registerThreadLocalAccessor(new OtelContextAccessor());
    }

    // ---------------------------------------------------------------------------------------
    // The handler: the only place that sets up context

    // tag::handler[]
    Response handle(Request request) throws Exception {
        MDC.put("requestId", request.id());
        Span span = tracer.spanBuilder("GET " + request.path()).startSpan();
        try (Scope current = span.makeCurrent();
             var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(),
                     cfg -> cfg.withName("request").withContext(MicrometerPropagator.create()))) {
            log.info("handling GET {} for {}", request.path(), request.customer());
            Subtask<String> profile = scope.fork("profile", () -> traced("load profile", () -> loadProfile(request.customer())));
            Subtask<List<String>> orders = scope.fork("orders", () -> traced("load orders", () -> loadOrders(request.customer())));
            scope.join();
            log.info("responding 200 for {}", request.customer());
            return new Response(200, profile.get() + " " + orders.get());
        } finally {
            span.end();
            MDC.remove("requestId");
        }
    }
    // end::handler[]

    // ---------------------------------------------------------------------------------------
    // Application code: no context handling at all

    /** Depth 1, then depth 2 (two subtasks). */
    String loadProfile(String customer) throws Exception {
        log.info("loading profile of {}", customer);
        try (var scope = TaskScope.open()) {
            Subtask<String> name = scope.fork(() -> traced("load name", () -> {
                log.info("reading the name of {}", customer);
                return "name(" + customer + ")";
            }));
            Subtask<String> prefs = scope.fork(() -> traced("load preferences", () -> {
                log.info("reading the preferences of {}", customer);
                return "prefs(" + customer + ")";
            }));
            scope.join();
            return name.get() + "+" + prefs.get();
        }
    }

    /** Depth 1, then one subtask per order (depth 2), each with a price and a stock lookup (depth 3). */
    List<String> loadOrders(String customer) throws Exception {
        log.info("loading orders of {}", customer);
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow())) {
            for (int i = 1; i <= 2; i++) {
                String order = customer + "-order-" + i;
                scope.fork(() -> traced("load " + order, () -> loadOrder(order)));
            }
            return scope.join();
        }
    }

    String loadOrder(String order) throws Exception {
        log.info("loading {}", order);
        try (var scope = TaskScope.open()) {
            Subtask<String> price = scope.fork(() -> traced("price " + order, () -> {
                log.info("pricing {}", order);
                return "$" + order.length();
            }));
            Subtask<String> stock = scope.fork(() -> traced("stock " + order, () -> {
                log.info("checking stock of {}", order);
                return "in stock";
            }));
            scope.join();
            return order + "=" + price.get() + "," + stock.get();
        }
    }

    /** Runs {@code body} in a span that is a child of the current one. */
    <V> V traced(String name, Callable<V> body) throws Exception {
        Span span = tracer.spanBuilder(name).startSpan();
        try (Scope ignored = span.makeCurrent()) {
            return body.call();
        } finally {
            span.end();
        }
    }

    // ---------------------------------------------------------------------------------------
    // The run: a server scope handling two requests at once; the log and the trace trees

    /** What a run produced: the responses, the log lines as written, and the trace trees. */
    record Run(List<Response> responses, List<String> logLines, String traceTrees) { }

    /** Handles two requests concurrently; log lines also go to {@code echo} as they are written. */
    static Run run(OutputStream echo) throws Exception {
        registerContextAccessors();
        ByteArrayOutputStream logBuffer = new ByteArrayOutputStream();
        OutputStreamAppender<ILoggingEvent> appender = logTo(new TeeOutputStream(logBuffer, echo));
        InMemorySpanExporter exporter = InMemorySpanExporter.create();
        try (SdkTracerProvider provider = Fixtures.tracerProvider(exporter)) {
            RequestContextSample server = new RequestContextSample(Fixtures.tracer(provider));
            List<Response> responses;
            try (var requests = TaskScope.open(Joiner.<Response>allSuccessfulOrThrow(), cfg -> cfg.withName("server"))) {
                requests.fork("req-1", () -> server.handle(new Request("req-1", "/customers/c1", "c1")));
                requests.fork("req-2", () -> server.handle(new Request("req-2", "/customers/c2", "c2")));
                responses = requests.join();
            }
            List<String> lines = logBuffer.toString(StandardCharsets.UTF_8).lines().toList();
            return new Run(responses, lines, traceTrees(exporter.getFinishedSpanItems()));
        } finally {
            ((Logger) log).detachAppender(appender);
            appender.stop();
        }
    }

    /** A real Logback appender with a pattern that shows the MDC's request id on every line. */
    static OutputStreamAppender<ILoggingEvent> logTo(OutputStream out) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("requestId=%X{requestId:-NONE} [%thread] %msg%n");
        encoder.start();
        OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
        appender.setContext(context);
        appender.setName("sample");
        appender.setEncoder(encoder);
        appender.setOutputStream(out);
        appender.start();
        ((Logger) log).addAppender(appender);
        return appender;
    }

    /**
     * One tree per trace, from the exported spans: each span under its parent, siblings by name
     * (they run concurrently, so their start order varies); traces by root name.
     */
    static String traceTrees(List<SpanData> spans) {
        Map<String, List<SpanData>> children = spans.stream()
                .collect(Collectors.groupingBy(SpanData::getParentSpanId));
        List<SpanData> roots = new ArrayList<>(spans.stream().filter(s -> !s.getParentSpanContext().isValid()).toList());
        roots.sort(Comparator.comparing(SpanData::getName));
        StringBuilder out = new StringBuilder();
        for (SpanData root : roots) {
            out.append("trace ").append(root.getTraceId()).append('\n');
            appendTree(out, root, children, 1);
        }
        return out.toString();
    }

    private static void appendTree(StringBuilder out, SpanData span, Map<String, List<SpanData>> children, int depth) {
        out.append("  ".repeat(depth)).append(span.getName()).append('\n');
        List<SpanData> kids = new ArrayList<>(children.getOrDefault(span.getSpanId(), List.of()));
        kids.sort(Comparator.comparing(SpanData::getName));
        for (SpanData kid : kids) {
            if (!kid.getTraceId().equals(span.getTraceId())) {
                throw new IllegalStateException("span " + kid.getName() + " has another trace than its parent");
            }
            appendTree(out, kid, children, depth + 1);
        }
    }

    /** Writes to both streams. */
    static final class TeeOutputStream extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        TeeOutputStream(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) throws java.io.IOException {
            a.write(x);
            b.write(x);
        }

        @Override
        public void write(byte[] bytes, int off, int len) throws java.io.IOException {
            a.write(bytes, off, len);
            b.write(bytes, off, len);
        }

        @Override
        public void flush() throws java.io.IOException {
            a.flush();
            b.flush();
        }
    }

    /**
     * Prints the log lines (as they are written) and the trace trees.
     *
     * @param args ignored
     * @throws Exception if a request fails
     */
    public static void main(String[] args) throws Exception {
        Run run = run(System.out);
        System.out.println();
        System.out.print(run.traceTrees());
    }
}

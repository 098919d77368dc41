package dev.weft.context;

import dev.weft.ContextPropagator;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.integration.Slf4jThreadLocalAccessor;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The Weft code of docs/migration.md, section "Context" (checked by ContextMigrationExamplesTest;
 * samples' ReadmeSnippetTest checks that the page shows exactly these regions).
 */
final class ContextMigrationExamples {

    static final Logger log = LoggerFactory.getLogger("dev.weft.context.migration");

    private ContextMigrationExamples() {
    }

    // tag::from-inheritable[]
    static final ThreadLocal<String> TENANT = new ThreadLocal<>();     // was: new InheritableThreadLocal<>()

    static List<String> process(List<String> items) throws Exception {
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                                        cfg -> cfg.withContext(ContextPropagator.ofThreadLocals(TENANT)))) {
            for (String item : items) {
                scope.fork(() -> TENANT.get() + ":" + item);          // the forking thread's tenant
            }
            return scope.join();
        }
    }
    // end::from-inheritable[]

    // tag::from-mdccontext[]
    static void startup() {                                          // once, at application start
        ContextRegistry.getInstance().registerThreadLocalAccessor(new Slf4jThreadLocalAccessor());
    }

    static void handle(String requestId) throws Exception {
        MDC.put("requestId", requestId);
        try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(),
                                        cfg -> cfg.withContext(MicrometerPropagator.create()))) {
            scope.fork(() -> log.info("loading the user"));          // logged with requestId
            scope.fork(() -> log.info("loading the orders"));        // and so is every scope below
            scope.join();
        } finally {
            MDC.remove("requestId");
        }
    }
    // end::from-mdccontext[]

    // tag::from-taskwrapping[]
    /** OpenTelemetry's current context: captured at fork, current in the subtask, restored after. */
    static final ContextPropagator OTEL = () -> {
        Context captured = Context.current();
        return () -> captured.makeCurrent()::close;
    };

    static void queryShards(Tracer tracer, List<String> shards) throws Exception {
        try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), cfg -> cfg.withContext(OTEL))) {
            for (String shard : shards) {
                scope.fork(() -> tracer.spanBuilder("query " + shard).startSpan().end());   // a child of the caller's span
            }
            scope.join();
        }
    }
    // end::from-taskwrapping[]
}

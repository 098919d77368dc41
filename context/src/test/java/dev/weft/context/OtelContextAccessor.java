package dev.weft.context;

import io.micrometer.context.ThreadLocalAccessor;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A Micrometer {@link ThreadLocalAccessor} for OpenTelemetry's current {@link Context}: what an
 * application registers so that {@code ContextRegistry} carries its spans. (Micrometer Tracing's
 * OpenTelemetry bridge registers an equivalent one for Observation-based tracing; neither
 * context-propagation nor the OpenTelemetry SDK ships one for a bare SDK, so the tests register this.)
 *
 * <p>OpenTelemetry makes a context current with {@link Context#makeCurrent()}, which returns a
 * {@link Scope} that must be closed, in order, on the same thread: {@code setValue} opens one and
 * keeps it on a per-thread stack, {@code restore} closes it.
 */
final class OtelContextAccessor implements ThreadLocalAccessor<Context> {

    static final String KEY = "otel.context";

    private static final ThreadLocal<Deque<Scope>> SCOPES = new ThreadLocal<>();

    @Override
    public Object key() {
        return KEY;
    }

    @Override
    public Context getValue() {
        Context current = Context.current();
        return current == Context.root() ? null : current;      // null: nothing to carry
    }

    @Override
    public void setValue(Context value) {
        push(value.makeCurrent());
    }

    @Override
    public void setValue() {
        push(Context.root().makeCurrent());
    }

    @Override
    public void restore(Context previousValue) {
        pop();
    }

    @Override
    public void restore() {
        pop();
    }

    private static void push(Scope scope) {
        Deque<Scope> scopes = SCOPES.get();
        if (scopes == null) {
            scopes = new ArrayDeque<>();
            SCOPES.set(scopes);
        }
        scopes.push(scope);
    }

    private static void pop() {
        Deque<Scope> scopes = SCOPES.get();
        if (scopes == null || scopes.isEmpty()) {
            throw new IllegalStateException("restore without a matching setValue on thread " + Thread.currentThread());
        }
        scopes.pop().close();
        if (scopes.isEmpty()) {
            SCOPES.remove();
        }
    }
}

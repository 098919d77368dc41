package dev.weft;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * Carries context (MDC entries, the current span, a tenant id, a security principal...) from the
 * thread that forks a subtask into the subtask's thread, around the subtask's body.
 *
 * <p>A scope's propagators are configured with {@link TaskScope.Configuration#withContext} (adds one)
 * and {@link TaskScope.Configuration#withContextPropagators} (replaces the list); scopes nested
 * inside it, in its subtasks or in its owner, inherit its list. For each subtask:
 * <ol>
 *   <li><b>capture</b>: inside {@code fork}, on the forking thread, before the subtask's thread is
 *       started, each propagator's {@link #capture()} is called, in list order;</li>
 *   <li><b>install</b>: on the subtask's thread, before the body, each snapshot is
 *       {@linkplain Snapshot#install() installed}, in list order;</li>
 *   <li><b>restore</b>: on the subtask's thread, after the body, also when it threw, each
 *       {@link Restorer} runs, in reverse order.</li>
 * </ol>
 * A snapshot may be dropped without ever being installed (the scope was cancelled before the
 * subtask started, or the fork failed), so {@code capture} must not acquire anything that needs
 * releasing; {@code install} may, and its restorer releases it.
 *
 * <p>Failures are never swallowed: a {@code capture} that throws (or returns {@code null}) makes
 * {@code fork} throw {@link java.util.concurrent.RejectedExecutionException}, and no thread is
 * started; an {@code install} that throws makes the subtask fail with an
 * {@link IllegalStateException} (the body does not run, the snapshots already installed are
 * restored); a {@code restore} that throws is added to the body's exception as suppressed, or fails
 * the subtask if the body succeeded.
 *
 * <p>An integration is a few lines. This one carries an application's tenant id:
 * {@snippet :
 * ContextPropagator tenant = () -> {
 *     String captured = Tenant.current();                 // on the forking thread
 *     return () -> {
 *         String previous = Tenant.swap(captured);        // on the subtask's thread
 *         return () -> Tenant.swap(previous);             // after the body
 *     };
 * };
 * try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withContext(tenant))) { ... }
 * }
 * For plain {@link ThreadLocal}s, {@link #ofThreadLocals} does this.
 */
@FunctionalInterface
public interface ContextPropagator {

    /**
     * On the forking thread, inside {@code fork()}: captures what the subtask should see.
     *
     * @return the captured context; never null
     */
    Snapshot capture();

    /**
     * Context captured for one subtask by {@link ContextPropagator#capture()}.
     */
    @FunctionalInterface
    interface Snapshot {

        /**
         * On the subtask's thread, before the task body: installs the captured context and returns
         * how to put back what the thread had before.
         *
         * @return how to restore the thread's previous context; never null
         */
        Restorer install();

        /**
         * Runs {@code body} with this context installed; Weft calls this on the subtask's thread,
         * once per subtask, and passes the rest of the chain (the next snapshots, then the task's
         * body) as {@code body}. The default installs, calls {@code body}, and restores in a
         * {@code finally}: override {@link #install()} only, in almost every case.
         *
         * <p>Override this only for context that can be bound only <em>around</em> a call, not
         * set and reset: {@code ScopedValue} bindings ({@code ScopedValue.where(k, v).call(body)}),
         * for one, for which no public API can install a binding that outlives the call. Such a
         * snapshot's {@link #install()} may throw {@link UnsupportedOperationException}: Weft
         * never calls it directly. An override must call {@code body} exactly once, on the
         * calling thread, and return what it returns or throw what it throws: if it returns
         * without calling {@code body}, the subtask fails with an {@link IllegalStateException}
         * that names the propagator; an exception it throws before calling {@code body} counts as
         * a failure to install, one it throws after as a failure to restore.
         *
         * <p>Why a second, wrapping shape instead of install/restore only: a {@code ScopedValue}
         * binding is made by {@code ScopedValue.Carrier.call}/{@code run} and ends when that call
         * returns; there is no public API to bind on one call and unbind on another, so the binding
         * can only be made by a frame that encloses the body.
         *
         * @param body the rest of the subtask, to call exactly once
         * @param <V> the body's result type
         * @return what {@code body} returned
         * @throws Exception what {@code body}, {@link #install()} or the restorer threw
         */
        default <V> V call(Callable<V> body) throws Exception {
            Restorer restorer = Objects.requireNonNull(install(),
                    "install() returned null; return a Restorer (a no-op one if there is nothing to restore)");
            try {
                return body.call();
            } finally {
                restorer.restore();
            }
        }
    }

    /**
     * Puts back, on the subtask's thread, what {@link Snapshot#install()} replaced.
     */
    @FunctionalInterface
    interface Restorer {

        /**
         * On the subtask's thread after the body, also when it threw: puts back the previous
         * values.
         */
        void restore();
    }

    /**
     * A propagator that carries the current values of the given {@code ThreadLocal}s: it reads
     * them on the forking thread, sets them on the subtask's thread, and afterwards restores the
     * values that thread had, or removes them if it had none.
     *
     * <p>Values are read with {@link ThreadLocal#get()}, so a {@code ThreadLocal} with an initial
     * value gets it on the forking thread (and on the subtask's thread, whose previous value is
     * read the same way before it is replaced); a {@code null} value is carried as "no value"
     * ({@link ThreadLocal#remove()}). The values themselves are shared, not copied: carry
     * immutable values, or values safe to use from several threads.
     *
     * @param locals the thread-locals to carry
     * @return a new propagator
     * @throws NullPointerException if {@code locals} or one of its elements is null
     * @throws IllegalArgumentException if {@code locals} is empty: name at least one thread-local
     */
    static ContextPropagator ofThreadLocals(ThreadLocal<?>... locals) {
        Objects.requireNonNull(locals, "locals");
        if (locals.length == 0) {
            throw new IllegalArgumentException("ofThreadLocals() needs at least one ThreadLocal to carry");
        }
        ThreadLocal<?>[] copy = Arrays.copyOf(locals, locals.length);
        for (int i = 0; i < copy.length; i++) {
            Objects.requireNonNull(copy[i], "locals[" + i + "]");
        }
        return new ThreadLocalPropagator(copy);
    }
}

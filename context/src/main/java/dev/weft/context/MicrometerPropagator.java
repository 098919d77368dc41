package dev.weft.context;

import dev.weft.ContextPropagator;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import java.util.Objects;

/**
 * A {@link ContextPropagator} that carries everything registered in Micrometer's
 * {@link ContextRegistry} into Weft subtasks: SLF4J's MDC (through
 * {@code io.micrometer.context.integration.Slf4jThreadLocalAccessor}), Micrometer Observation (its
 * {@code ObservationThreadLocalAccessor} registers itself), OpenTelemetry's {@code Context} or any
 * other thread-local through the {@code ThreadLocalAccessor} registered for it.
 *
 * <p>At {@code fork}, on the forking thread, it takes a {@link ContextSnapshot} of every registered
 * thread-local ({@link ContextSnapshotFactory#captureAll}); on the subtask's thread it sets them
 * ({@link ContextSnapshot#setThreadLocals()}) before the body and closes the returned
 * {@link ContextSnapshot.Scope} after it, which restores what the thread had.
 *
 * {@snippet :
 * ContextRegistry.getInstance().registerThreadLocalAccessor(new Slf4jThreadLocalAccessor());
 * MDC.put("requestId", id);
 * try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(),
 *                                 cfg -> cfg.withContext(MicrometerPropagator.create()))) {
 *     scope.fork(() -> log.info("loading"));   // carries requestId, and so do scopes nested below
 *     scope.join();
 * }
 * }
 */
public final class MicrometerPropagator implements ContextPropagator {

    private final ContextSnapshotFactory factory;

    private MicrometerPropagator(ContextSnapshotFactory factory) {
        this.factory = factory;
    }

    /**
     * A propagator over the global {@link ContextRegistry#getInstance()}, that gives each subtask
     * exactly the forking thread's context: a registered thread-local that has no value on the
     * forking thread is cleared in the subtask for the duration of its body
     * ({@code clearMissing(true)}), so a thread that already had values (a platform thread from a
     * custom factory) does not show them to the subtask. Thread-locals registered after this call
     * are carried too.
     *
     * @return a new propagator
     */
    public static MicrometerPropagator create() {
        return new MicrometerPropagator(ContextSnapshotFactory.builder().clearMissing(true).build());
    }

    /**
     * A propagator that captures with the given factory: another registry, a key filter, or
     * {@code clearMissing(false)} to leave the subtask thread's own values for keys that the forking
     * thread does not have.
     *
     * @param factory the factory that captures the snapshots
     * @return a new propagator
     * @throws NullPointerException if {@code factory} is null
     */
    public static MicrometerPropagator create(ContextSnapshotFactory factory) {
        return new MicrometerPropagator(Objects.requireNonNull(factory, "factory"));
    }

    /**
     * Captures every registered thread-local's current value on the forking thread.
     *
     * @return a snapshot that sets the values on the subtask's thread and restores them after
     */
    @Override
    public Snapshot capture() {
        ContextSnapshot snapshot = factory.captureAll();
        return () -> {
            ContextSnapshot.Scope scope = snapshot.setThreadLocals();     // on the subtask's thread
            return scope::close;                                          // restores the previous values
        };
    }

    @Override
    public String toString() {
        return "MicrometerPropagator (Micrometer context-propagation: every ThreadLocalAccessor of the registry)";
    }
}

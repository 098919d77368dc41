package dev.weft.context;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import io.micrometer.context.ContextRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.contextpropagation.ObservationThreadLocalAccessor;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Micrometer Observation: its accessor registers itself in the registry (a service of
 * micrometer-observation), so MicrometerPropagator carries the current observation with no set-up.
 */
class ObservationPropagationTest {

    final ObservationRegistry registry = ObservationRegistry.create();
    final Map<String, Observation.Context> stopped = new ConcurrentHashMap<>();

    ObservationPropagationTest() {
        registry.observationConfig().observationHandler(new ObservationHandler<>() {
            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }

            @Override
            public void onStop(Observation.Context context) {
                stopped.put(context.getName(), context);
            }
        });
    }

    /** Observes {@code level-n} and, below {@code max}, forks the next level in a nested scope. */
    Void level(int n, int max) {
        Observation.createNotStarted("level-" + n, registry).observe(() -> {     // parent: the current observation
            if (n < max) {
                try (var scope = TaskScope.open()) {
                    scope.fork(() -> level(n + 1, max));
                    scope.join();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        return null;
    }

    @Test
    @Timeout(20)
    void observationAccessor_isRegisteredByItsLibrary() {
        assertThat(ContextRegistry.getInstance().getThreadLocalAccessors())
                .extracting(a -> a.key()).contains(ObservationThreadLocalAccessor.KEY);
    }

    @Test
    @Timeout(20)
    void observationsInSubtasks_haveTheOwnersObservationAsParent_acrossNestedScopes() throws Exception {
        Observation request = Observation.start("request", registry);
        try (Observation.Scope ignored = request.openScope()) {
            try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), c -> c.withContext(MicrometerPropagator.create()))) {
                scope.fork(() -> level(1, 3));
                scope.join();
            }
            assertThat(registry.getCurrentObservation()).isSameAs(request);      // the owner's, after join
        } finally {
            request.stop();
        }
        assertThat(registry.getCurrentObservation()).isNull();
        assertThat(stopped).containsOnlyKeys("request", "level-1", "level-2", "level-3");
        assertThat(stopped.get("level-1").getParentObservation()).isSameAs(request);
        assertThat(stopped.get("level-2").getParentObservation().getContextView()).isSameAs(stopped.get("level-1"));
        assertThat(stopped.get("level-3").getParentObservation().getContextView()).isSameAs(stopped.get("level-2"));
    }

    @Test
    @Timeout(20)
    void withoutThePropagator_subtaskObservationsHaveNoParent() throws Exception {
        Observation request = Observation.start("request", registry);
        try (Observation.Scope ignored = request.openScope()) {
            try (var scope = TaskScope.open()) {
                scope.fork(() -> level(1, 1));
                scope.join();
            }
        } finally {
            request.stop();
        }
        assertThat(stopped.get("level-1").getParentObservation()).isNull();
    }
}

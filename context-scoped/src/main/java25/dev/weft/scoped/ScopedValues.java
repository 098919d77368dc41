package dev.weft.scoped;

import dev.weft.ContextPropagator;
import java.util.Arrays;
import java.util.Objects;

/**
 * Carries {@link ScopedValue} bindings into Weft subtasks (JDK 25 and later).
 *
 * <p>The JDK's {@code StructuredTaskScope} makes its subtasks inherit all the forking thread's
 * scoped-value bindings. Weft's subtasks are ordinary threads, which inherit none, and no public
 * JDK API captures "all current bindings", so the keys to carry are named here:
 * {@snippet :
 * static final ScopedValue<User> USER = ScopedValue.newInstance();
 *
 * ScopedValue.where(USER, user).call(() -> {
 *     try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(),
 *                                     cfg -> cfg.withContext(ScopedValues.propagator(USER)))) {
 *         scope.fork(() -> audit(USER.get()));     // bound to the same user
 *         scope.join();
 *     }
 *     return null;
 * });
 * }
 * Each listed key that is bound on the forking thread at {@code fork} is bound in the subtask to the
 * same value, for the whole task body; a key that is not bound there stays unbound. Scopes nested in
 * the subtask inherit the propagator, and capture what is bound there, so a subtask that rebinds a
 * key ({@code ScopedValue.where(USER, other).call(...)}) passes its own binding down.
 *
 * <p>A binding can only be made around a call ({@code ScopedValue.Carrier.call}), so the snapshot
 * wraps the body ({@link ContextPropagator.Snapshot#call}) rather than installing and restoring.
 *
 * <p>This jar is multi-release: on JDK 21 to 24, where {@code ScopedValue} is a preview API, its
 * base version of this class is loaded, whose {@link #isSupported()} is {@code false} and whose
 * {@link #propagator} throws {@link UnsupportedOperationException}.
 */
public final class ScopedValues {

    private ScopedValues() {
    }

    /**
     * Whether this runtime supports {@code ScopedValue} propagation: {@code true} on JDK 25 and
     * later.
     *
     * @return {@code true}
     */
    public static boolean isSupported() {
        return true;
    }

    /**
     * A propagator that carries the bindings of {@code keys}.
     *
     * @param keys the scoped values to carry
     * @return a new propagator
     * @throws NullPointerException if {@code keys} or one of its elements is null
     * @throws IllegalArgumentException if {@code keys} is empty: name at least one scoped value
     */
    public static ContextPropagator propagator(ScopedValue<?>... keys) {
        Objects.requireNonNull(keys, "keys");
        if (keys.length == 0) {
            throw new IllegalArgumentException("ScopedValues.propagator() needs at least one ScopedValue to carry");
        }
        ScopedValue<?>[] copy = Arrays.copyOf(keys, keys.length);
        for (int i = 0; i < copy.length; i++) {
            Objects.requireNonNull(copy[i], "keys[" + i + "]");
        }
        return new ScopedValuePropagator(copy);
    }
}

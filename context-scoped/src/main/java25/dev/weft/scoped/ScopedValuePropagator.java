package dev.weft.scoped;

import dev.weft.ContextPropagator;
import java.util.concurrent.Callable;

/** {@link ScopedValues#propagator}: binds the captured values around the subtask's body. */
final class ScopedValuePropagator implements ContextPropagator {

    /** The snapshot when none of the keys is bound on the forking thread: nothing to bind. */
    private static final Snapshot NOTHING_BOUND = () -> () -> { };

    private final ScopedValue<?>[] keys;

    ScopedValuePropagator(ScopedValue<?>[] keys) {
        this.keys = keys;
    }

    @Override
    public Snapshot capture() {
        ScopedValue.Carrier carrier = null;
        for (ScopedValue<?> key : keys) {
            if (key.isBound()) {
                carrier = bind(carrier, key);
            }
        }
        return carrier == null ? NOTHING_BOUND : new Bindings(carrier);
    }

    private static <T> ScopedValue.Carrier bind(ScopedValue.Carrier carrier, ScopedValue<T> key) {
        T value = key.get();
        return carrier == null ? ScopedValue.where(key, value) : carrier.where(key, value);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("ScopedValues.propagator(");
        for (int i = 0; i < keys.length; i++) {
            b.append(i == 0 ? "" : ", ").append(keys[i]);
        }
        return b.append(')').toString();
    }

    /** The captured bindings: the body runs inside {@code carrier.call}. */
    private record Bindings(ScopedValue.Carrier carrier) implements Snapshot {

        @Override
        public Restorer install() {
            throw new UnsupportedOperationException("a ScopedValue binding is made around a call, not installed:"
                    + " call(body) runs the body inside it (Weft calls call(body), never install())");
        }

        @Override
        public <V> V call(Callable<V> body) throws Exception {
            return carrier.call(body::call);
        }
    }
}

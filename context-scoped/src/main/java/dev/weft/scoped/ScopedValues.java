package dev.weft.scoped;

import dev.weft.ContextPropagator;

/**
 * Carries {@code ScopedValue} bindings into Weft subtasks: <b>JDK 25 and later only</b>.
 *
 * <p>This is the class a JDK 21 to 24 runtime loads from this multi-release jar: there
 * {@code ScopedValue} is a preview API, which Weft does not use, so {@link #isSupported()} is
 * {@code false} and {@link #propagator} throws {@link UnsupportedOperationException}. On JDK 25
 * and later the jar's {@code META-INF/versions/25} class, with the same API, is loaded instead and
 * works as documented there. On JDK 21 to 24, carry the values in {@code ThreadLocal}s with
 * {@link ContextPropagator#ofThreadLocals}.
 */
public final class ScopedValues {

    private ScopedValues() {
    }

    /**
     * Whether this runtime supports {@code ScopedValue} propagation: {@code false} here, on JDK 21
     * to 24.
     *
     * @return {@code false}
     */
    public static boolean isSupported() {
        return false;
    }

    /**
     * Not available before JDK 25: always throws.
     *
     * @param keys the scoped values to carry
     * @return never returns
     * @throws UnsupportedOperationException always, on this runtime (JDK 21 to 24)
     */
    public static ContextPropagator propagator(ScopedValue<?>... keys) {
        throw new UnsupportedOperationException("ScopedValue propagation needs JDK 25 or later, where ScopedValue is"
                + " final; this runtime is Java " + Runtime.version() + ", where it is a preview API that Weft does"
                + " not use. Run on JDK 25+, or carry the values in ThreadLocals with ContextPropagator.ofThreadLocals.");
    }
}

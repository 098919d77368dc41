package dev.weft.jmh;

/**
 * The Kotlin coroutines peer ({@code kotlinx.coroutines}), seen through a small interface.
 *
 * <p>Only {@code KotlinCoroutines} (a Kotlin source, {@code src/main/kotlin}) touches Kotlin types.
 * Everything else in this module refers to it by name and loads it reflectively here, as
 * {@link Sts} does for the JDK's {@code StructuredTaskScope}: the Weft benchmarks do not depend on
 * Kotlin. The peer runs on any JDK &ge; 21 (the Kotlin classes are compiled for JVM 21).
 */
public final class Coroutines {

    private Coroutines() {
    }

    /**
     * N coroutines launched on {@code Dispatchers.Default} as children of one parent {@code Job},
     * each suspended (in {@code awaitCancellation()} or in {@code delay}) when
     * {@link Factory#start} returns.
     */
    public interface Children {

        /**
         * The measured operation: {@code parent.cancelAndJoin()} (from {@code runBlocking}); returns
         * when the parent job, and so every child, has completed.
         *
         * @throws InterruptedException if this thread is interrupted while waiting
         */
        void cancelAndJoin() throws InterruptedException;

        /**
         * Not timed: checks that the parent completed, cancelled, with no child left.
         *
         * @throws IllegalStateException if it did not
         */
        void verifyCompleted();

        /** Cancels the parent without waiting: clean-up after a failed set-up. */
        void abandon();
    }

    /** Implemented by {@code KotlinCoroutines}. */
    public interface Factory {

        /**
         * Launches {@code n} children and returns once every one is suspended.
         *
         * @param n how many children, at least 1
         * @param sleeping {@code delay} for a day instead of {@code awaitCancellation()}
         * @param checked each child calls {@code ensureActive()} once before it suspends (the
         *        coroutine counterpart of the other peers' first stop check)
         * @throws IllegalArgumentException if {@code n < 1}
         * @throws IllegalStateException if a child did not stay suspended
         */
        Children start(int n, boolean sleeping, boolean checked);
    }

    private static final String IMPL = "dev.weft.jmh.KotlinCoroutines";
    private static final Factory FACTORY;
    private static final String PROBLEM;

    static {
        Factory f = null;
        String problem = null;
        try {
            f = (Factory) Class.forName(IMPL).getDeclaredConstructor().newInstance();
        } catch (ClassNotFoundException e) {
            problem = IMPL + " is not in benchmarks.jar";
        } catch (LinkageError | ReflectiveOperationException e) {
            problem = IMPL + " cannot be loaded: " + e + " (benchmarks.jar must contain the Kotlin standard library"
                    + " and kotlinx-coroutines-core-jvm; rebuild it with mvn -B -pl jmh -am package -DskipTests)";
        }
        FACTORY = f;
        PROBLEM = problem;
    }

    /** Whether the KOTLIN peer can run in this JVM. */
    public static boolean available() {
        return FACTORY != null;
    }

    /** Why the KOTLIN peer cannot run, or null. */
    public static String unavailable() {
        return PROBLEM;
    }

    /**
     * Launches {@code n} suspended coroutines; see {@link Factory#start}.
     *
     * @throws UnsupportedOperationException if the peer is not available in this JVM
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public static Children start(int n, boolean sleeping, boolean checked) {
        Factory f = FACTORY;
        if (f == null) {
            throw new UnsupportedOperationException("the KOTLIN peer is unavailable: " + PROBLEM + "; see jmh/README.md");
        }
        return f.start(n, sleeping, checked);
    }
}

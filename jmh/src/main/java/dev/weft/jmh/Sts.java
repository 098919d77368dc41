package dev.weft.jmh;

import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * The JDK's {@code java.util.concurrent.StructuredTaskScope} peer, seen through a small interface.
 *
 * <p>Only {@code JdkSts} touches that API, which is a preview API: {@code JdkSts} is compiled on its
 * own with {@code --release 25 --enable-preview} (see {@code jmh/pom.xml}), and a preview class file
 * loads only on that exact JDK, run with {@code --enable-preview}. Everything else in this module is
 * compiled for release 21, refers to {@code JdkSts} only by name, and loads it reflectively here.
 * When it cannot be loaded (another JDK, no {@code --enable-preview}, or a jar built without it: on
 * a JDK other than 25, or with {@code -Pno-jdk-sts}), only the {@code JDK_STS} peers fail, with
 * {@link #unavailable()}'s message.
 */
public final class Sts {

    private Sts() {
    }

    /** A StructuredTaskScope opened with its default joiner, {@code awaitAllSuccessfulOrThrow()}. */
    public interface Scope extends AutoCloseable {

        /** {@code StructuredTaskScope.fork(Callable)}; the subtask, as a supplier of its result. */
        <T> Supplier<T> fork(Callable<? extends T> task);

        /** {@code join()}: returns {@code true} if every subtask succeeded, {@code false} on {@code FailedException}. */
        boolean join() throws InterruptedException;

        /** {@code close()}, after a join. */
        @Override
        void close();

        /** {@code close()} without a join: cancels, waits for every thread, and swallows the expected {@code IllegalStateException}. */
        void cancelAndClose();
    }

    /** Implemented by {@code JdkSts}. */
    public interface Factory {
        /** {@code StructuredTaskScope.open()}. */
        Scope open();
    }

    private static final String IMPL = "dev.weft.jmh.JdkSts";
    private static final Factory FACTORY;
    private static final String PROBLEM;

    static {
        Factory f = null;
        String problem = null;
        try {
            f = (Factory) Class.forName(IMPL).getDeclaredConstructor().newInstance();
        } catch (ClassNotFoundException e) {
            problem = IMPL + " is not in benchmarks.jar (built on a JDK other than 25, or with -Pno-jdk-sts)";
        } catch (LinkageError | ReflectiveOperationException e) {
            problem = IMPL + " cannot be loaded on JDK " + Runtime.version() + ": " + e
                    + " (it is compiled against the JDK 25 preview API and needs exactly that JDK, with --enable-preview)";
        }
        FACTORY = f;
        PROBLEM = problem;
    }

    /** Whether the JDK_STS peer can run in this JVM. */
    public static boolean available() {
        return FACTORY != null;
    }

    /** Why the JDK_STS peer cannot run, or null. */
    public static String unavailable() {
        return PROBLEM;
    }

    /**
     * Opens a JDK StructuredTaskScope.
     *
     * @throws UnsupportedOperationException if the peer is not available in this JVM
     */
    public static Scope open() {
        Factory f = FACTORY;
        if (f == null) {
            throw new UnsupportedOperationException("the JDK_STS peer is unavailable: " + PROBLEM + "; see jmh/README.md");
        }
        return f.open();
    }
}

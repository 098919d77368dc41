package dev.weft;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Settings and shared checks of the reliability suite (tests tagged {@code reliability}:
 * {@link StressTest}, {@link FaultTest}, {@link LoadSoakTest}, {@link ShutdownHookRepeatTest},
 * {@link FailureLedgerPropertyTest}).
 *
 * <p>Every test of the suite has a short version, run by the default build and CI, and a long
 * version, run with {@code -Dweft.reliability=long} (the Maven profile {@code reliability-long} sets
 * it and selects only this suite). Each size can also be set on its own through the system
 * properties named by the tests.
 */
final class Reliability {

    /** The tag of the suite. */
    static final String TAG = "reliability";

    private Reliability() {
    }

    /** Whether the long version was asked for ({@code -Dweft.reliability=long}). */
    static boolean isLong() {
        return "long".equalsIgnoreCase(System.getProperty("weft.reliability", "short"));
    }

    /** {@code -Dname=...} if set, else the long or short default. */
    static long size(String name, long shortDefault, long longDefault) {
        return Long.getLong(name, isLong() ? longDefault : shortDefault);
    }

    /**
     * Waits until the global registry holds no root scope and no lingering scope other than those
     * in {@code before} (scopes other tests left behind), at most {@code timeout}; returns what is
     * left over (empty when the registry is clean).
     */
    static List<String> registryLeftovers(RegistrySnapshot before, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        for (;;) {
            List<String> left = new ArrayList<>();
            for (Flock f : Registry.roots()) {
                if (!before.roots.contains(f)) {
                    left.add("root " + f);
                }
            }
            for (Flock f : Registry.lingering()) {
                if (!before.lingering.contains(f)) {
                    left.add("lingering " + f);
                }
            }
            if (left.isEmpty() || System.nanoTime() > end) {
                return left;
            }
            Thread.yield();
        }
    }

    /**
     * Silences Weft's log ({@code System.Logger "dev.weft"}, java.util.logging by default) until the
     * returned handle is closed: the reliability tests check every incident through
     * {@link Reports#listener} instead, and thousands of expected late-failure warnings would bury
     * the build output. Reflective, because the test module does not read {@code java.logging}.
     */
    static AutoCloseable quietWeftLog() {
        // Records still reach handlers attached to "dev.weft" itself (ShutdownSupport.Incidents);
        // they only stop going up to the console handler.
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger("dev.weft");
        boolean previous = logger.getUseParentHandlers();
        logger.setUseParentHandlers(false);
        return () -> logger.setUseParentHandlers(previous);     // the lambda holds the logger strongly meanwhile
    }

    /** The registry's content at some moment. */
    record RegistrySnapshot(List<Flock> roots, List<Flock> lingering) {
        static RegistrySnapshot take() {
            return new RegistrySnapshot(Registry.roots(), Registry.lingering());
        }

        boolean isEmpty() {
            return roots.isEmpty() && lingering.isEmpty();
        }
    }
}

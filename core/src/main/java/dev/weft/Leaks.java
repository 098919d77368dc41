package dev.weft;

import java.lang.ref.Cleaner;

/**
 * Leak detection: a scope whose public object becomes unreachable while it is still open is
 * reported once and its subtasks are cancelled ({@link Flock#leaked()}). Correctness never depends
 * on it; it only turns a silent bug into a report.
 *
 * <p>Controlled by the system property {@code dev.weft.leakDetection}:
 * <ul>
 *   <li>{@code on} (default): track scopes with a {@link Cleaner}; the report names the scope, its
 *       owner thread and its age. No stack trace is captured, so opening a scope costs only the
 *       Cleaner registration.</li>
 *   <li>{@code trace}: also capture the stack trace of every {@code open}, and include it in the
 *       report.</li>
 *   <li>{@code off}: no tracking.</li>
 * </ul>
 */
final class Leaks {

    private Leaks() {
    }

    /** "off", "on" or "trace". Read once, at class initialisation. */
    static final String MODE = normalise(System.getProperty("dev.weft.leakDetection", "on"));

    private static String normalise(String s) {
        String m = s.trim().toLowerCase(java.util.Locale.ROOT);
        return switch (m) {
            case "off", "false", "none" -> "off";
            case "trace", "paranoid" -> "trace";
            default -> "on";
        };
    }

    /** Lazily created, so that a JVM that never opens a scope starts no Cleaner thread. */
    private static final class Holder {
        static final Cleaner CLEANER = Cleaner.create(r -> {
            Thread t = new Thread(r, "weft-leak-detector");
            t.setDaemon(true);
            return t;
        });
    }

    /** Registers {@code scope}; when it becomes unreachable, {@code flock.leaked()} runs. */
    static Cleaner.Cleanable track(Object scope, Flock flock) {
        if ("off".equals(MODE)) {
            return null;
        }
        return Holder.CLEANER.register(scope, flock::leaked);
    }

    /** The stack trace of the current {@code open}, when tracing; else null. */
    static Throwable openSite() {
        if (!"trace".equals(MODE)) {
            return null;
        }
        return new Throwable("scope opened here");
    }
}

package dev.weft.samples;

import java.util.Locale;

/** Output helpers shared by the samples: measured times and counts, printed the same way everywhere. */
final class Show {

    private Show() {
    }

    /** Prints one line of the story. */
    static void say(String format, Object... args) {
        System.out.println(String.format(Locale.ROOT, format, args));
    }

    /** Milliseconds elapsed since {@code startNanos} (a {@link System#nanoTime()} reading), as {@code "14 ms"}. */
    static String since(long startNanos) {
        return ms(System.nanoTime() - startNanos);
    }

    /** A duration in nanoseconds, as {@code "1,234 ms"}. */
    static String ms(long nanos) {
        return String.format(Locale.ROOT, "%,d ms", nanos / 1_000_000);
    }

    /** A count with thousands separators, as {@code "10,000"}. */
    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** {@code ClassName: message} for an exception, on one line. */
    static String brief(Throwable t) {
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}

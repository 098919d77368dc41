package dev.weft;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;

/**
 * The immutable configuration of a scope.
 *
 * @param name the scope name, or {@code null} for a generated one
 * @param threadFactory the thread factory, or {@code null} for named virtual threads
 * @param timeout the timeout, or {@code null}; exclusive with {@code deadline}
 * @param deadline the deadline, or {@code null}; exclusive with {@code timeout}
 * @param grace the grace period, or {@code null} for unbounded
 * @param interrupts whether cancellation interrupts, or {@code null} to inherit (default {@code true})
 */
record Config(String name, ThreadFactory threadFactory, Duration timeout, Instant deadline, Duration grace,
              Boolean interrupts)
        implements TaskScope.Configuration {

    static final Config DEFAULT = new Config(null, null, null, null, null, null);

    @Override
    public Config withName(String name) {
        return new Config(Objects.requireNonNull(name, "name"), threadFactory, timeout, deadline, grace, interrupts);
    }

    @Override
    public Config withThreadFactory(ThreadFactory threadFactory) {
        return new Config(name, Objects.requireNonNull(threadFactory, "threadFactory"), timeout, deadline, grace, interrupts);
    }

    @Override
    public Config withTimeout(Duration timeout) {
        return new Config(name, threadFactory, Objects.requireNonNull(timeout, "timeout"), null, grace, interrupts);
    }

    @Override
    public Config withDeadline(Instant deadline) {
        return new Config(name, threadFactory, null, Objects.requireNonNull(deadline, "deadline"), grace, interrupts);
    }

    @Override
    public Config withGrace(Duration grace) {
        Objects.requireNonNull(grace, "grace");
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace must not be negative: " + grace);
        }
        return new Config(name, threadFactory, timeout, deadline, grace, interrupts);
    }

    @Override
    public Config withInterrupts(boolean interrupts) {
        return new Config(name, threadFactory, timeout, deadline, grace, interrupts);
    }

    /** Returns the grace period in nanoseconds, saturated; {@link Long#MAX_VALUE} when unbounded. */
    long graceNanos() {
        if (grace == null) {
            return Long.MAX_VALUE;
        }
        try {
            return grace.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public String toString() {
        return "Configuration[name=" + name
                + ", threadFactory=" + (threadFactory == null ? "virtual" : threadFactory)
                + (timeout != null ? ", timeout=" + timeout : "")
                + (deadline != null ? ", deadline=" + deadline : "")
                + ", grace=" + (grace == null ? "unbounded" : grace)
                + (interrupts != null ? ", interrupts=" + interrupts : "") + "]";
    }
}

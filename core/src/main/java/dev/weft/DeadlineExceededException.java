package dev.weft;

import java.time.Instant;

/**
 * Thrown by {@link TaskScope#join()} when the scope's own deadline (set with
 * {@link TaskScope.Configuration#withTimeout withTimeout} or
 * {@link TaskScope.Configuration#withDeadline withDeadline}) passed before the scope was done. The
 * scope was cancelled at the deadline.
 *
 * <p>A scope cancelled because an <em>enclosing</em> scope's deadline passed throws a plain
 * {@link CancelledException} instead; the enclosing scope reports the deadline.
 */
public final class DeadlineExceededException extends CancelledException {

    private static final long serialVersionUID = 1L;

    /** The deadline that passed. */
    private final Instant deadline;

    DeadlineExceededException(String message, Instant deadline) {
        super(message);
        this.deadline = deadline;
    }

    /**
     * Creates the exception for a deadline that passed outside a scope's {@code join()}, for
     * integrations that map another library's deadline to Weft's (for example a gRPC call that
     * ended with {@code DEADLINE_EXCEEDED}).
     *
     * @param message the detail message
     * @param deadline the deadline that passed
     * @param cause the other library's exception, or {@code null}
     * @throws NullPointerException if {@code deadline} is null
     */
    public DeadlineExceededException(String message, Instant deadline, Throwable cause) {
        super(message, cause);
        this.deadline = java.util.Objects.requireNonNull(deadline, "deadline");
    }

    /**
     * Returns the deadline that passed.
     *
     * @return the deadline
     */
    public Instant deadline() {
        return deadline;
    }
}

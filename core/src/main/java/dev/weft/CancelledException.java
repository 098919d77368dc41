package dev.weft;

/**
 * Thrown when work stops because it was cancelled: by {@link Cancellation#check()} inside a
 * cancelled task, and by {@link TaskScope#join()} when the scope was cancelled by
 * {@link TaskScope#cancel(Throwable)}, by an enclosing scope, by {@link Scopes#cancelAll()} or
 * because it leaked. Its cause, if any, is the reason given for the cancellation.
 *
 * <p>It is unchecked, so that it unwinds through code that does not know about Weft, running
 * {@code finally} blocks on the way. A subtask that ends with it after being cancelled is
 * {@link TaskScope.Subtask.State#CANCELLED CANCELLED}, not failed. Application code may throw it
 * too, to the same effect.
 */
public sealed class CancelledException extends RuntimeException permits DeadlineExceededException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message.
     *
     * @param message the detail message
     */
    public CancelledException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and the reason for the cancellation.
     *
     * @param message the detail message
     * @param cause the reason for the cancellation, or {@code null}
     */
    public CancelledException(String message, Throwable cause) {
        super(message, cause);
    }
}

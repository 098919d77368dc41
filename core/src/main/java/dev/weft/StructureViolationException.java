package dev.weft;

/**
 * Thrown when scopes are not closed in the reverse order of opening: a scope was closed while a
 * scope nested inside it, opened later by the same thread, was still open; or a subtask returned
 * while a scope it opened was still open. Weft closes the nested scopes first (cancelling their
 * subtasks and waiting for them, within their grace periods), so nothing is left running; the
 * exception reports the bug. {@code try}-with-resources never causes it.
 *
 * <p>This is Weft's own type: the JDK's {@code java.util.concurrent.StructureViolationException}
 * is a preview API on JDK 21, which Weft does not use.
 */
public final class StructureViolationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    StructureViolationException(String message) {
        super(message);
    }
}

package dev.weft;

/**
 * An open critical section. Created by {@link Context#enterCritical}; all fields are confined to
 * the thread that opened it, except that {@link #close()} checks that it is called on that thread.
 */
final class CriticalSection implements Cancellation.Section {

    /** The context of the thread that opened the section. */
    private final Context context;

    /** The depth of this section, 1 for the outermost. */
    private final int depth;

    /** The section's name, or null. */
    private final String name;

    /** The name of the enclosing section, restored on close; for tasks only. */
    final String enclosingName;

    /** Whether {@link #close()} has run. Owner thread only. */
    private boolean closed;

    CriticalSection(Context context, int depth, String name, String enclosingName) {
        this.context = context;
        this.depth = depth;
        this.name = name;
        this.enclosingName = enclosingName;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void close() {
        Thread owner = context.thread();
        if (Thread.currentThread() != owner) {
            throw new WrongThreadException("critical section " + label() + " must be closed by the thread that opened it ('"
                    + owner.getName() + "'), not by '" + Thread.currentThread().getName() + "'");
        }
        if (closed) {
            throw new IllegalStateException("critical section " + label() + " is already closed");
        }
        context.exitCritical(this);
        closed = true;
    }

    /** Throws unless this is the innermost open section, at {@code currentDepth}. */
    void checkInnermost(int currentDepth) {
        if (currentDepth != depth) {
            throw new IllegalStateException("critical section " + label() + " (depth " + depth
                    + ") cannot be closed while an inner section is open (depth " + currentDepth
                    + "); close sections in the reverse order of opening");
        }
    }

    private String label() {
        return name == null ? "(unnamed)" : "'" + name + "'";
    }

    @Override
    public String toString() {
        return "CriticalSection[" + label() + ", depth " + depth + (closed ? ", closed]" : "]");
    }
}

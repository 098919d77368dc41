package dev.weft;

import java.time.Instant;

/**
 * The context of a thread that is not a subtask (for example {@code main}, or a pool thread):
 * nothing in Weft cancels it, so its cancellation state is its interrupt status, and critical
 * sections only nest, hide that status from {@link Cancellation#isRequested()}, and shield scopes
 * opened inside them from the cancellation of the scopes that enclose them.
 *
 * <p>All fields are written and read by the owning thread only, except {@link Context#outermost}.
 */
final class ThreadContext extends Context {

    /** The thread. */
    private final Thread thread;

    /** Critical-section depth. Owner thread only. */
    private int depth;

    ThreadContext(Thread thread) {
        this.thread = thread;
    }

    @Override
    Thread thread() {
        return thread;
    }

    @Override
    boolean cancellationRequested() {
        return depth == 0 && thread.isInterrupted();
    }

    @Override
    CancelledException newCancelledException() {
        return new CancelledException("thread '" + Names.thread(thread) + "' was interrupted (it is not a subtask of a scope)");
    }

    @Override
    Instant deadline() {
        return null;
    }

    @Override
    int criticalDepth() {
        return depth;
    }

    @Override
    CriticalSection enterCritical(String name) {
        return new CriticalSection(this, ++depth, name, null);
    }

    @Override
    void exitCritical(CriticalSection section) {
        section.checkInnermost(depth);
        depth--;
        afterSectionExit(depth);
    }

    @Override
    boolean interruptsEnabled() {
        return true;
    }

    @Override
    Reason cancellationReasonForScopes() {
        return null;
    }
}

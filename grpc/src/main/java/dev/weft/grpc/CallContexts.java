package dev.weft.grpc;

import io.grpc.Context;

/**
 * The {@code io.grpc.Context} of the server call a thread works for, for the subtasks a handler
 * forks.
 *
 * <p>gRPC keeps its current context in a thread-local, so a thread Weft starts for a subtask sees
 * {@link Context#ROOT}. The handler's thread stores the call's context here too; this
 * {@link InheritableThreadLocal} is copied into every thread created below it (Weft's virtual
 * threads inherit inheritable thread-locals, as do threads from a plain {@code ThreadFactory}),
 * and {@link WeftClientInterceptor} creates outgoing calls in it when nothing else is attached.
 *
 * <p>A context whose call has ended is cancelled (gRPC cancels it on completion too), and is
 * ignored: a thread that was created under a handler and outlives its call (say, a pool's thread
 * started there) does not drag a dead call's context into calls made later.
 *
 * <p>When core has a context-propagation hook (capture at {@code fork}, install around the
 * subtask's body), this class becomes a propagator that captures {@code Context.current()} at
 * fork and {@code attach}es it around the body, and the interceptor's fallback goes away.
 */
final class CallContexts {

    private CallContexts() {
    }

    private static final InheritableThreadLocal<Context> CALL = new InheritableThreadLocal<>();

    /** Runs on the handler's thread: makes {@code context} the one its descendants inherit. */
    static void set(Context context) {
        CALL.set(context);
    }

    /** Runs on the handler's thread when it is done. */
    static void clear() {
        CALL.remove();
    }

    /**
     * The context to create an outgoing call in: the attached one if any, otherwise the live call
     * context this thread inherited, otherwise {@link Context#ROOT}.
     */
    static Context forOutgoingCall() {
        Context current = Context.current();
        if (current != Context.ROOT) {
            return current;
        }
        Context inherited = CALL.get();
        return inherited != null && !inherited.isCancelled() ? inherited : current;
    }
}

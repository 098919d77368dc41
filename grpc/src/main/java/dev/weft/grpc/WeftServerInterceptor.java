package dev.weft.grpc;

import dev.weft.CancelledException;
import dev.weft.GracePeriodExceededException;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Runs each call's handler as a subtask of a scope of its own (see {@link WeftGrpc}).
 *
 * <p>The scope's owner is the thread gRPC delivers the callback on; it forks the handler (the
 * rest of the callback: for generated stubs, the service method) as the subtask "handler", on a
 * virtual thread, and waits for it, so gRPC sees the callback return when the handler returns, as
 * without the interceptor. The call's {@code io.grpc.Context} drives the scope: gRPC cancels it
 * at once, not through the call's serialised callbacks, when the client cancels, the deadline
 * passes or the transport is lost, and a listener cancels the scope with a reason from there.
 */
final class WeftServerInterceptor implements ServerInterceptor {

    private static final System.Logger LOG = System.getLogger("dev.weft");

    /** Runs context listeners on gRPC's cancelling thread: {@link dev.weft.TaskScope#cancel} only marks and interrupts. */
    private static final Executor DIRECT = Runnable::run;

    /** The grace period of each call's scope, or null for unbounded. */
    private final Duration grace;

    WeftServerInterceptor(Duration grace) {
        this.grace = grace;
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
                                                                 ServerCallHandler<ReqT, RespT> next) {
        CallScope scope = new CallScope(call.getMethodDescriptor().getFullMethodName(), Context.current(), grace);
        if (call.getMethodDescriptor().getType().clientSendsOneMessage()) {
            // Unary and server-streaming: the service method runs when the request is complete.
            return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
                @Override
                public void onHalfClose() {
                    scope.run(() -> {
                        super.onHalfClose();
                        return null;
                    });
                }
            };
        }
        // Client-streaming and bidirectional: the service method runs in startCall, then each message.
        ServerCall.Listener<ReqT> listener = scope.run(() -> next.startCall(call, headers));
        if (listener == null) {                 // cancelled before the service method ran
            return new ServerCall.Listener<>() { };
        }
        return new SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onMessage(ReqT message) {
                scope.run(() -> {
                    super.onMessage(message);
                    return null;
                });
            }

            @Override
            public void onHalfClose() {
                scope.run(() -> {
                    super.onHalfClose();
                    return null;
                });
            }
        };
    }

    /** What one call's callbacks run in. */
    static final class CallScope {

        private final String method;
        private final Context context;
        private final Duration grace;

        CallScope(String method, Context context, Duration grace) {
            this.method = method;
            this.context = context;
            this.grace = grace;
        }

        /**
         * Runs {@code body} as the subtask "handler" of a new scope and returns its result; null if
         * the scope was cancelled first. A failure of the body is rethrown as it is, so gRPC
         * handles it as it would without the interceptor.
         */
        <V> V run(Callable<V> body) {
            Deadline incoming = context.getDeadline();
            Instant deadline = incoming == null ? null
                    : Instant.now().plusNanos(incoming.timeRemaining(TimeUnit.NANOSECONDS));
            var scope = TaskScope.<V, Void, java.util.concurrent.ExecutionException>open(Joiner.awaitAllSuccessfulOrThrow(), cfg -> {
                var c = cfg.withName("grpc " + method);
                if (deadline != null) {
                    c = c.withDeadline(deadline);
                }
                return grace == null ? c : c.withGrace(grace);
            });
            Context.CancellationListener listener = ctx -> scope.cancel(reason(method, ctx));
            boolean interrupted = false;
            Throwable failure = null;
            V result = null;
            try {
                context.addListener(listener, DIRECT);     // runs at once if the call is already cancelled
                var handler = scope.fork("handler", () -> {
                    Context previous = context.attach();
                    CallContexts.set(context);
                    try {
                        return body.call();
                    } finally {
                        CallContexts.clear();
                        context.detach(previous);
                    }
                });
                scope.join();
                result = handler.get();
            } catch (ExecutionException e) {
                failure = e.getCause();                   // the handler failed on its own
            } catch (CancelledException e) {
                reportCancelled(e);
            } catch (InterruptedException e) {
                interrupted = true;                       // gRPC's executor is shutting down
                scope.cancel(e);
            } catch (Exception e) {                       // whatever else join() may declare
                failure = e;
            } finally {
                context.removeListener(listener);
                try {
                    scope.close();
                } catch (GracePeriodExceededException e) {
                    report(e);
                } catch (RuntimeException e) {
                    if (failure == null) {
                        failure = e;
                    } else {
                        failure.addSuppressed(e);
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            if (failure instanceof RuntimeException r) {
                throw r;
            }
            if (failure instanceof Error err) {
                throw err;
            }
            if (failure != null) {
                throw new IllegalStateException("gRPC call '" + method + "': the handler failed", failure);
            }
            return result;
        }

        /**
         * A cancelled call is routine (DEBUG), unless the handler also failed on its own or did not
         * stop: its failures are attached to {@code e}, so it is logged with them (WARNING), and a
         * straggler report on its own too.
         */
        private void reportCancelled(CancelledException e) {
            boolean failures = false;
            for (Throwable s : e.getSuppressed()) {
                if (s instanceof GracePeriodExceededException g) {
                    report(g);
                } else {
                    failures = true;
                }
            }
            if (failures) {
                LOG.log(Level.WARNING, "gRPC call '" + method + "' was cancelled, and its handler failed too", e);
            } else {
                LOG.log(Level.DEBUG, () -> "gRPC call '" + method + "' stopped: " + e.getMessage());
            }
        }

        private void report(GracePeriodExceededException e) {
            LOG.log(Level.WARNING, "gRPC call '" + method + "' ended, but its handler did not stop: " + e.getMessage(), e);
        }
    }

    /**
     * The reason a call's scope is cancelled: what happened to the call, in words, and gRPC's
     * status. It runs in gRPC's cancellation listener, ahead of the interrupts, so it only keeps
     * the call's method and context; the words are composed when the message is first read.
     */
    static CallCancelled reason(String method, Context cancelled) {
        return new CallCancelled(method, cancelled);
    }

    /**
     * The reason given to a call's scope. It reaches users as the cause of the
     * {@link CancelledException} that {@code join()} and {@code Cancellation.check()} throw in the
     * handler's scopes, and its message is part of theirs. It has no stack trace: it is created on
     * gRPC's cancelling thread, whose stack says nothing about the call, and filling one in would
     * only delay the cancellation. Its cause is the context's cancellation cause.
     */
    static final class CallCancelled extends RuntimeException {
        private static final long serialVersionUID = 1L;

        /** The call's full method name. */
        private final String method;

        /** The call's cancelled context, read for its status when the message is composed; not serialised. */
        private final transient Context cancelled;

        /** The message, composed on first read (racy but idempotent: a String is safely published). */
        private String message;

        CallCancelled(String method, Context cancelled) {
            super(null, cancelled.cancellationCause(), false, false);
            this.method = method;
            this.cancelled = cancelled;
        }

        @Override
        public String getMessage() {
            String m = message;
            if (m == null) {
                Status status = cancelled == null ? null : Contexts.statusFromCancelled(cancelled);
                if (status == null) {
                    status = Status.CANCELLED;
                }
                String why = switch (status.getCode()) {
                    // gRPC gives the context the same cause for both: the transport's RST_STREAM or lost
                    // connection status does not reach it (only a ServerStreamTracer on the builder sees it).
                    case CANCELLED -> "the client cancelled the call, or the connection to it was lost";
                    case DEADLINE_EXCEEDED -> "the call's deadline passed";
                    case UNAVAILABLE -> "the connection to the client was lost";
                    default -> "the call ended abnormally";
                };
                m = "gRPC call '" + method + "': " + why + " (" + StatusMapping.describe(status) + ")";
                message = m;
            }
            return m;
        }

        @Override
        public String toString() {
            return getMessage();                  // reads as a sentence inside Weft's messages
        }
    }
}

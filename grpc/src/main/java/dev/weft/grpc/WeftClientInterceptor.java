package dev.weft.grpc;

import dev.weft.Cancellation;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * Carries the current subtask's deadline and cancellation into each call (see {@link WeftGrpc}).
 *
 * <p>Cancellation goes through gRPC's own mechanism: the call is created in a
 * {@link Context.CancellableContext} of its own, which Weft cancels through
 * {@link Cancellation#onCancel}. gRPC then cancels the stream itself, safely from any thread and
 * at any point of the call (calling {@code ClientCall.cancel} from another thread could make a
 * stub's {@code sendMessage} or {@code halfClose} throw {@code IllegalStateException}). Weft runs
 * the close on a thread of its choice; nothing here depends on which.
 */
final class WeftClientInterceptor implements ClientInterceptor {

    static final WeftClientInterceptor INSTANCE = new WeftClientInterceptor();

    /** The cause given to a call's context when Weft cancels it: gRPC turns it into the call's status. */
    private static final String CANCEL_DESCRIPTION = StatusMapping.CANCELLED_BY_WEFT
            + ": the subtask that made the call, or a scope enclosing it, was cancelled";

    private WeftClientInterceptor() {
    }

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method,
                                                               CallOptions callOptions, Channel next) {
        CallOptions options = withWeftDeadline(callOptions);
        Context base = CallContexts.forOutgoingCall();
        Context.CancellableContext own = base.withCancellation();
        Cancellation.Registration registration = register(own);
        if (registration == null) {              // not in a subtask: nothing of Weft's to carry
            own.cancel(null);                      // releases it; it has no listeners yet
            return base == Context.current() ? next.newCall(method, options) : newCallIn(base, method, options, next);
        }
        ClientCall<ReqT, RespT> call;
        try {
            call = newCallIn(own, method, options, next);
        } catch (RuntimeException | Error e) {
            registration.close();
            own.cancel(null);
            throw e;
        }
        return new WeftClientCall<>(call, own, registration);
    }

    private static <ReqT, RespT> ClientCall<ReqT, RespT> newCallIn(Context context, MethodDescriptor<ReqT, RespT> method,
                                                                   CallOptions options, Channel next) {
        Context previous = context.attach();       // the call captures Context.current() when it is created
        try {
            return next.newCall(method, options);
        } finally {
            context.detach(previous);
        }
    }

    /** The options with the earlier of their own deadline and the current subtask's effective one. */
    static CallOptions withWeftDeadline(CallOptions options) {
        Instant weft = Cancellation.deadline().orElse(null);
        if (weft == null) {
            return options;
        }
        long nanos;
        try {
            nanos = Duration.between(Instant.now(), weft).toNanos();
        } catch (ArithmeticException farAway) {
            return options;                        // beyond ~292 years: no deadline worth carrying
        }
        Deadline deadline = Deadline.after(nanos, TimeUnit.NANOSECONDS);
        Deadline own = options.getDeadline();
        return own == null || deadline.isBefore(own) ? options.withDeadline(deadline) : options;
    }

    /**
     * Registers the cancellation of {@code context} with the current subtask, or returns null when
     * the current thread is not a subtask. If the subtask is already cancelled, the context is
     * cancelled before this returns, and the call fails at {@code start} with {@code CANCELLED}.
     */
    private static Cancellation.Registration register(Context.CancellableContext context) {
        try {
            return Cancellation.onCancel(() -> context.cancel(
                    Status.CANCELLED.withDescription(CANCEL_DESCRIPTION).asRuntimeException()));
        } catch (IllegalStateException notInSubtask) {
            return null;
        }
    }

    /** Unregisters the cancellation, and releases the context, when the call closes. */
    private static final class WeftClientCall<ReqT, RespT> extends SimpleForwardingClientCall<ReqT, RespT> {

        private final Context.CancellableContext context;
        private final Cancellation.Registration registration;

        WeftClientCall(ClientCall<ReqT, RespT> delegate, Context.CancellableContext context,
                       Cancellation.Registration registration) {
            super(delegate);
            this.context = context;
            this.registration = registration;
        }

        @Override
        public void start(Listener<RespT> responseListener, Metadata headers) {
            super.start(new SimpleForwardingClientCallListener<>(responseListener) {
                @Override
                public void onClose(Status status, Metadata trailers) {
                    release();
                    super.onClose(status, trailers);
                }
            }, headers);
        }

        private void release() {
            // Not when cancellation closed it: this may be that very close, on this thread (a channel
            // with a direct executor delivers onClose inside the context's cancel), and
            // Registration.close() would wait for it to finish.
            if (!registration.isClosedByCancellation()) {
                registration.close();
            }
            context.cancel(null);                  // the call is over; a CancellableContext must end
        }
    }
}

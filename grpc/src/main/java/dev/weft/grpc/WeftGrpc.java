package dev.weft.grpc;

import dev.weft.CancelledException;
import dev.weft.DeadlineExceededException;
import io.grpc.ClientInterceptor;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Weft's deadlines and cancellation carried across processes on gRPC-Java, in both directions.
 * There is no protocol of Weft's own: gRPC already carries a deadline with each call and tells the
 * server when the client cancels or goes away; this class connects those to Weft's scopes.
 *
 * <h2>Client side</h2>
 *
 * Add {@link #clientInterceptor()} to a channel (or a stub) once; the stub API stays as it is:
 * {@snippet :
 * Channel channel = ClientInterceptors.intercept(managedChannel, WeftGrpc.clientInterceptor());
 * var stub = GreeterGrpc.newBlockingStub(channel);          // or stub.withInterceptors(...)
 *
 * try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(),
 *                                 cfg -> cfg.withTimeout(Duration.ofSeconds(2)))) {
 *     var a = scope.fork(() -> WeftGrpc.call(() -> stub.sayHello(request("a"))));
 *     var b = scope.fork(() -> WeftGrpc.call(() -> stub.sayHello(request("b"))));
 *     scope.join();
 * }
 * }
 * A call made inside a subtask then:
 * <ul>
 *   <li>carries the earlier of its own deadline and the subtask's effective deadline
 *       ({@link dev.weft.Cancellation#deadline()}), so the server sees the time that is left;</li>
 *   <li>is cancelled, through gRPC's own context cancellation, when the subtask, its scope or any
 *       enclosing scope is cancelled, also in a scope that does not interrupt, and also for
 *       asynchronous and future stubs whose call outlives the thread's wait. The status is
 *       {@code CANCELLED} with a description that starts with {@code "cancelled by Weft"}.</li>
 * </ul>
 * {@link #call(Supplier)} turns the statuses that mean "stop" into Weft's exceptions, so that a
 * subtask ended by a cancellation is recorded as cancelled rather than failed:
 * {@code CANCELLED} becomes {@link CancelledException} and {@code DEADLINE_EXCEEDED}
 * {@link DeadlineExceededException}, each with the {@link StatusRuntimeException} as its cause.
 * Calls made outside any subtask pass through the interceptor unchanged.
 *
 * <h2>Server side</h2>
 *
 * Add {@link #serverInterceptor(Duration)} to a service:
 * {@snippet :
 * Server server = NettyServerBuilder.forPort(0)
 *         .executor(Executors.newVirtualThreadPerTaskExecutor())   // recommended, not required
 *         .addService(ServerInterceptors.intercept(new GreeterImpl(), WeftGrpc.serverInterceptor(Duration.ofSeconds(1))))
 *         .build().start();
 * }
 * Each call's handler then runs as a subtask of a scope of its own, on a virtual thread, so it can
 * use {@link dev.weft.Cancellation#isRequested()}, {@link dev.weft.Cancellation#onCancel onCancel},
 * {@link dev.weft.Cancellation#deadline()} and critical sections, and open its own scopes to fork
 * work. That scope:
 * <ul>
 *   <li>has the call's incoming deadline as its deadline;</li>
 *   <li>is cancelled, with a reason that names the cause, when the client cancels the call, when
 *       the deadline passes, or when the connection to the client is lost (the client's process
 *       died, the network failed). The reason reaches every scope the handler opened, so
 *       {@code join()} and {@link dev.weft.Cancellation#check()} there throw a
 *       {@link CancelledException} that says why;</li>
 *   <li>waits at most the grace period for a handler that does not stop. A handler still running
 *       then is reported like any straggler: a {@link dev.weft.GracePeriodExceededException},
 *       logged through {@code System.Logger} {@code "dev.weft"}, naming it and where it is
 *       stuck.</li>
 * </ul>
 * The call's {@code io.grpc.Context} is attached in the handler's thread, and calls made through
 * a channel with {@link #clientInterceptor()} from the subtasks the handler forks, at any depth,
 * run in that context too (gRPC keeps its context in a thread-local, which new threads do not
 * see by themselves).
 *
 * <p>For a unary or server-streaming method the handler is what gRPC runs when the request has
 * arrived (where generated stubs call the service method). For a client-streaming or
 * bidirectional method, the service method and each request message's callback run in a scope
 * of their own with the same deadline and cancellation.
 */
public final class WeftGrpc {

    private WeftGrpc() {
    }

    /**
     * Returns the client interceptor that carries the current subtask's deadline and cancellation
     * into each call. Use it with {@code ClientInterceptors.intercept(channel, ...)} or
     * {@code stub.withInterceptors(...)}. It is stateless and may be shared.
     *
     * @return the interceptor
     */
    public static ClientInterceptor clientInterceptor() {
        return WeftClientInterceptor.INSTANCE;
    }

    /**
     * Returns a server interceptor that runs each call's handler in a scope, with an unbounded
     * grace period, as a {@link dev.weft.TaskScope} has by default: after a cancellation, the
     * thread gRPC runs the call on waits until the handler stops. Prefer
     * {@link #serverInterceptor(Duration)} in a server.
     *
     * @return a new interceptor
     */
    public static ServerInterceptor serverInterceptor() {
        return new WeftServerInterceptor(null);
    }

    /**
     * Returns a server interceptor that runs each call's handler in a scope (see the class
     * comment) whose grace period is {@code grace}: after the call was cancelled, a handler still
     * running {@code grace} later is reported as a straggler.
     *
     * @param grace how long to wait for a cancelled handler to stop
     * @return a new interceptor
     * @throws NullPointerException if {@code grace} is null
     * @throws IllegalArgumentException if {@code grace} is negative
     */
    public static ServerInterceptor serverInterceptor(Duration grace) {
        Objects.requireNonNull(grace, "grace");
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace must not be negative: " + grace);
        }
        return new WeftServerInterceptor(grace);
    }

    /**
     * Runs a stub call and turns the statuses that mean "stop" into Weft's exceptions, as
     * {@link #translate(StatusRuntimeException)} does:
     * {@snippet :
     * HelloReply reply = WeftGrpc.call(() -> stub.sayHello(request));
     * }
     *
     * @param rpc the call, typically a blocking stub method
     * @param <V> the call's result type
     * @return what {@code rpc} returned
     * @throws CancelledException if the call ended with {@code CANCELLED}; its cause is the
     *         {@link StatusRuntimeException}
     * @throws DeadlineExceededException if the call ended with {@code DEADLINE_EXCEEDED}; its
     *         cause is the {@link StatusRuntimeException}
     * @throws StatusRuntimeException if the call ended with any other status
     * @throws NullPointerException if {@code rpc} is null
     */
    public static <V> V call(Supplier<? extends V> rpc) {
        Objects.requireNonNull(rpc, "rpc");
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            throw translate(e);
        }
    }

    /**
     * Translates a failed call's exception into Weft's: {@code CANCELLED} becomes a
     * {@link CancelledException} and {@code DEADLINE_EXCEEDED} a {@link DeadlineExceededException},
     * each with {@code e} as its cause; any other status is returned as {@code e} itself. Useful
     * with future and asynchronous stubs, where the exception arrives as the cause of an
     * {@code ExecutionException} or in {@code onError}.
     *
     * <p>When the current task was cancelled, the {@link CancelledException}'s message also says
     * why, in Weft's words (the call's status cannot: see {@link #clientInterceptor()}).
     *
     * <p>The {@link DeadlineExceededException#deadline() deadline} of the result is the current
     * subtask's effective deadline if it has passed (Weft's deadline ended the call), otherwise
     * the moment of the translation (the call's own deadline, or the server's, ended it).
     *
     * @param e the exception a stub threw
     * @return the exception to throw
     * @throws NullPointerException if {@code e} is null
     */
    public static RuntimeException translate(StatusRuntimeException e) {
        Objects.requireNonNull(e, "e");
        return StatusMapping.translate(e);
    }
}

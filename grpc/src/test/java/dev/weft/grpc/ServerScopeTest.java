package dev.weft.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.Cancellation;
import dev.weft.CancelledException;
import dev.weft.GracePeriodExceededException;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The server side on the in-process transport: each handler in a scope, cancelled with a reason. */
@Timeout(30)
@SuppressWarnings("try")       // registrations and sections are used for their extent
class ServerScopeTest {

    private static final Duration GRACE = Duration.ofSeconds(5);

    /** A handler that forks {@code n} subtasks that wait to be cancelled, and records how its scope ended. */
    static final class FanOutHandler implements Rpc.Handler {
        final int n;
        final CountDownLatch started;
        final AtomicInteger ended = new AtomicInteger();
        final CompletableFuture<Throwable> joinOutcome = new CompletableFuture<>();

        FanOutHandler(int n) {
            this.n = n;
            this.started = new CountDownLatch(n);
        }

        @Override
        public String handle(String request) throws Exception {
            try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow())) {
                for (int i = 0; i < n; i++) {
                    scope.fork(() -> {
                        try {
                            started.countDown();
                            Thread.sleep(Duration.ofMinutes(5));
                        } finally {
                            ended.incrementAndGet();
                        }
                        return null;
                    });
                }
                scope.join();
                joinOutcome.complete(null);
                return "all done";
            } catch (Exception e) {
                joinOutcome.complete(e);
                throw e;
            }
        }
    }

    /** Starts an async call from the test thread; the test cancels it like a client giving up. */
    private static ClientCall<String, String> startCall(Rpc.InProcess rpc, CallOptions options,
                                                        CompletableFuture<String> reply) {
        ClientCall<String, String> call = rpc.channel().newCall(Rpc.WORK, options);
        ClientCalls.asyncUnaryCall(call, "x", new io.grpc.stub.StreamObserver<>() {
            @Override
            public void onNext(String value) {
                reply.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                reply.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        return call;
    }

    @Test
    void handler_runsAsASubtaskOnAVirtualThread_withTheIncomingDeadline() throws Exception {
        var facts = new AtomicReference<String>();
        var deadlineAtServer = new AtomicReference<Instant>();
        try (var rpc = Rpc.InProcess.start(Rpc.weftService(req -> {
            deadlineAtServer.set(Cancellation.deadline().orElse(null));
            try (var reg = Cancellation.onCancel(() -> { })) {          // throws outside a subtask
                facts.set("virtual=" + Thread.currentThread().isVirtual()
                        + " cancelled=" + Cancellation.isRequested()
                        + " grpcContextAttached=" + (Context.current() != Context.ROOT));
            }
            return "ok";
        }, GRACE))) {
            Instant before = Instant.now();
            String reply = Rpc.call(rpc.channel(), CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "x");
            assertThat(reply).isEqualTo("ok");
            assertThat(facts.get()).isEqualTo("virtual=true cancelled=false grpcContextAttached=true");
            assertThat(deadlineAtServer.get()).isBetween(before, before.plusSeconds(10).plusMillis(200));
        }
    }

    @Test
    void handlerWithoutIncomingDeadline_hasNoDeadline() throws Exception {
        var deadline = new AtomicReference<String>();
        try (var rpc = Rpc.InProcess.start(Rpc.weftService(req -> {
            deadline.set(Cancellation.deadline().map(Instant::toString).orElse("none"));
            return "ok";
        }, GRACE))) {
            Rpc.call(rpc.channel(), CallOptions.DEFAULT, "x");
            assertThat(deadline.get()).isEqualTo("none");
        }
    }

    @Test
    void clientCancel_cancelsTheHandlersScope_interruptsItsSubtasks_withAReasonNamingTheClient() throws Exception {
        var handler = new FanOutHandler(3);
        try (var rpc = Rpc.InProcess.start(Rpc.weftService(handler, GRACE))) {
            var reply = new CompletableFuture<String>();
            var call = startCall(rpc, CallOptions.DEFAULT, reply);
            assertThat(handler.started.await(20, TimeUnit.SECONDS)).isTrue();
            call.cancel("the user gave up", null);
            Throwable outcome = handler.joinOutcome.get(20, TimeUnit.SECONDS);
            assertThat(outcome).isInstanceOf(CancelledException.class)
                    .hasMessageContaining("the client cancelled the call")
                    .hasMessageContaining("weft.test.Work/Do");
            assertThat(handler.ended).hasValue(3);
            assertThatThrownBy(reply::join).hasCauseInstanceOf(StatusRuntimeException.class);
        }
    }

    @Test
    void deadlinePassing_cancelsTheHandlersScope_withAReasonNamingTheDeadline() throws Exception {
        var handler = new FanOutHandler(2);
        try (var rpc = Rpc.InProcess.start(Rpc.weftService(handler, GRACE))) {
            var reply = new CompletableFuture<String>();
            startCall(rpc, CallOptions.DEFAULT.withDeadlineAfter(1, TimeUnit.SECONDS), reply);
            Throwable outcome = handler.joinOutcome.get(20, TimeUnit.SECONDS);
            assertThat(outcome).isInstanceOf(CancelledException.class).hasMessageContaining("deadline");
            assertThat(handler.ended).hasValue(2);
            assertThatThrownBy(reply::join).cause().isInstanceOf(StatusRuntimeException.class)
                    .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
                            .isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        }
    }

    @Test
    void handlerCooperating_seesIsRequestedAndItsOnCancelResourceClosed() throws Exception {
        var sawRequest = new CountDownLatch(1);
        var resourceClosed = new CountDownLatch(1);
        var started = new CountDownLatch(1);
        try (var rpc = Rpc.InProcess.start(Rpc.weftService(req -> {
            try (var reg = Cancellation.onCancel(resourceClosed::countDown)) {
                started.countDown();
                while (!Cancellation.isRequested()) {     // polls the state; no blocking call to interrupt
                    Thread.onSpinWait();
                }
            }
            sawRequest.countDown();
            return "stopped";
        }, GRACE))) {
            var reply = new CompletableFuture<String>();
            var call = startCall(rpc, CallOptions.DEFAULT, reply);
            assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
            call.cancel("stop", null);
            assertThat(sawRequest.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(resourceClosed.await(20, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void stragglerAfterTheCallEnded_isReportedThroughTheDevWeftLogger() throws Exception {
        var records = new CopyOnWriteArrayList<LogRecord>();
        var logged = new CountDownLatch(1);
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    records.add(r);
                    logged.countDown();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger jul = Logger.getLogger("dev.weft");
        jul.addHandler(capture);
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        try (var rpc = Rpc.InProcess.start(Rpc.weftService(req -> {
            started.countDown();
            ClientPropagationTest.awaitUninterruptibly(release);    // ignores the cancellation
            return "too late";
        }, Duration.ofMillis(100)))) {
            var call = startCall(rpc, CallOptions.DEFAULT, new CompletableFuture<>());
            assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
            call.cancel("give up", null);
            assertThat(logged.await(20, TimeUnit.SECONDS)).isTrue();
            LogRecord r = records.get(0);
            assertThat(r.getThrown()).isInstanceOf(GracePeriodExceededException.class);
            assertThat(r.getMessage()).contains("weft.test.Work/Do").contains("did not stop").contains("handler");
        } finally {
            release.countDown();
            jul.removeHandler(capture);
        }
    }

    @Test
    void handlerFailure_reachesTheClientAsWithoutTheInterceptor() throws Exception {
        try (var rpc = Rpc.InProcess.start(Rpc.weftService(req -> {
            throw new IllegalArgumentException("bad request");
        }, GRACE))) {
            assertThatThrownBy(() -> Rpc.call(rpc.channel(), CallOptions.DEFAULT, "x"))
                    .isInstanceOf(StatusRuntimeException.class)
                    .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
                            .isEqualTo(Status.Code.UNKNOWN));
        }
    }

    private static final Context.Key<String> TENANT = Context.key("tenant");

    @Test
    void callsFromTheHandlersSubtasks_runInTheServerCallsContext() throws Exception {
        // the next hop: answers with the tenant its client-side interceptors saw in the context
        var seenByProbe = new CopyOnWriteArrayList<String>();
        ClientInterceptor probe = new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> m, CallOptions o, io.grpc.Channel next) {
                seenByProbe.add(String.valueOf(TENANT.get()));
                return next.newCall(m, o);
            }
        };
        try (var nextHop = Rpc.InProcess.start(Rpc.service(Rpc.WORK, req -> "b"))) {
            var toNextHop = ClientInterceptors.intercept(nextHop.channel(), probe, WeftGrpc.clientInterceptor());
            ServerInterceptor tenant = new ServerInterceptor() {
                @Override
                public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, Metadata h,
                                                                          io.grpc.ServerCallHandler<Q, R> next) {
                    return Contexts.interceptCall(Context.current().withValue(TENANT, "t-7"), call, h, next);
                }
            };
            Rpc.Handler a = req -> {
                try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow())) {
                    scope.fork(() -> Rpc.call(toNextHop, CallOptions.DEFAULT, "direct"));
                    scope.fork(() -> {
                        try (var inner = TaskScope.open(Joiner.<String>allSuccessfulOrThrow())) {
                            inner.fork(() -> Rpc.call(toNextHop, CallOptions.DEFAULT, "nested"));
                            return String.join("", inner.join());
                        }
                    });
                    return String.join("", scope.join());
                }
            };
            var service = ServerInterceptors.intercept(
                    ServerInterceptors.intercept(Rpc.service(Rpc.WORK, a), WeftGrpc.serverInterceptor(GRACE)), tenant);
            try (var rpc = Rpc.InProcess.start(service)) {
                assertThat(Rpc.call(rpc.channel(), CallOptions.DEFAULT, "x")).isEqualTo("bb");
            }
            assertThat(seenByProbe).containsExactly("t-7", "t-7");
        }
    }
}

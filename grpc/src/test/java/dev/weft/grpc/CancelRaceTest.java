package dev.weft.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.CancelledException;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A client's cancel racing the server's completion, on the in-process transport, many times with
 * random timing on both sides. Whichever wins, each side sees one clean outcome, every subtask the
 * handler forked ends, and nothing is reported as a straggler or an unexpected failure.
 */
@Timeout(120)
class CancelRaceTest {

    private static final int ITERATIONS = Integer.getInteger("weft.grpc.raceIterations", 500);
    private static final int MAX_SPINS = 20_000;

    private static void spin(int n) {
        for (int i = 0; i < n; i++) {
            Thread.onSpinWait();
        }
    }

    @Test
    void clientCancelRacingServerCompletion_alwaysEndsCleanlyOnBothSides() throws Exception {
        var handlerOutcomes = new ConcurrentLinkedQueue<String>();
        var unexpected = new ConcurrentLinkedQueue<Throwable>();
        var started = new AtomicInteger();
        var ended = new AtomicInteger();
        var warnings = new ConcurrentLinkedQueue<LogRecord>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(r);
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
        Rpc.Handler handler = request -> {
            int serverSpins = Integer.parseInt(request);
            try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow())) {
                for (int i = 0; i < 2; i++) {
                    scope.fork(() -> {
                        started.incrementAndGet();       // a subtask cancelled before it ran never runs
                        try {
                            spin(serverSpins);
                            Thread.sleep(0);               // a blocking point for the interrupt
                        } finally {
                            ended.incrementAndGet();
                        }
                        return null;
                    });
                }
                scope.join();
                handlerOutcomes.add("completed");
                return "done";
            } catch (CancelledException e) {
                handlerOutcomes.add("cancelled");
                throw e;
            } catch (Exception e) {
                unexpected.add(e);
                throw e;
            }
        };
        int replies = 0;
        int cancelledAtClient = 0;
        var random = new SplittableRandom(Long.getLong("weft.grpc.raceSeed", System.nanoTime()));
        // The test is one party; each call's callback is one while it runs, so that the checks
        // below wait for every callback (and so every handler's scope) to have returned.
        var callbacks = new java.util.concurrent.Phaser(1);
        io.grpc.ServerInterceptor tracking = new io.grpc.ServerInterceptor() {
            @Override
            public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, io.grpc.Metadata h,
                                                                      io.grpc.ServerCallHandler<Q, R> next) {
                return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, h)) {
                    @Override
                    public void onHalfClose() {
                        callbacks.register();
                        try {
                            super.onHalfClose();
                        } finally {
                            callbacks.arriveAndDeregister();
                        }
                    }
                };
            }
        };
        try (var rpc = Rpc.InProcess.start(io.grpc.ServerInterceptors.intercept(
                Rpc.weftService(handler, Duration.ofSeconds(10)), tracking))) {
            for (int i = 0; i < ITERATIONS; i++) {
                int serverSpins = random.nextInt(MAX_SPINS);
                int clientSpins = random.nextInt(MAX_SPINS);
                var outcome = new CompletableFuture<String>();
                ClientCall<String, String> call = rpc.channel().newCall(Rpc.WORK, CallOptions.DEFAULT);
                ClientCalls.asyncUnaryCall(call, Integer.toString(serverSpins), new StreamObserver<>() {
                    @Override
                    public void onNext(String value) {
                        outcome.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        outcome.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
                spin(clientSpins);
                call.cancel("race " + i, null);
                try {
                    assertThat(outcome.get(20, TimeUnit.SECONDS)).isEqualTo("done");
                    replies++;
                } catch (java.util.concurrent.ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(StatusRuntimeException.class);
                    assertThat(((StatusRuntimeException) e.getCause()).getStatus().getCode())
                            .isEqualTo(Status.Code.CANCELLED);
                    cancelledAtClient++;
                }
            }
            rpc.server().shutdown();
            assertThat(rpc.server().awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            callbacks.awaitAdvanceInterruptibly(callbacks.arrive(), 30, TimeUnit.SECONDS);
        } finally {
            jul.removeHandler(capture);
        }
        List<String> outcomes = List.copyOf(handlerOutcomes);
        long completed = outcomes.stream().filter("completed"::equals).count();
        assertThat(unexpected).isEmpty();
        assertThat(warnings).isEmpty();
        assertThat(ended.get()).isEqualTo(started.get());
        assertThat(replies + cancelledAtClient).isEqualTo(ITERATIONS);
        assertThat(completed).isGreaterThanOrEqualTo(replies);       // a reply needs a completed handler
        assertThat(replies).as("some calls won the race").isPositive();
        assertThat(cancelledAtClient).as("some cancels won the race").isPositive();
        System.out.printf("cancel race: %d iterations, %d replies, %d cancelled at the client, "
                + "handlers: %d completed, %d cancelled, %d never started%n", ITERATIONS, replies, cancelledAtClient,
                completed, outcomes.size() - completed, ITERATIONS - outcomes.size());
    }

    @Test
    void handlerCompletingJustAsTheCallIsCancelled_neverLeaksItsScope() throws Exception {
        // The handler has returned when the cancel lands: the scope is already closed, and a
        // cancellation listener that fires late must find nothing to do.
        var done = new CountDownLatch(200);
        var callbacksReturned = new CountDownLatch(200);      // after Weft's scope closed
        io.grpc.ServerInterceptor counting = new io.grpc.ServerInterceptor() {
            @Override
            public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, io.grpc.Metadata h,
                                                                      io.grpc.ServerCallHandler<Q, R> next) {
                return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, h)) {
                    @Override
                    public void onHalfClose() {
                        try {
                            super.onHalfClose();
                        } finally {
                            callbacksReturned.countDown();
                        }
                    }
                };
            }
        };
        try (var rpc = Rpc.InProcess.start(io.grpc.ServerInterceptors.intercept(Rpc.weftService(req -> {
            done.countDown();
            return "x";
        }, Duration.ofSeconds(10)), counting))) {
            for (int i = 0; i < 200; i++) {
                var call = rpc.channel().newCall(Rpc.WORK, CallOptions.DEFAULT);
                var reply = new CompletableFuture<String>();
                ClientCalls.asyncUnaryCall(call, "x", new StreamObserver<>() {
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
                reply.handle((v, t) -> v).get(20, TimeUnit.SECONDS);
                call.cancel("after the reply", null);
            }
            assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(callbacksReturned.await(20, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(dev.weft.Scopes.dump()).doesNotContain("grpc weft.test.Work/Do");
    }
}

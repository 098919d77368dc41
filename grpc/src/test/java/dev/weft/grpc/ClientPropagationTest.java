package dev.weft.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.CancelledException;
import dev.weft.DeadlineExceededException;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The client side on the in-process transport: deadlines carried, cancellation carried, statuses mapped. */
@Timeout(30)
@SuppressWarnings("try")       // registrations and sections are used for their extent
class ClientPropagationTest {

    /** The server's view of the incoming deadline, in ms, or -1 for none. */
    private static long incomingDeadlineMillis() {
        Deadline d = Context.current().getDeadline();
        return d == null ? -1 : d.timeRemaining(TimeUnit.MILLISECONDS);
    }

    @Test
    void callInSubtask_carriesTheSubtasksDeadline() throws Exception {
        try (var rpc = Rpc.InProcess.start(Rpc.service(Rpc.WORK, req -> Long.toString(incomingDeadlineMillis())))) {
            String seen;
            try (var scope = TaskScope.<String, Void, java.util.concurrent.ExecutionException>open(Joiner.awaitAllSuccessfulOrThrow(),
                    cfg -> cfg.withTimeout(Duration.ofSeconds(20)))) {
                var call = scope.fork(() -> Rpc.call(rpc.weftChannel(), CallOptions.DEFAULT, "x"));
                scope.join();
                seen = call.get();
            }
            assertThat(Long.parseLong(seen)).isBetween(1L, 20_000L);
        }
    }

    @Test
    void callInSubtask_keepsItsOwnDeadlineWhenEarlier() throws Exception {
        try (var rpc = Rpc.InProcess.start(Rpc.service(Rpc.WORK, req -> Long.toString(incomingDeadlineMillis())))) {
            String seen;
            try (var scope = TaskScope.<String, Void, java.util.concurrent.ExecutionException>open(Joiner.awaitAllSuccessfulOrThrow(),
                    cfg -> cfg.withTimeout(Duration.ofSeconds(20)))) {
                var call = scope.fork(() -> Rpc.call(rpc.weftChannel(),
                        CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), "x"));
                scope.join();
                seen = call.get();
            }
            assertThat(Long.parseLong(seen)).isBetween(1L, 5_000L);
        }
    }

    @Test
    void callInNestedScope_carriesTheEnclosingScopesEarlierDeadline() throws Exception {
        try (var rpc = Rpc.InProcess.start(Rpc.service(Rpc.WORK, req -> Long.toString(incomingDeadlineMillis())))) {
            String seen;
            try (var outer = TaskScope.<String, Void, java.util.concurrent.ExecutionException>open(Joiner.awaitAllSuccessfulOrThrow(),
                    cfg -> cfg.withTimeout(Duration.ofSeconds(3)))) {
                var call = outer.fork(() -> {
                    try (var inner = TaskScope.<String, Void, java.util.concurrent.ExecutionException>open(Joiner.awaitAllSuccessfulOrThrow(),
                            cfg -> cfg.withTimeout(Duration.ofSeconds(60)))) {
                        var c = inner.fork(() -> Rpc.call(rpc.weftChannel(), CallOptions.DEFAULT, "x"));
                        inner.join();
                        return c.get();
                    }
                });
                outer.join();
                seen = call.get();
            }
            assertThat(Long.parseLong(seen)).isBetween(1L, 3_000L);
        }
    }

    @Test
    void callOutsideAnySubtask_passesThroughUnchanged() throws Exception {
        try (var rpc = Rpc.InProcess.start(Rpc.service(Rpc.WORK, req -> Long.toString(incomingDeadlineMillis())))) {
            assertThat(Rpc.call(rpc.weftChannel(), CallOptions.DEFAULT, "x")).isEqualTo("-1");
            assertThatThrownBy(() -> WeftGrpc.call(() -> Rpc.call(rpc.weftChannel(),
                    CallOptions.DEFAULT.withDeadlineAfter(1, TimeUnit.NANOSECONDS), "x")))
                    .isInstanceOf(DeadlineExceededException.class)
                    .hasCauseInstanceOf(StatusRuntimeException.class);
        }
    }

    @Test
    void subtaskCancelled_cancelsAnAsyncCallThatOutlivesTheWait_withWeftsReason() throws Exception {
        var serverStarted = new CountDownLatch(1);
        var serverSawCancel = new CompletableFuture<Status>();
        var release = new CountDownLatch(1);        // the server answers only when the test is over
        try (var rpc = Rpc.InProcess.start(Rpc.service(Rpc.WORK, req -> {
            Context.current().addListener(c -> serverSawCancel.complete(Contexts.statusOf(c)), Runnable::run);
            serverStarted.countDown();
            release.await(20, TimeUnit.SECONDS);
            return "late";
        }))) {
            var outcome = new AtomicReference<Throwable>();
            try (var scope = TaskScope.open(Joiner.awaitAll())) {
                Subtask<Object> caller = scope.fork(() -> {
                    var reply = new CompletableFuture<String>();
                    var call = rpc.weftChannel().newCall(Rpc.WORK, CallOptions.DEFAULT);
                    ClientCalls.asyncUnaryCall(call, "x", observer(reply));
                    // Ignores interrupts: only Weft's onCancel path can end this call.
                    while (true) {
                        try {
                            return reply.get();
                        } catch (InterruptedException ignored) {
                            // keep waiting for the call's outcome
                        } catch (ExecutionException e) {
                            outcome.set(WeftGrpc.translate((StatusRuntimeException) e.getCause()));
                            throw (RuntimeException) outcome.get();
                        }
                    }
                });
                assertThat(serverStarted.await(20, TimeUnit.SECONDS)).isTrue();
                caller.cancel();
                scope.join();
                assertThat(caller.state()).isEqualTo(Subtask.State.CANCELLED);
            }
            assertThat(serverSawCancel.get(20, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
            assertThat(outcome.get()).isInstanceOf(CancelledException.class)
                    .hasCauseInstanceOf(StatusRuntimeException.class)
                    .hasMessageContaining("cancelled by Weft");
            var cause = (StatusRuntimeException) outcome.get().getCause();
            assertThat(cause.getStatus().getCode()).isEqualTo(Status.Code.CANCELLED);
        } finally {
            release.countDown();
        }
    }

    @Test
    void scopeCancelled_cancelsABlockingStubCall_asCancelledException() throws Exception {
        var serverStarted = new CountDownLatch(1);
        var serverSawCancel = new CountDownLatch(1);
        var release = new CountDownLatch(1);        // the server answers only when the test is over
        try (var rpc = Rpc.InProcess.start(Rpc.service(Rpc.WORK, req -> {
            Context.current().addListener(c -> serverSawCancel.countDown(), Runnable::run);
            serverStarted.countDown();
            release.await(20, TimeUnit.SECONDS);
            return "late";
        }))) {
            Subtask<String> caller;
            try (var scope = TaskScope.<String, Void, RuntimeException>open(Joiner.awaitAll())) {
                caller = scope.fork(() -> WeftGrpc.call(() -> Rpc.call(rpc.weftChannel(), CallOptions.DEFAULT, "x")));
                assertThat(serverStarted.await(20, TimeUnit.SECONDS)).isTrue();
                scope.cancel(new IllegalStateException("the user gave up"));
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            }
            assertThat(serverSawCancel.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(caller.state()).isEqualTo(Subtask.State.CANCELLED);
            assertThat(caller.exception()).isInstanceOf(CancelledException.class)
                    .hasCauseInstanceOf(StatusRuntimeException.class)
                    .hasMessageContaining("because").hasMessageContaining("the user gave up");
        } finally {
            release.countDown();
        }
    }

    @Test
    void callStartedAfterTheSubtaskWasCancelled_failsAtOnceWithoutReachingTheServer() throws Exception {
        var served = new CountDownLatch(1);
        try (var rpc = Rpc.InProcess.start(Rpc.service(Rpc.WORK, req -> {
            served.countDown();
            return "served";
        }))) {
            var outcome = new AtomicReference<Throwable>();
            try (var scope = TaskScope.open(Joiner.awaitAll())) {
                var inside = new CountDownLatch(1);
                var cancelled = new CountDownLatch(1);
                scope.fork(() -> {
                    try (var cs = dev.weft.Cancellation.critical()) {   // hold the interrupt back
                        inside.countDown();
                        awaitUninterruptibly(cancelled);
                    }
                    Thread.interrupted();                              // the call must fail by Weft's context alone
                    try {
                        WeftGrpc.call(() -> Rpc.call(rpc.weftChannel(), CallOptions.DEFAULT, "x"));
                    } catch (RuntimeException e) {
                        outcome.set(e);
                    }
                });
                inside.await();
                scope.cancel();
                cancelled.countDown();
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            }
            assertThat(outcome.get()).isInstanceOf(CancelledException.class).hasMessageContaining("cancelled by Weft");
            assertThat(served.getCount()).isEqualTo(1);
        }
    }

    @Test
    void ownDeadlineExceeded_mapsToDeadlineExceededException_andTheSubtaskFails() throws Exception {
        var release = new CountDownLatch(1);
        try (var rpc = Rpc.InProcess.start(Rpc.service(Rpc.WORK, req -> {
            release.await(20, TimeUnit.SECONDS);
            return "late";
        }))) {
            try (var scope = TaskScope.<String, Void, java.util.concurrent.ExecutionException>open(Joiner.awaitAllSuccessfulOrThrow())) {
                scope.fork(() -> WeftGrpc.call(() -> Rpc.call(rpc.weftChannel(),
                        CallOptions.DEFAULT.withDeadlineAfter(50, TimeUnit.MILLISECONDS), "x")));
                assertThatThrownBy(scope::join).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(DeadlineExceededException.class)
                        .cause().isInstanceOf(StatusRuntimeException.class)
                        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
                                .isEqualTo(Status.Code.DEADLINE_EXCEEDED));
            } finally {
                release.countDown();
            }
        }
    }

    @Test
    void translate_mapsOnlyTheStopStatuses() {
        var cancelled = Status.CANCELLED.withDescription("x").asRuntimeException();
        var deadline = Status.DEADLINE_EXCEEDED.withDescription("y").asRuntimeException();
        var unavailable = Status.UNAVAILABLE.asRuntimeException();
        assertThat(WeftGrpc.translate(cancelled)).isExactlyInstanceOf(CancelledException.class).hasCause(cancelled);
        assertThat(WeftGrpc.translate(deadline)).isInstanceOf(DeadlineExceededException.class).hasCause(deadline);
        assertThat(WeftGrpc.translate(unavailable)).isSameAs(unavailable);
        assertThatThrownBy(() -> WeftGrpc.call(() -> { throw unavailable; })).isSameAs(unavailable);
        assertThatThrownBy(() -> WeftGrpc.call(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> WeftGrpc.translate(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> WeftGrpc.serverInterceptor(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
    }

    @Test
    void translate_insideACancelledSubtask_stillGivesDeadlineExceeded() throws Exception {
        // The exception is built by a scope that the task opens; the task's own cancellation must not
        // turn it into a plain CancelledException.
        var deadline = Status.DEADLINE_EXCEEDED.asRuntimeException();
        var translated = new AtomicReference<RuntimeException>();
        var started = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            scope.fork(() -> {
                started.countDown();
                while (!dev.weft.Cancellation.isRequested()) {
                    Thread.onSpinWait();
                }
                translated.set(WeftGrpc.translate(deadline));
                return null;
            });
            started.await();
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(translated.get()).isInstanceOf(DeadlineExceededException.class).hasCause(deadline);
        assertThat(((DeadlineExceededException) translated.get()).deadline()).isNotNull();
    }

    private static <T> StreamObserver<T> observer(CompletableFuture<T> reply) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                reply.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                reply.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                reply.completeExceptionally(new IllegalStateException("no reply"));
            }
        };
    }

    static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Status of a cancelled context. */
    static final class Contexts {
        static Status statusOf(Context c) {
            return io.grpc.Contexts.statusFromCancelled(c);
        }
    }
}

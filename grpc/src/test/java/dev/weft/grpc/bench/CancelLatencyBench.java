package dev.weft.grpc.bench;

import static dev.weft.grpc.Utf8Marshaller.STRING;

import dev.weft.TaskScope;
import dev.weft.grpc.WeftGrpc;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Cancel latency across gRPC: the time from the client's {@code ClientCall.cancel} to the end of
 * the last subtask the server's handler had forked, over Netty on 127.0.0.1, in one JVM (so one
 * clock). Three handlers, side by side in the same server and the same run:
 * <ul>
 *   <li><b>weft</b>: {@link WeftGrpc#serverInterceptor(Duration)}; the handler opens a
 *       {@link TaskScope}, forks the subtasks and joins. Nothing else is written for
 *       cancellation.</li>
 *   <li><b>plain</b>: hand-written gRPC: the handler starts virtual threads, adds an
 *       {@code io.grpc.Context} cancellation listener that interrupts them (direct executor), and
 *       joins them.</li>
 *   <li><b>weft scope, no interceptor</b>: the handler runs on gRPC's thread as plain's does, opens
 *       a {@link TaskScope} there, and a hand-written context listener cancels the scope: the
 *       difference from weft is the interceptor's cost, the difference from plain the scope's.
 *       The target compares weft with plain.</li>
 * </ul>
 * Each subtask blocks in {@code Thread.sleep} until interrupted. The client cancels only once every
 * subtask has started. Blocks of 100 cancels alternate between the three, after a warm-up of each.
 *
 * <p>Besides the latency, it splits each cancel in two: from the client's cancel until the first
 * subtask is out of its {@code sleep} (the transport, gRPC's cancellation listener, and the
 * server's cancelling up to the first interrupt), and from there until the last subtask ended (the
 * other interrupts, and the carriers' resumption of the subtasks).
 *
 * <p>{@code grpc/bench.sh [cancels=1000] [subtasks=4] [warmup=300]}
 */
public final class CancelLatencyBench {

    private CancelLatencyBench() {
    }

    static MethodDescriptor<String, String> method(String service) {
        return MethodDescriptor.<String, String>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(service + "/Do").setRequestMarshaller(STRING).setResponseMarshaller(STRING).build();
    }

    static final MethodDescriptor<String, String> WEFT = method("bench.Weft");
    static final MethodDescriptor<String, String> PLAIN = method("bench.Plain");
    static final MethodDescriptor<String, String> SCOPE = method("bench.Scope");

    /** One cancel's bookkeeping, shared by the client and the server (same JVM). */
    static final class Round {
        final CountDownLatch started;
        final AtomicInteger running;
        final CountDownLatch allEnded = new CountDownLatch(1);
        volatile long lastEndedNanos;
        final AtomicLong firstInterruptedNanos = new AtomicLong();

        Round(int subtasks) {
            started = new CountDownLatch(subtasks);
            running = new AtomicInteger(subtasks);
        }

        /** A subtask: waits to be interrupted; the last one to end records the time. */
        void subtask() throws InterruptedException {
            started.countDown();
            try {
                Thread.sleep(Duration.ofHours(1));
            } catch (InterruptedException e) {
                firstInterruptedNanos.compareAndSet(0L, System.nanoTime());
                throw e;
            } finally {
                if (running.decrementAndGet() == 0) {
                    lastEndedNanos = System.nanoTime();
                    allEnded.countDown();
                }
            }
        }
    }

    static volatile Round round;
    static int subtasks;

    static void weftHandler(String request, StreamObserver<String> reply) {
        Round r = round;
        try (var scope = TaskScope.open()) {
            for (int i = 0; i < subtasks; i++) {
                scope.fork(() -> {
                    r.subtask();
                    return null;
                });
            }
            scope.join();
        } catch (Exception e) {
            reply.onError(Status.CANCELLED.withCause(e).asRuntimeException());
            return;
        }
        reply.onNext("done");
        reply.onCompleted();
    }

    /**
     * A Weft scope without the interceptor: the handler runs on gRPC's thread, as in
     * {@link #plainHandler}, opens a scope there, forks the subtasks, and a hand-written context
     * listener cancels the scope. It splits weft's cost between the interceptor (the call's scope
     * and the handler's subtask) and the handler's own scope.
     */
    static void scopeHandler(String request, StreamObserver<String> reply) {
        Round r = round;
        Context context = Context.current();
        try (var scope = TaskScope.open()) {
            Context.CancellationListener cancel = c -> scope.cancel();
            context.addListener(cancel, Runnable::run);
            try {
                for (int i = 0; i < subtasks; i++) {
                    scope.fork(() -> {
                        r.subtask();
                        return null;
                    });
                }
                scope.join();
            } finally {
                context.removeListener(cancel);
            }
        } catch (Exception e) {
            reply.onError(Status.CANCELLED.withCause(e).asRuntimeException());
            return;
        }
        reply.onNext("done");
        reply.onCompleted();
    }

    static void plainHandler(String request, StreamObserver<String> reply) {
        Round r = round;
        List<Thread> threads = new ArrayList<>(subtasks);
        for (int i = 0; i < subtasks; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    r.subtask();
                } catch (InterruptedException e) {
                    // cancelled: end
                }
            }));
        }
        Context context = Context.current();
        Context.CancellationListener interruptAll = c -> threads.forEach(Thread::interrupt);
        context.addListener(interruptAll, Runnable::run);
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        context.removeListener(interruptAll);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (context.isCancelled()) {
            reply.onError(Status.CANCELLED.asRuntimeException());
        } else {
            reply.onNext("done");
            reply.onCompleted();
        }
    }

    /**
     * One cancel: returns the latency in nanoseconds, and stores in {@code split[i]} the part until
     * the first subtask was out of its sleep.
     */
    static long cancelOnce(ManagedChannel channel, MethodDescriptor<String, String> method, long[] split, int i)
            throws InterruptedException {
        Round r = new Round(subtasks);
        round = r;
        ClientCall<String, String> call = channel.newCall(method, CallOptions.DEFAULT);
        var closed = new CountDownLatch(1);
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
                closed.countDown();
            }
        }, new Metadata());
        call.request(1);
        call.sendMessage("go");
        call.halfClose();
        if (!r.started.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the handler's subtasks did not start");
        }
        long t0 = System.nanoTime();
        call.cancel("benchmark cancel", null);
        if (!r.allEnded.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(method.getFullMethodName() + ": the subtasks did not end after the cancel");
        }
        long latency = r.lastEndedNanos - t0;
        if (split != null) {
            split[i] = r.firstInterruptedNanos.get() - t0;
        }
        closed.await(30, TimeUnit.SECONDS);
        return latency;
    }

    static String row(String name, long[] ns) {
        long[] s = ns.clone();
        Arrays.sort(s);
        double mean = Arrays.stream(s).average().orElse(0);
        return String.format(Locale.ROOT, "| %s | %,d | %,.1f | %,.1f | %,.1f | %,.1f |", name, s.length,
                pct(s, 0.50) / 1e3, pct(s, 0.90) / 1e3, pct(s, 0.99) / 1e3, mean / 1e3);
    }

    static long pct(long[] sorted, double p) {
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    public static void main(String[] args) throws Exception {
        int cancels = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        subtasks = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 300;
        ServerServiceDefinition weft = ServerInterceptors.intercept(ServerServiceDefinition.builder("bench.Weft")
                .addMethod(WEFT, ServerCalls.asyncUnaryCall(CancelLatencyBench::weftHandler)).build(),
                WeftGrpc.serverInterceptor(Duration.ofSeconds(5)));
        ServerServiceDefinition scopeOnly = ServerServiceDefinition.builder("bench.Scope")
                .addMethod(SCOPE, ServerCalls.asyncUnaryCall(CancelLatencyBench::scopeHandler)).build();
        ServerServiceDefinition plain = ServerServiceDefinition.builder("bench.Plain")
                .addMethod(PLAIN, ServerCalls.asyncUnaryCall(CancelLatencyBench::plainHandler)).build();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .addService(weft).addService(scopeOnly).addService(plain).build().start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        // The handlers, in the order of the tables; the last is plain, the one the others are compared with.
        List<MethodDescriptor<String, String>> methods = List.of(WEFT, SCOPE, PLAIN);
        List<String> labels = List.of("weft", "weft scope, no interceptor", "plain");
        int h = methods.size();
        try {
            for (int i = 0; i < warmup; i++) {
                for (var m : methods) {
                    cancelOnce(channel, m, null, 0);
                }
            }
            long[][] total = new long[h][cancels];
            long[][] first = new long[h][cancels];
            int block = 100;
            for (int done = 0; done < cancels; done += block) {
                int n = Math.min(block, cancels - done);
                for (int k = 0; k < h; k++) {
                    for (int i = 0; i < n; i++) {
                        total[k][done + i] = cancelOnce(channel, methods.get(k), first[k], done + i);
                    }
                }
            }
            System.out.printf(Locale.ROOT, "Cancel latency over gRPC (Netty, 127.0.0.1): client cancel -> last of %d server subtasks ended; "
                    + "%,d cancels each after %,d warm-up; JDK %s, %d CPUs%n%n", subtasks, cancels, warmup,
                    Runtime.version(), Runtime.getRuntime().availableProcessors());
            System.out.println("| server | cancels | median µs | p90 µs | p99 µs | mean µs |");
            System.out.println("| --- | ---: | ---: | ---: | ---: | ---: |");
            for (int k = 0; k < h; k++) {
                System.out.println(row(labels.get(k), total[k]));
            }
            System.out.println();
            System.out.println("The same cancels, split at the first subtask out of its sleep:");
            System.out.println();
            System.out.println("| part | cancels | median µs | p90 µs | p99 µs | mean µs |");
            System.out.println("| --- | ---: | ---: | ---: | ---: | ---: |");
            for (int k = 0; k < h; k++) {
                System.out.println(row(labels.get(k) + ": cancel -> first interrupted", first[k]));
            }
            for (int k = 0; k < h; k++) {
                long[] rest = new long[cancels];
                for (int i = 0; i < cancels; i++) {
                    rest[i] = total[k][i] - first[k][i];
                }
                System.out.println(row(labels.get(k) + ": first interrupted -> last ended", rest));
            }
            long[] baseline = total[h - 1].clone();
            Arrays.sort(baseline);
            System.out.println();
            for (int k = 0; k < h - 1; k++) {
                long[] sorted = total[k].clone();
                Arrays.sort(sorted);
                System.out.printf(Locale.ROOT, "%s / plain: median %.2fx, p99 %.2fx%n", labels.get(k),
                        (double) pct(sorted, 0.5) / pct(baseline, 0.5), (double) pct(sorted, 0.99) / pct(baseline, 0.99));
            }
        } finally {
            channel.shutdownNow();
            server.shutdownNow();
        }
    }
}

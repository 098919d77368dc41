package dev.weft.grpc.chain;

import static dev.weft.grpc.Utf8Marshaller.STRING;

import dev.weft.Cancellation;
import dev.weft.CancelledException;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.grpc.WeftGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;

/**
 * One service of a chain, in its own JVM: {@code ChainNode <name> <next port, or - for the last>
 * <fan-out>}. It serves {@code weft.chain.Work/Do} on 127.0.0.1, on a port the system picks, and
 * prints {@code PORT <n>}. Each call's handler forks {@code fan-out} subtasks; each calls the next
 * service, or, in the last one, waits for five minutes. Every step is printed, one line each,
 * with the run id (the request) so that a test can follow one run. The process exits when its
 * stdin closes, so it never outlives the test that started it.
 */
public final class ChainNode {

    private ChainNode() {
    }

    /** The one method of the chain: the request is the run id, the reply a summary. */
    static final MethodDescriptor<String, String> WORK = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("weft.chain.Work/Do")
            .setRequestMarshaller(STRING)
            .setResponseMarshaller(STRING)
            .build();

    /** Prints one line, at once, with the milliseconds since the epoch so lines from processes line up. */
    static void out(String format, Object... args) {
        String line = String.format(Locale.ROOT, format, args).replace('\n', ' ');
        synchronized (System.out) {
            System.out.println(System.currentTimeMillis() + " " + line);
            System.out.flush();
        }
    }

    /** A channel to a service of the chain on 127.0.0.1, with Weft's client interceptor. */
    static Channel channelTo(int port, ManagedChannel[] holder) {
        ManagedChannel raw = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        raw.getState(true);                            // connect now, not at the first call
        holder[0] = raw;
        return ClientInterceptors.intercept(raw, WeftGrpc.clientInterceptor());
    }

    public static void main(String[] args) throws Exception {
        String name = args[0];
        int nextPort = args[1].equals("-") ? -1 : Integer.parseInt(args[1]);
        int fanOut = Integer.parseInt(args[2]);
        ManagedChannel[] raw = new ManagedChannel[1];
        Channel next = nextPort < 0 ? null : channelTo(nextPort, raw);

        ServerServiceDefinition service = ServerServiceDefinition.builder("weft.chain.Work")
                .addMethod(WORK, ServerCalls.asyncUnaryCall((String run, io.grpc.stub.StreamObserver<String> reply) -> {
                    reply.onNext(handle(name, next, fanOut, run));
                    reply.onCompleted();
                }))
                .build();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .addService(ServerInterceptors.intercept(service, WeftGrpc.serverInterceptor(Duration.ofSeconds(5))))
                .build()
                .start();
        out("PORT %d", server.getPort());
        try {
            System.in.transferTo(OutputStreamNull.INSTANCE);       // until the parent closes stdin or dies
        } finally {
            server.shutdownNow();
            if (raw[0] != null) {
                raw[0].shutdownNow();
            }
        }
    }

    /** The handler: runs as a subtask of the call's scope. */
    static String handle(String name, Channel next, int fanOut, String run) {
        out("ARRIVED %s %s remaining_ms=%d virtual=%s", name, run,
                Cancellation.remaining().map(Duration::toMillis).orElse(-1L), Thread.currentThread().isVirtual());
        try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), cfg -> cfg.withName(name + "-fanout"))) {
            for (int i = 0; i < fanOut; i++) {
                int part = i;
                scope.fork(() -> {
                    long start = System.nanoTime();
                    out("SUBTASK-START %s %s %d", name, run, part);
                    String how = "returned";
                    try {
                        if (next != null) {
                            return WeftGrpc.call(() -> ClientCalls.blockingUnaryCall(next, WORK, CallOptions.DEFAULT, run));
                        }
                        Thread.sleep(Duration.ofMinutes(5));
                        return "leaf";
                    } catch (InterruptedException | RuntimeException e) {
                        how = e.getClass().getSimpleName();
                        throw e;
                    } finally {
                        out("SUBTASK-END %s %s %d after_ms=%d by=%s", name, run, part,
                                (System.nanoTime() - start) / 1_000_000, how);
                    }
                });
            }
            scope.join();
            return name + " done";
        } catch (CancelledException e) {
            out("SCOPE-CANCELLED %s %s reason=%s", name, run, e.getMessage());
            throw e;
        } catch (Exception e) {
            out("SCOPE-FAILED %s %s %s", name, run, e);
            throw new IllegalStateException(e);
        }
    }

    /** Discards bytes. */
    static final class OutputStreamNull extends java.io.OutputStream {
        static final OutputStreamNull INSTANCE = new OutputStreamNull();

        @Override
        public void write(int b) {
        }

        @Override
        public void write(byte[] b, int off, int len) {
        }
    }
}

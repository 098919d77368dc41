package dev.weft.grpc;

import static dev.weft.grpc.Utf8Marshaller.STRING;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny RPC without protobuf: unary methods whose request and response are strings, served and
 * called through grpc-stub's {@link ServerCalls} and {@link ClientCalls}, as generated stubs do.
 */
final class Rpc {

    private Rpc() {
    }

    /** A unary method of service {@code weft.test.Work}. */
    static MethodDescriptor<String, String> unary(String name) {
        return MethodDescriptor.<String, String>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("weft.test.Work", name))
                .setRequestMarshaller(STRING)
                .setResponseMarshaller(STRING)
                .build();
    }

    static final MethodDescriptor<String, String> WORK = unary("Do");

    /** A blocking handler: the service method of a generated stub, written as a function. */
    @FunctionalInterface
    interface Handler {
        String handle(String request) throws Exception;
    }

    /** The service {@code weft.test.Work} with one method, answering through {@code handler}. */
    static ServerServiceDefinition service(MethodDescriptor<String, String> method, Handler handler) {
        return ServerServiceDefinition.builder("weft.test.Work")
                .addMethod(method, ServerCalls.asyncUnaryCall((String request, StreamObserver<String> response) -> {
                    String reply;
                    try {
                        reply = handler.handle(request);
                    } catch (RuntimeException e) {
                        throw e;
                    } catch (Exception e) {
                        response.onError(io.grpc.Status.fromThrowable(e).asRuntimeException());
                        return;
                    }
                    response.onNext(reply);
                    response.onCompleted();
                }))
                .build();
    }

    /** The service with Weft's server interceptor. */
    static ServerServiceDefinition weftService(Handler handler, java.time.Duration grace) {
        return ServerInterceptors.intercept(service(WORK, handler), WeftGrpc.serverInterceptor(grace));
    }

    /** A blocking unary call, as a blocking stub makes it. */
    static String call(Channel channel, CallOptions options, String request) {
        return ClientCalls.blockingUnaryCall(channel, WORK, options, request);
    }

    private static final AtomicInteger NAMES = new AtomicInteger();

    /** An in-process server and a channel to it, closed together. */
    record InProcess(Server server, ManagedChannel channel) implements AutoCloseable {

        static InProcess start(ServerServiceDefinition service) throws IOException {
            String name = "weft-grpc-test-" + NAMES.incrementAndGet();
            Server server = InProcessServerBuilder.forName(name)
                    .executor(Executors.newVirtualThreadPerTaskExecutor())
                    .addService(service).build().start();
            ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
            return new InProcess(server, channel);
        }

        /** The channel with Weft's client interceptor. */
        Channel weftChannel() {
            return io.grpc.ClientInterceptors.intercept(channel, WeftGrpc.clientInterceptor());
        }

        @Override
        public void close() {
            channel.shutdownNow();
            server.shutdownNow();
            try {
                channel.awaitTermination(10, TimeUnit.SECONDS);
                server.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

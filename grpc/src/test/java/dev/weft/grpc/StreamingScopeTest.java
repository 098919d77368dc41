package dev.weft.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.Cancellation;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A client-streaming method: the service method and each message's callback run in a scope of their own. */
@Timeout(30)
@SuppressWarnings("try")       // registrations and sections are used for their extent
class StreamingScopeTest {

    private static final MethodDescriptor<String, String> COLLECT = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.CLIENT_STREAMING)
            .setFullMethodName("weft.test.Work/Collect")
            .setRequestMarshaller(Utf8Marshaller.STRING).setResponseMarshaller(Utf8Marshaller.STRING).build();

    /** What a callback saw: a virtual thread, inside a subtask (onCancel works), and the deadline. */
    private static String facts() {
        try (var reg = Cancellation.onCancel(() -> { })) {
            return "virtual=" + Thread.currentThread().isVirtual() + " deadline=" + Cancellation.deadline().isPresent();
        }
    }

    @Test
    void clientStreamingCallbacks_eachRunAsASubtaskWithTheIncomingDeadline() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        ServerServiceDefinition service = ServerServiceDefinition.builder("weft.test.Work")
                .addMethod(COLLECT, ServerCalls.asyncClientStreamingCall(reply -> {
                    seen.add("start " + facts());
                    return new StreamObserver<String>() {
                        @Override
                        public void onNext(String value) {
                            seen.add("message " + value + " " + facts());
                        }

                        @Override
                        public void onError(Throwable t) {
                            seen.add("error " + t);
                        }

                        @Override
                        public void onCompleted() {
                            seen.add("completed " + facts());
                            reply.onNext("got " + (seen.size() - 2));
                            reply.onCompleted();
                        }
                    };
                }))
                .build();
        try (var rpc = Rpc.InProcess.start(ServerInterceptors.intercept(service, WeftGrpc.serverInterceptor(Duration.ofSeconds(5))))) {
            var reply = new CompletableFuture<String>();
            var requests = ClientCalls.asyncClientStreamingCall(
                    rpc.channel().newCall(COLLECT, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS)),
                    new StreamObserver<String>() {
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
            requests.onNext("a");
            requests.onNext("b");
            requests.onCompleted();
            assertThat(reply.get(20, TimeUnit.SECONDS)).isEqualTo("got 2");
        }
        assertThat(seen).containsExactly(
                "start virtual=true deadline=true",
                "message a virtual=true deadline=true",
                "message b virtual=true deadline=true",
                "completed virtual=true deadline=true");
    }
}

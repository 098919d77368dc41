package dev.weft.grpc.chain;

import static dev.weft.grpc.chain.ChainNode.out;

import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.grpc.WeftGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The edge of the chain, in its own JVM: {@code ChainClient <port of A> <run id> <timeout ms>}. It
 * calls A from a subtask of a scope with that timeout, prints {@code CALLING}, and cancels the
 * scope when a line {@code cancel} arrives on stdin. It prints how the scope ended, then exits.
 */
public final class ChainClient {

    private ChainClient() {
    }

    public static void main(String[] args) throws Exception {
        int portA = Integer.parseInt(args[0]);
        String run = args[1];
        long timeoutMillis = Long.parseLong(args[2]);
        ManagedChannel[] raw = new ManagedChannel[1];
        Channel a = ChainNode.channelTo(portA, raw);
        try (var scope = TaskScope.<String, Void, java.util.concurrent.ExecutionException>open(Joiner.awaitAllSuccessfulOrThrow(),
                cfg -> cfg.withName("edge").withTimeout(Duration.ofMillis(timeoutMillis)))) {
            Thread.ofPlatform().daemon().start(() -> {
                try (var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (line.equals("cancel")) {
                            out("CLIENT-CANCELLING %s", run);
                            scope.cancel(new IllegalStateException("the user gave up"));
                        }
                    }
                } catch (java.io.IOException e) {
                    out("CLIENT-STDIN-FAILED %s", e);
                }
            });
            scope.fork(() -> WeftGrpc.call(() -> ClientCalls.blockingUnaryCall(a, ChainNode.WORK, CallOptions.DEFAULT, run)));
            out("CALLING %s", run);
            scope.join();
            out("CLIENT-OUTCOME %s ok", run);
        } catch (Exception e) {
            out("CLIENT-OUTCOME %s %s: %s", run, e.getClass().getSimpleName(), e.getMessage());
        } finally {
            raw[0].shutdownNow();
        }
    }
}

package dev.weft.grpc.sample;

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
import io.grpc.stub.StreamObserver;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The fan-out story of the samples' {@code Sample01_FanOut}, across processes, cancelled at the
 * edge.
 *
 * <p>Three JVMs on 127.0.0.1. The <b>edge</b> (this JVM) asks the <b>page</b> service for a page,
 * with a ten-second budget. The page service fans out three calls at once, {@code user},
 * {@code orders} and {@code ads}, to the <b>backends</b> service, which takes 1, 1.5 and 2 s to
 * answer them. Once the three calls are in flight, the user navigates away and the edge cancels
 * its scope. Nothing else is
 * written for that: the cancellation crosses both hops through gRPC, and the sample prints, from
 * each process, what stopped, and how long after the cancel.
 *
 * <p>Run: {@code grpc/run.sh dev.weft.grpc.sample.GrpcFanOutSample} (the test {@code GrpcFanOutSampleTest} runs it too).
 */
public final class GrpcFanOutSample {

    private GrpcFanOutSample() {
    }

    static MethodDescriptor<String, String> method(String service, String name) {
        return MethodDescriptor.<String, String>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(service + "/" + name)
                .setRequestMarshaller(STRING).setResponseMarshaller(STRING).build();
    }

    static final MethodDescriptor<String, String> LOAD_PAGE = method("shop.Page", "Load");
    static final List<String> PARTS = List.of("user", "orders", "ads");
    static final List<Long> LATENCY_MS = List.of(1_000L, 1_500L, 2_000L);

    /** A line to stdout with the wall-clock time, so that the edge can line the processes up. */
    static void event(String who, String format, Object... args) {
        synchronized (System.out) {
            System.out.println("EVENT " + System.currentTimeMillis() + " " + who + " "
                    + String.format(Locale.ROOT, format, args).replace('\n', ' '));
            System.out.flush();
        }
    }

    static Channel weftChannel(int port, List<ManagedChannel> toClose) {
        // tag::channel[]
        ManagedChannel raw = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        Channel channel = ClientInterceptors.intercept(raw, WeftGrpc.clientInterceptor());
        // end::channel[]
        raw.getState(true);                            // connect now, not at the first call
        toClose.add(raw);
        return channel;
    }

    static Server serve(ServerServiceDefinition service) throws IOException {
        // tag::server[]
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .executor(Executors.newVirtualThreadPerTaskExecutor())     // recommended, not required
                .addService(ServerInterceptors.intercept(service, WeftGrpc.serverInterceptor(Duration.ofSeconds(2))))
                .build();
        // end::server[]
        return server.start();
    }

    /** The backends service: each part takes its latency, unless the call is cancelled. */
    static void backends() throws Exception {
        var builder = ServerServiceDefinition.builder("shop.Backends");
        for (int i = 0; i < PARTS.size(); i++) {
            String part = PARTS.get(i);
            long latency = LATENCY_MS.get(i);
            builder.addMethod(method("shop.Backends", part), ServerCalls.asyncUnaryCall((String id, StreamObserver<String> reply) -> {
                long start = System.nanoTime();
                event("backends", "%s call started", part);
                try {
                    Thread.sleep(latency);
                } catch (InterruptedException e) {
                    event("backends", "%s call stopped after %d ms (it would have taken %d ms)",
                            part, (System.nanoTime() - start) / 1_000_000, latency);
                    throw new CancelledException("interrupted");
                }
                reply.onNext(part + "#" + id);
                reply.onCompleted();
            }));
        }
        runUntilStdinCloses(serve(builder.build()), List.of());
    }

    /** The page service: the fan-out of Sample01, with each part a call to the backends service. */
    static void page(int backendsPort) throws Exception {
        List<ManagedChannel> channels = new ArrayList<>();
        Channel backends = weftChannel(backendsPort, channels);
        var service = ServerServiceDefinition.builder("shop.Page")
                .addMethod(LOAD_PAGE, ServerCalls.asyncUnaryCall((String id, StreamObserver<String> reply) -> {
                    event("page", "loading page %s with %d ms left", id,
                            Cancellation.remaining().map(Duration::toMillis).orElse(-1L));
                    // tag::handler[]
                    try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                            cfg -> cfg.withName("page"))) {
                        for (String part : PARTS) {    // each call carries the deadline, and stops with the scope
                            scope.fork(part, () -> WeftGrpc.call(() -> ClientCalls.blockingUnaryCall(
                                    backends, method("shop.Backends", part), CallOptions.DEFAULT, id)));
                        }
                        reply.onNext(String.join(", ", scope.join()));
                        reply.onCompleted();
                    } catch (CancelledException e) {   // the client cancelled, went away, or ran out of time
                        event("page", "page scope stopped: %s", e.getMessage());
                        throw e;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    // end::handler[]
                }))
                .build();
        runUntilStdinCloses(serve(service), channels);
    }

    static void runUntilStdinCloses(Server server, List<ManagedChannel> channels) throws IOException {
        System.out.println("PORT " + server.getPort());
        System.out.flush();
        try {
            System.in.transferTo(OutputStreamNull.INSTANCE);
        } finally {
            server.shutdownNow();
            channels.forEach(ManagedChannel::shutdownNow);
        }
    }

    /** A child JVM running one role of this sample, its stdout collected. */
    static final class Child implements AutoCloseable {
        final Process process;
        final ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
        final CountDownLatch portKnown = new CountDownLatch(1);
        volatile int port;

        Child(String... args) throws IOException {
            String java = ProcessHandle.current().info().command().orElseThrow();
            List<String> command = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1",
                    "-cp", System.getProperty("java.class.path"), GrpcFanOutSample.class.getName()));
            command.addAll(List.of(args));
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
            Thread.ofVirtual().start(() -> {
                try (var in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (line.startsWith("PORT ")) {
                            port = Integer.parseInt(line.substring(5).trim());
                            portKnown.countDown();
                        } else if (line.startsWith("EVENT ")) {
                            events.add(line.substring(6));
                        } else if (!line.isBlank() && !line.startsWith("WARNING: ")) {   // not the JDK's native-access notice
                            System.err.println("[" + args[0] + "] " + line);
                        }
                        signalLine();
                    }
                } catch (IOException ignored) {
                    // the process is gone
                }
            });
        }

        int awaitPort() throws InterruptedException {
            if (!portKnown.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the child JVM did not print its port: " + process.info());
            }
            return port;
        }

        @Override
        public void close() {
            try {
                process.getOutputStream().close();
            } catch (IOException ignored) {
                // gone already
            }
            try {
                if (!process.waitFor(2, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The edge: runs the story and returns what it printed. */
    static List<String> run() throws Exception {
        List<String> printed = new ArrayList<>();
        try (var backends = new Child("backends"); var page = new Child("page-after-port")) {
            int backendsPort = backends.awaitPort();
            page.process.getOutputStream().write((backendsPort + "\n").getBytes(StandardCharsets.UTF_8));
            page.process.getOutputStream().flush();
            int pagePort = page.awaitPort();
            List<ManagedChannel> channels = new ArrayList<>();
            Channel toPage = weftChannel(pagePort, channels);
            long cancelAt;
            String outcome;
            try (var scope = TaskScope.<String, Void, java.util.concurrent.ExecutionException>open(Joiner.awaitAllSuccessfulOrThrow(),
                    cfg -> cfg.withName("edge").withTimeout(Duration.ofSeconds(10)))) {
                scope.fork(() -> WeftGrpc.call(() -> ClientCalls.blockingUnaryCall(toPage, LOAD_PAGE, CallOptions.DEFAULT, "42")));
                // The user navigates away once the three backend calls are in flight.
                awaitUntil(() -> backends.events.stream().filter(e -> e.contains("call started")).count() == 3,
                        Duration.ofSeconds(20));
                cancelAt = System.currentTimeMillis();
                scope.cancel(new IllegalStateException("the user navigated away"));
                try {
                    scope.join();
                    outcome = "the page loaded (unexpected)";
                } catch (CancelledException e) {
                    outcome = "join() threw " + e.getClass().getSimpleName() + ": " + e.getMessage();
                }
            } finally {
                channels.forEach(ManagedChannel::shutdownNow);
            }
            try {
                awaitUntil(() -> backends.events.size() >= 6 && page.events.size() >= 2, Duration.ofSeconds(20));
            } catch (IllegalStateException e) {
                throw new IllegalStateException(e.getMessage() + "; page printed " + page.events
                        + ", backends printed " + backends.events, e);
            }
            List<String[]> lines = new ArrayList<>();
            for (String e : page.events) {
                lines.add(e.split(" ", 3));
            }
            for (String e : backends.events) {
                lines.add(e.split(" ", 3));
            }
            lines.sort(Comparator.comparingLong(l -> Long.parseLong(l[0])));
            printed.add("edge: cancelled the page request (the user navigated away); " + outcome);
            for (String[] l : lines) {
                long after = Long.parseLong(l[0]) - cancelAt;
                printed.add(String.format(Locale.ROOT, "%-8s %+6d ms  %s", l[1] + ":", after, l[2]));
            }
        }
        return printed;
    }

    /** Signalled whenever a child prints a line. */
    private static final ReentrantLock OUTPUT = new ReentrantLock();
    private static final Condition NEW_LINE = OUTPUT.newCondition();

    static void signalLine() {
        OUTPUT.lock();
        try {
            NEW_LINE.signalAll();
        } finally {
            OUTPUT.unlock();
        }
    }

    /** Waits until {@code condition}, re-checked whenever a child prints a line. */
    static void awaitUntil(java.util.function.BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long left = timeout.toNanos();
        OUTPUT.lock();
        try {
            while (!condition.getAsBoolean()) {
                if (left <= 0) {
                    throw new IllegalStateException("the child JVMs did not print what was expected within " + timeout);
                }
                left = NEW_LINE.awaitNanos(left);
            }
        } finally {
            OUTPUT.unlock();
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.out.println("Sample01's fan-out across three JVMs: edge -> page -> backends (user 1 s, orders 1.5 s, ads 2 s).");
            System.out.println("Times are relative to the edge's cancel (wall clock, same machine).");
            run().forEach(System.out::println);
            return;
        }
        switch (args[0]) {
            case "backends" -> backends();
            case "page-after-port" -> {
                var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                page(Integer.parseInt(in.readLine().trim()));
            }
            default -> throw new IllegalArgumentException("unknown role " + args[0] + "; run without arguments");
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

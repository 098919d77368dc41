package dev.weft.samples;

import static dev.weft.samples.Show.brief;
import static dev.weft.samples.Show.say;

import dev.weft.CancelledException;
import dev.weft.Cancellation;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Sample 9: cooperative cancellation, a scope that never interrupts.
 *
 * <p>Four writers share one {@link FileChannel}, as the segments of a log or the pages of an
 * embedded database do. Each writes a record, waits for the stop, then writes its last record (a
 * checkpoint). With interrupts (the default, and the only way of the JDK's
 * {@code StructuredTaskScope}), the first interrupt that lands in a write closes the channel for
 * everybody ({@code ClosedByInterruptException}, then {@code ClosedChannelException}): the last
 * records are lost. With {@code withInterrupts(false)} the cancellation only sets the state and
 * wakes {@code Cancellation.await}: every writer writes its last record and the file is whole.
 *
 * <p>Run alone: {@code mvn -q -pl samples -am -Ptour -DskipTests package -Dsample=Sample09_SharedChannel}
 */
public final class Sample09_SharedChannel {

    private Sample09_SharedChannel() {
    }

    private static final int WRITERS = 4;
    private static final byte[] RECORD = "record\n".getBytes(StandardCharsets.US_ASCII);

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("weft-sample09");
        try {
            say("1. With interrupts: the stop reaches the writers as Thread.interrupt().");
            run(dir.resolve("interrupted.log"), true);
            say("2. Cooperative: withInterrupts(false); the stop is a state, read by Cancellation.await().");
            run(dir.resolve("cooperative.log"), false);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void run(Path file, boolean interrupts) throws Exception {
        var written = new CountDownLatch(WRITERS);
        List<Subtask<Object>> writers = new ArrayList<>();
        List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            // tag::cooperative[]
            try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withInterrupts(interrupts))) {
                for (int i = 0; i < WRITERS; i++) {
                    writers.add(scope.fork("writer-" + i, () -> {
                        ch.write(ByteBuffer.wrap(RECORD));
                        threads.add(Thread.currentThread());
                        written.countDown();
                        Cancellation.await(Duration.ofMinutes(1));   // the stop event: true once cancelled
                        ch.write(ByteBuffer.wrap(RECORD));           // the last record, after the stop
                        return null;
                    }));
                }
                written.await();
                waitUntilAllWait(threads);           // the stop finds every writer waiting for it
                scope.cancel();                                      // stop
                try {
                    scope.join();
                } catch (CancelledException stopped) {
                    // the stop we asked for
                }
            }
            // end::cooperative[]
            long failed = writers.stream().filter(w -> w.state() != Subtask.State.SUCCESS).count();
            say("   channel open after the stop: %s; writers that lost their last record: %d%s", ch.isOpen(), failed,
                    failed == 0 ? "" : " (" + brief(firstFailure(writers)) + ")");
            say("   file: %d of %d records", Files.size(file) / RECORD.length, 2 * WRITERS);
        }
    }

    private static Throwable firstFailure(List<Subtask<Object>> writers) {
        for (Subtask<Object> w : writers) {
            if (w.state() != Subtask.State.SUCCESS) {
                return w.exception();
            }
        }
        return null;
    }

    /** Waits until every writer is parked in Cancellation.await. */
    private static void waitUntilAllWait(List<Thread> threads) {
        for (Thread t : threads) {
            while (t.getState() != Thread.State.TIMED_WAITING && t.isAlive()) {
                Thread.onSpinWait();
            }
        }
    }
}

package dev.weft.samples;

import static dev.weft.samples.Show.brief;
import static dev.weft.samples.Show.count;
import static dev.weft.samples.Show.say;
import static dev.weft.samples.Show.since;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;

import dev.weft.Cancellation;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.CRC32;

/**
 * Sample 4: a checkpoint that cancellation cannot tear.
 *
 * <p>A writer saves a 4 MiB checkpoint in 64 chunks and is cancelled after the fourth. Without a
 * critical section, the interrupt that carries the cancellation closes the {@code FileChannel}
 * ({@code ClosedByInterruptException}) and the checkpoint on disk is torn: this is what any
 * interrupt-based cancellation does, {@code ExecutorService.shutdownNow()} and the JDK's
 * {@code StructuredTaskScope} included. Inside {@code Cancellation.critical(...)}, the write runs
 * to its end, and the cancellation is delivered when the section ends. The sample prints both
 * files' sizes and CRC32 checksums. This answers the critical-section part of "Making it simpler
 * to gracefully exit threads" (Python discussion forum,
 * https://discuss.python.org/t/making-it-simpler-to-gracefully-exit-threads/34019): a thread must
 * not be stopped in the middle of an important file write.
 *
 * <p>Run alone: {@code mvn -q -pl samples -am -Ptour -DskipTests package -Dsample=Sample04_CriticalSection}
 */
public final class Sample04_CriticalSection {

    private Sample04_CriticalSection() {
    }

    private static final int CHUNKS = 64;
    private static final int CHUNK_BYTES = 64 * 1024;
    /** The cancellation comes once this many chunks are on disk. */
    private static final int CANCEL_AFTER = 4;

    /** Chunk {@code i} of the checkpoint: deterministic bytes, so that its checksum is known. */
    private static ByteBuffer chunk(int i) {
        byte[] bytes = new byte[CHUNK_BYTES];
        Arrays.fill(bytes, (byte) (i * 31 + 7));
        LockSupport.parkNanos(2_000_000);                 // serialising a chunk takes a while (2 ms)
        return ByteBuffer.wrap(bytes);
    }

    /**
     * Counts the chunks on disk. So that both runs are cut at the same point, the demo holds the
     * writer after chunk {@link #CANCEL_AFTER} until the cancel has been sent.
     */
    static final class Progress {
        final AtomicInteger written = new AtomicInteger();
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch cancelSent = new CountDownLatch(1);

        void chunkWritten() {
            if (written.incrementAndGet() != CANCEL_AFTER) {
                return;
            }
            reached.countDown();
            boolean interrupted = false;
            while (true) {
                try {
                    cancelSent.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;                   // keep waiting; the interrupt is re-asserted below
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void writeChunks(FileChannel channel, Progress progress) throws IOException {
        for (int i = 0; i < CHUNKS; i++) {
            ByteBuffer buffer = chunk(i);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            progress.chunkWritten();
        }
    }

    /** The usual code: an interrupt in the middle closes the channel. */
    static void saveCheckpointUnprotected(Path file, Progress progress) throws IOException {
        try (var channel = FileChannel.open(file, CREATE, TRUNCATE_EXISTING, WRITE)) {
            writeChunks(channel, progress);
            channel.force(true);
        }
    }

    // tag::checkpoint[]
    @SuppressWarnings("try")                              // the section is only closed, never read
    static void saveCheckpoint(Path file, Progress progress) throws IOException {
        try (var section = Cancellation.critical("checkpoint");   // no interrupt from Weft until the block ends
             var channel = FileChannel.open(file, CREATE, TRUNCATE_EXISTING, WRITE)) {
            writeChunks(channel, progress);
            channel.force(true);
        }                                                 // a cancellation that arrived meanwhile lands here,
        Cancellation.check();                             // and this throws CancelledException
    }
    // end::checkpoint[]

    /** A checkpoint writer. */
    @FunctionalInterface
    interface Writer {
        void save(Path file, Progress progress) throws IOException;
    }

    public static void main(String[] args) throws Exception {
        long expected = expectedChecksum();
        Path dir = Files.createTempDirectory("weft-checkpoint");
        try {
            say("1. Without a critical section: the writer is cancelled after %d of %d chunks.", CANCEL_AFTER, CHUNKS);
            run(dir.resolve("unprotected.ckpt"), Sample04_CriticalSection::saveCheckpointUnprotected, expected);
            say("2. Inside Cancellation.critical(\"checkpoint\"): the same cancellation, at the same point.");
            run(dir.resolve("protected.ckpt"), Sample04_CriticalSection::saveCheckpoint, expected);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    private static void run(Path file, Writer writer, long expected) throws Exception {
        var progress = new Progress();
        Subtask<Object> task;
        long cancel;
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("checkpoint"))) {
            task = scope.fork("writer", () -> {
                writer.save(file, progress);
                return null;
            });
            progress.reached.await();
            cancel = System.nanoTime();
            scope.cancel();                               // e.g. Ctrl-C, or a sibling failed
            progress.cancelSent.countDown();
        }                                                 // close() waits for the writer
        say("   the writer ended %s after the cancel: %s (%s)", since(cancel), task.state(), brief(task.exception()));
        say("   chunks written: %d of %d", progress.written.get(), CHUNKS);
        long size = Files.size(file);
        long crc = checksum(Files.readAllBytes(file));
        say("   checkpoint on disk: %s of %s bytes, CRC32 %08x (expected %08x): %s", count(size),
                count((long) CHUNKS * CHUNK_BYTES), crc, expected, crc == expected ? "COMPLETE" : "TORN");
    }

    private static long expectedChecksum() {
        CRC32 crc = new CRC32();
        byte[] bytes = new byte[CHUNK_BYTES];
        for (int i = 0; i < CHUNKS; i++) {
            Arrays.fill(bytes, (byte) (i * 31 + 7));
            crc.update(bytes);
        }
        return crc.getValue();
    }

    private static long checksum(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }
}

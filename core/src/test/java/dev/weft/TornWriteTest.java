package dev.weft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data-loss case: a subtask writes several MB through a {@link FileChannel} and its scope is
 * cancelled after the first chunk. Inside a critical section the write completes and the channel
 * stays open; without one, the cancellation's interrupt closes the channel
 * ({@link ClosedByInterruptException}) and the file is torn.
 */
class TornWriteTest {

    private static final int CHUNK = 256 * 1024;
    private static final int CHUNKS = 32;                      // 8 MiB in all
    private static final byte[] DATA = new byte[CHUNK * CHUNKS];

    static {
        new SplittableRandom(20_240_611L).nextBytes(DATA);
    }

    @TempDir
    Path dir;

    /**
     * Writes {@link #DATA} in chunks. After the first chunk it signals {@code firstChunk} and waits
     * until the test has cancelled the scope; an interrupt while waiting is kept (status set), as
     * careful code does, so the next write sees it.
     */
    private static void writeInChunks(FileChannel ch, CountDownLatch firstChunk, CountDownLatch cancelled) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(DATA);
        for (int off = 0; off < DATA.length; off += CHUNK) {
            buf.limit(off + CHUNK).position(off);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            if (off == 0) {
                firstChunk.countDown();
                try {
                    cancelled.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private static long crc(byte[] bytes) {
        var crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }

    /**
     * Forks a subtask that writes {@link #DATA} to {@code file}, inside a critical section if
     * {@code critical}; cancels the scope after the first chunk; joins. The subtask records in
     * {@code channelOpen} whether its channel was still open once the write ended, normally or not.
     */
    private static Subtask<Object> writeCancelledAfterFirstChunk(Path file, boolean critical, AtomicBoolean channelOpen)
            throws Exception {
        var firstChunk = new CountDownLatch(1);
        var cancelled = new CountDownLatch(1);
        Subtask<Object> writer;
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            writer = scope.fork("writer", () -> {
                try (var ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    try (var cs = critical ? Cancellation.critical("checkpoint") : null) {
                        writeInChunks(ch, firstChunk, cancelled);
                        ch.force(true);
                    } finally {
                        channelOpen.set(ch.isOpen());
                    }
                    return Cancellation.isRequested() ? "written, then cancelled" : "written, never cancelled";
                }
            });
            firstChunk.await();
            scope.cancel();                // mid-write: one chunk of 32 is on disk
            cancelled.countDown();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        return writer;
    }

    @Test
    @Timeout(60)
    void write_insideCriticalSectionCancelledMidWrite_fileCompleteAndChannelNeverClosedByInterrupt() throws Exception {
        Path file = dir.resolve("checkpoint.bin");
        var channelOpen = new AtomicBoolean();
        Subtask<Object> writer = writeCancelledAfterFirstChunk(file, true, channelOpen);

        assertThat(writer.state()).as("%s", writer).isEqualTo(Subtask.State.SUCCESS);
        assertThat(writer.get()).isEqualTo("written, then cancelled");
        assertThat(channelOpen).as("the channel was still open after the section").isTrue();
        assertThat(Files.size(file)).isEqualTo(DATA.length);
        assertThat(crc(Files.readAllBytes(file))).isEqualTo(crc(DATA));
    }

    /**
     * The documented contrast: the same write, cancelled at the same point, without a critical
     * section. The cancellation's interrupt closes the channel on the next write, so the file keeps
     * only the first chunk. This is what the JDK's {@code StructuredTaskScope} does to a write.
     */
    @Test
    @Timeout(60)
    void write_withoutCriticalSectionCancelledMidWrite_channelClosedByInterruptAndFileTorn() throws Exception {
        Path file = dir.resolve("torn.bin");
        var channelOpen = new AtomicBoolean(true);
        Subtask<Object> writer = writeCancelledAfterFirstChunk(file, false, channelOpen);

        assertThat(writer.state()).isEqualTo(Subtask.State.CANCELLED);
        assertThat(writer.exception()).isInstanceOf(ClosedByInterruptException.class);
        assertThat(channelOpen).as("the interrupt closed the channel").isFalse();
        assertThat(Files.size(file)).as("torn: only the first chunk was written").isEqualTo(CHUNK);
    }
}

package dev.weft;

import dev.weft.TaskScope.Joiner;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32;

/**
 * The child JVM of {@link ShutdownHookProcessTest} (a main class, not a test). It installs Weft's
 * shutdown hook, then runs writers that append fixed-size records to one file, each record written
 * in several chunks inside a critical section, plus one stuck worker that ignores interrupts. It
 * prints {@code writing} once the first record is on disk, and then runs until it is killed.
 *
 * <p>Arguments: the file, the hook's grace period in milliseconds, the number of writers.
 */
public final class ShutdownHookChild {

    /** Bytes per record: magic (4), writer (4), sequence (8), payload, CRC-32 of all before it (8). */
    static final int RECORD = 64 * 1024;
    static final int CHUNKS = 8;
    static final int MAGIC = 0x57454654;         // "WEFT"

    private ShutdownHookChild() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        Duration grace = Duration.ofMillis(Long.parseLong(args[1]));
        int writers = Integer.parseInt(args[2]);

        boolean first = Scopes.installShutdownHook(Duration.ofMinutes(10));
        boolean second = Scopes.installShutdownHook(grace);       // idempotent; the hook now uses this grace
        System.out.println("hook installed: " + first + ", again: " + second);

        var lock = new ReentrantLock();
        var announced = new AtomicBoolean();
        try (var ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
             var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("ingest"))) {
            for (int w = 0; w < writers; w++) {
                int writer = w;
                scope.fork("writer-" + w, () -> writeRecords(writer, ch, lock, announced));
            }
            scope.fork("stuck-worker", ShutdownHookChild::ignoreInterruptsForever);
            scope.join();
        }
    }

    private static Void writeRecords(int writer, FileChannel ch, ReentrantLock lock, AtomicBoolean announced)
            throws IOException, InterruptedException {
        Task self = (Task) Context.current();
        for (long seq = 0; ; seq++) {
            Cancellation.check();
            boolean cancelledDuringRecord;
            try (var cs = Cancellation.critical("record")) {
                lock.lock();
                try {
                    ByteBuffer buf = ByteBuffer.wrap(record(writer, seq));
                    int chunk = RECORD / CHUNKS;
                    for (int i = 0; i < CHUNKS; i++) {
                        buf.limit((i + 1) * chunk).position(i * chunk);
                        while (buf.hasRemaining()) {
                            ch.write(buf);
                        }
                        Thread.sleep(1);                 // widen the window: SIGTERM lands mid-record
                    }
                } finally {
                    lock.unlock();
                }
                cancelledDuringRecord = self.isCancelRequested();
            }
            if (cancelledDuringRecord) {
                System.out.println("writer-" + writer + " completed record " + seq + " after cancellation");
            }
            if (announced.compareAndSet(false, true)) {
                System.out.println("writing");
            }
        }
    }

    static byte[] record(int writer, long seq) {
        ByteBuffer b = ByteBuffer.allocate(RECORD);
        b.putInt(MAGIC).putInt(writer).putLong(seq);
        while (b.position() < RECORD - 8) {
            b.put((byte) (writer * 31 + seq + b.position()));
        }
        var crc = new CRC32();
        crc.update(b.array(), 0, RECORD - 8);
        b.putLong(crc.getValue());
        return b.array();
    }

    private static void ignoreInterruptsForever() {
        for (;;) {
            try {
                Thread.sleep(Duration.ofHours(1));
            } catch (InterruptedException ignored) {
                // the deliberately stuck worker
            }
        }
    }
}

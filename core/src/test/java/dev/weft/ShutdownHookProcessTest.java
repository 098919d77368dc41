package dev.weft;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shutdown hook in a real JVM: a child JVM ({@link ShutdownHookChild}) writes records inside
 * critical sections and has one stuck worker; SIGTERM ({@link ProcessHandle#destroy()}) must make it exit
 * within the grace period plus a margin, with every record complete and the stuck worker named on
 * stderr.
 */
class ShutdownHookProcessTest {

    private static final Duration GRACE = Duration.ofSeconds(2);
    /** JVM shutdown and scheduling margin, generous for a loaded 2-core machine. */
    private static final Duration MARGIN = Duration.ofSeconds(10);
    private static final int WRITERS = 4;

    @TempDir
    Path dir;



    @Test
    @Timeout(120)
    void shutdownHook_sigterm_exitsWithinGraceWithCompleteRecordsAndNamesStuckWorker() throws Exception {
        Path file = dir.resolve("records.bin");
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        var pb = new ProcessBuilder(java, "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", ShutdownSupport.classpathOf(TaskScope.class, ShutdownHookChild.class),
                ShutdownHookChild.class.getName(), file.toString(), Long.toString(GRACE.toMillis()), Integer.toString(WRITERS));
        Process child = pb.start();
        try {
            var out = new ShutdownSupport.ChildOutput(child.getInputStream(), "child-stdout");
            var err = new ShutdownSupport.ChildOutput(child.getErrorStream(), "child-stderr");
            assertThat(out.await("writing"::equals, Duration.ofSeconds(60)))
                    .as("the child started writing records; stderr: %s", err.all(Duration.ZERO)).isTrue();

            long t0 = System.nanoTime();
            // SIGTERM. Through the process handle: Process.destroy() sends the same signal but also
            // closes this side's pipes at once, which would lose what the hook writes to stderr.
            assertThat(child.toHandle().destroy()).isTrue();
            boolean exited = child.waitFor(GRACE.plus(MARGIN).toMillis(), TimeUnit.MILLISECONDS);
            Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);

            assertThat(exited).as("the child exits within grace + margin").isTrue();
            assertThat(elapsed).as("the hook waited out the grace period for the stuck worker, no longer")
                    .isGreaterThanOrEqualTo(GRACE).isLessThan(GRACE.plus(MARGIN));
            assertThat(child.exitValue()).as("terminated by SIGTERM").isEqualTo(143);

            List<String> stdout = out.all(Duration.ofSeconds(10));
            List<String> stderr = err.all(Duration.ofSeconds(10));
            assertThat(stdout).as("the hook is installed once; a second call only changes its grace period")
                    .contains("hook installed: true, again: false");
            assertThat(stdout).as("a cancellation arrived while records were being written, and they were completed")
                    .anyMatch(l -> l.matches("writer-\\d+ completed record \\d+ after cancellation"));
            assertThat(stderr).as("stderr").contains(
                    "weft: JVM shutdown: 1 subtask still running after the grace period of 2 s:");
            assertThat(stderr).anyMatch(l -> l.startsWith("  scope 'ingest' task #" + (WRITERS + 1) + " 'stuck-worker' stuck ")
                    && l.contains(" (not in a critical section)"));
            assertThat(stderr).noneMatch(l -> l.contains("'writer-"));

            assertRecordsComplete(Files.readAllBytes(file));
        } finally {
            child.destroyForcibly();
        }
    }

    /** Every record is whole: the file is a sequence of full records, each with a valid checksum, in sequence per writer. */
    private static void assertRecordsComplete(byte[] bytes) {
        assertThat(bytes.length).as("at least one record").isGreaterThan(0);
        assertThat(bytes.length % ShutdownHookChild.RECORD).as("no partial record at the end of %d bytes", bytes.length).isZero();
        Map<Integer, Long> nextSeq = new HashMap<>();
        ByteBuffer b = ByteBuffer.wrap(bytes);
        for (int off = 0; off < bytes.length; off += ShutdownHookChild.RECORD) {
            int magic = b.getInt(off);
            int writer = b.getInt(off + 4);
            long seq = b.getLong(off + 8);
            var crc = new CRC32();
            crc.update(bytes, off, ShutdownHookChild.RECORD - 8);
            assertThat(magic).as("magic of the record at %d", off).isEqualTo(ShutdownHookChild.MAGIC);
            assertThat(b.getLong(off + ShutdownHookChild.RECORD - 8)).as("checksum of the record at %d", off)
                    .isEqualTo(crc.getValue());
            assertThat(seq).as("sequence of writer %d at %d", writer, off).isEqualTo(nextSeq.getOrDefault(writer, 0L));
            nextSeq.put(writer, seq + 1);
        }
    }
}

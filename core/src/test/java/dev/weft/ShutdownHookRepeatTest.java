package dev.weft;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real-process shutdown test, repeated: each run is {@link ShutdownHookProcessTest}'s whole test
 * (a child JVM writing records in critical sections, SIGTERM, exit within grace + margin, every
 * record complete, the stuck worker named on stderr), in a fresh directory. Runs:
 * {@code -Dweft.sigterm.runs}, 3 short (CI; {@code ShutdownHookProcessTest} itself is one more),
 * 20 long.
 */
@Tag(Reliability.TAG)
class ShutdownHookRepeatTest {

    @TempDir
    Path root;

    @Test
    @Timeout(value = 60, unit = TimeUnit.MINUTES)
    void shutdownHook_sigtermRepeated_noTornRecordInAnyRun() throws Exception {
        long runs = Reliability.size("weft.sigterm.runs", 3, 20);
        long total = System.nanoTime();
        for (int i = 1; i <= runs; i++) {
            var run = new ShutdownHookProcessTest();
            run.dir = Files.createDirectory(root.resolve("run-" + i));
            long t0 = System.nanoTime();
            try {
                run.shutdownHook_sigterm_exitsWithinGraceWithCompleteRecordsAndNamesStuckWorker();
            } catch (Throwable t) {
                throw new AssertionError("SIGTERM run " + i + " of " + runs + " failed", t);
            }
            long bytes = Files.size(run.dir.resolve("records.bin"));
            System.out.printf("ShutdownHookRepeatTest: run %d of %d passed in %d ms, %d complete records%n", i, runs,
                    (System.nanoTime() - t0) / 1_000_000, bytes / ShutdownHookChild.RECORD);
            assertThat(bytes % ShutdownHookChild.RECORD).isZero();
        }
        System.out.printf("ShutdownHookRepeatTest: %d SIGTERM runs, no torn record, in %d s%n", runs,
                (System.nanoTime() - total) / 1_000_000_000L);
    }
}

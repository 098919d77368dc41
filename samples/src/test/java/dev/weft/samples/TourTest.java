package dev.weft.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The tour: every sample, in order, in one JVM, and the selection of a single sample. */
class TourTest {

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void tour_all_runsEverySampleInOrderInOneJvm() throws Exception {
        SampleRun run = SampleRun.of(Tour.class, "all");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).as(run.toString()).containsSubsequence(
                "1/9  Sample01_FanOut", "-- Sample01_FanOut done",
                "2/9  Sample02_Coordinator", "-- Sample02_Coordinator done",
                "3/9  Sample03_StuckWorker", "-- Sample03_StuckWorker done",
                "4/9  Sample04_CriticalSection", "-- Sample04_CriticalSection done",
                "5/9  Sample05_PoolLifecycle", "became unreachable without being closed", "-- Sample05_PoolLifecycle done",
                "6/9  Sample06_GracefulExit", "child | weft: JVM shutdown", "-- Sample06_GracefulExit done",
                "7/9  Sample07_Deadlines", "-- Sample07_Deadlines done",
                "8/9  Sample08_Diagnostics", "dev.weft.GracePeriodExceeded", "-- Sample08_Diagnostics done",
                "9/9  Sample09_SharedChannel", "-- Sample09_SharedChannel done",
                "Tour done: 9 samples in");
        assertThat(run.number("Tour done: 9 samples in (\\d+)\\.\\d s")).as("the tour's promise: under a minute")
                .isLessThan(60L);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void tour_oneSample_runsOnlyThatSample() throws Exception {
        SampleRun run = SampleRun.of(Tour.class, "Sample04_CriticalSection");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).as(run.toString())
                .contains("4/9  Sample04_CriticalSection", "Tour done: 1 sample in")
                .doesNotContain("Sample01_FanOut", "Sample07_Deadlines");
    }

    @Test
    void select_numberShortNameOrClassName_findsTheSample() {
        assertThat(Tour.select("3")).extracting(Tour.Stop::name).containsExactly("Sample03_StuckWorker");
        assertThat(Tour.select("stuckworker")).extracting(Tour.Stop::name).containsExactly("Sample03_StuckWorker");
        assertThat(Tour.select("Sample07_Deadlines")).extracting(Tour.Stop::name).containsExactly("Sample07_Deadlines");
        assertThat(Tour.select("all")).hasSize(9);
    }

    @Test
    void select_unknownName_throwsWithTheSampleNames() {
        assertThatThrownBy(() -> Tour.select("Sample99_Nothing"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no sample named 'Sample99_Nothing'")
                .hasMessageContaining("Sample01_FanOut");
    }
}

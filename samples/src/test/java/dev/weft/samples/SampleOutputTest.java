package dev.weft.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs each sample's {@code main} in a child JVM and checks the key lines of its story, so that a
 * sample that breaks, or stops showing what it claims, fails the build.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SampleOutputTest {

    private static SampleRun runClean(Class<?> main) throws Exception {
        SampleRun run = SampleRun.of(main);
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.err()).as(run.toString()).isEmpty();
        return run;
    }

    @Test
    void fanOut_run_failureAndDeadlineReachTheCaller() throws Exception {
        SampleRun run = runClean(Sample01_FanOut.class);

        assertThat(run.out()).as(run.toString()).containsSubsequence(
                "page built in", "Page[user=user#42, orders=orders#42, ads=ads#42]",
                "2. The orders call fails",
                "loadPage threw after", "IOException: orders service unavailable",
                "3. A 150 ms budget",
                "loadPageWithin threw after", "DeadlineExceededException");
        assertThat(run.out()).as("a slow call is cancelled, not abandoned").contains("call cancelled after");
    }

    @Test
    void coordinator_run_stopsWorkersUnblocksReaderAndReportsTheFailure() throws Exception {
        SampleRun run = runClean(Sample02_Coordinator.class);

        assertThat(run.out()).as(run.toString()).containsSubsequence(
                "all 9 threads ended", "after the stop request",
                "8 workers returned cleanly",
                "reader: CANCELLED, unblocked by onCancel, which closed its socket",
                "join() threw after", "IllegalStateException: worker-5: corrupt batch at step 50",
                "7 workers returned cleanly, the reader was CANCELLED",
                "all threads ended? false",
                "sat in a Future nobody read: IllegalStateException: worker-5");
    }

    @Test
    void sharedChannel_run_interruptsCloseItAndCooperativeKeepsEveryRecord() throws Exception {
        SampleRun run = runClean(Sample09_SharedChannel.class);

        assertThat(run.out()).as(run.toString()).containsSubsequence(
                "1. With interrupts",
                "channel open after the stop: false; writers that lost their last record: 4",
                "2. Cooperative",
                "channel open after the stop: true; writers that lost their last record: 0",
                "file: 8 of 8 records");
    }

    @Test
    void stuckWorker_run_closeReturnsAfterTheGracePeriodAndNamesTheStraggler() throws Exception {
        SampleRun run = runClean(Sample03_StuckWorker.class);

        assertThat(run.out()).as(run.toString()).containsSubsequence(
                "scope 'indexing' closed with 1 straggler after a grace period of 0.5 s",
                "task #2 'indexer' stuck in Thread.sleep, running ", " since cancelled (not in a critical section)",
                "at dev.weft.samples.Sample03_StuckWorker.indexIgnoringInterrupts",
                "the crawler is not in the report: it stopped at once",
                "Scopes.dump(0):", "scope 'indexing' closed", "task #2 'indexer' RUNNING",
                "ExecutorService.close() is still waiting",
                "Scopes.dump() still lists scope 'indexing': false");
        assertThat(run.number("close\\) returned after ([\\d,]+) ms"))
                .as("close() waits the whole grace period, and not much more").isBetween(500L, 5_500L);
    }

    @Test
    void criticalSection_run_tornWithoutTheSectionCompleteWithIt() throws Exception {
        SampleRun run = runClean(Sample04_CriticalSection.class);

        assertThat(run.out()).as(run.toString()).containsSubsequence(
                "1. Without a critical section",
                "CANCELLED (ClosedByInterruptException)", "chunks written: 4 of 64",
                "262,144 of 4,194,304 bytes", "TORN",
                "2. Inside Cancellation.critical",
                "CANCELLED (CancelledException", "chunks written: 64 of 64",
                "4,194,304 of 4,194,304 bytes", "COMPLETE");
    }

    @Test
    void poolLifecycle_run_drainsTerminatesRefusesForksAndReportsTheLeak() throws Exception {
        SampleRun run = SampleRun.of(Sample05_PoolLifecycle.class);
        assertThat(run.exitCode()).as(run.toString()).isZero();

        assertThat(run.out()).as(run.toString()).containsSubsequence(
                "results [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]",
                "cancelled all 10,000 and closed the pool in",
                "IllegalArgumentException: cannot parse 'bad input'",
                "fork after join():  IllegalStateException: scope 'pool' is closed to new subtasks",
                "fork after close(): IllegalStateException: scope 'pool' is closed",
                "^ reported", "The fix: try-with-resources.");
        assertThat(run.err()).as("the leak report goes through System.Logger \"dev.weft\" to stderr")
                .contains("WARNING: scope 'forgotten' (owner thread 'main'")
                .contains("became unreachable without being closed; Weft cancelled its 1 running subtask");
    }

    @Test
    void gracefulExit_run_cancelsOneAllAtSafePointsAndOnSigterm() throws Exception {
        SampleRun run = runClean(Sample06_GracefulExit.class);

        assertThat(run.out()).as(run.toString()).containsSubsequence(
                "thread-0: Subtask.cancel() -> exited", "still looping: 7",
                "thread-3: Subtask.cancel() -> exited", "still looping: 4",
                "Scopes.cancelAll() cancelled 1 root scope",
                "join(): CancelledException: scope 'proposal' was cancelled by Scopes.cancelAll()",
                "finally block ran after", "the job ended CANCELLED: CancelledException",
                "inside the section, isRequested() reads false",
                "then: CANCELLED, CancelledException",
                "child | service: ready", "parent: sent SIGTERM");
        assertThat(run.out()).as("what the child printed after SIGTERM")
                .contains("child | worker-0: stopped, cleaned up")
                .contains("child | committer: commit #1 complete")
                .contains("child | weft: JVM shutdown: 1 subtask still running after the grace period of 1 s")
                .contains("'stubborn' stuck")
                .contains("the child exited with code 143");
    }

    @Test
    void deadlines_run_nestedScopesInheritTheTighterDeadline() throws Exception {
        SampleRun run = runClean(Sample07_Deadlines.class);

        assertThat(run.number("a shard sees Cancellation.remaining\\(\\) = ([\\d,]+) ms"))
                .as("the request's 300 ms, not the search scope's 5,000 ms").isLessThanOrEqualTo(300L);
        assertThat(run.out()).as(run.toString()).containsSubsequence(
                "the request got [results]",
                "the request got \"cached recommendations\"", "inside its 400 ms deadline",
                "the request's join() threw DeadlineExceededException",
                "the nested scope's join() threw CancelledException: scope 'lookup' was cancelled",
                "the lookup subtask ended CANCELLED");
    }
}

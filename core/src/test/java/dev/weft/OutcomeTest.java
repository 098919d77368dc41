package dev.weft;

import static dev.weft.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The outcome a user's {@code catch} sees: the straggler report is reachable from whichever
 * exception is caught ({@link GracePeriodExceededException#in}); {@code join()} declares only what
 * its joiner throws (JEP 533's shape); small JDK-parity points.
 */
class OutcomeTest {

    /** The README's bounded-shutdown pattern, with join() in the body, as a user writes it. */
    @Test
    @Timeout(30)
    void boundedShutdownPattern_joinThrowsDeadline_catchFindsTheStragglerReport() throws Exception {
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        GracePeriodExceededException report = null;
        try {
            try (var scope = TaskScope.open(Joiner.awaitAll(),
                    cfg -> cfg.withName("ingest").withTimeout(Duration.ofMillis(100)).withGrace(Duration.ofMillis(100)))) {
                scope.fork("stubborn", () -> ShutdownSupport.ignoreInterruptsUntil(started, release));
                await(started);
                scope.join();
            } catch (CancelledException | GracePeriodExceededException e) {
                assertThat(e).isInstanceOf(DeadlineExceededException.class);
                report = GracePeriodExceededException.in(e).orElseThrow();
            }
        } finally {
            release.countDown();
        }
        assertThat(report.stragglers()).singleElement().satisfies(s -> {
            assertThat(s.task()).isEqualTo("stubborn");
            assertThat(s.sinceCancel()).isNotNull();
            assertThat(s.activity()).isEqualTo("task");
        });
    }

    @Test
    @Timeout(30)
    void gracePeriodIn_failFastJoin_findsReportOnExecutionException() throws Exception {
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        try {
            try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), c -> c.withGrace(Duration.ofMillis(50)))) {
                scope.fork(() -> ShutdownSupport.ignoreInterruptsUntil(started, release));
                await(started);
                scope.fork(() -> {
                    throw new IllegalStateException("boom");
                });
                scope.join();
            }
        } catch (ExecutionException e) {
            assertThat(e.getCause()).hasMessage("boom");
            assertThat(GracePeriodExceededException.in(e)).isPresent();
        } finally {
            release.countDown();
        }
    }

    @Test
    void gracePeriodIn_noReport_isEmptyAndNullThrows() {
        assertThat(GracePeriodExceededException.in(new CancelledException("x"))).isEmpty();
        assertThatThrownBy(() -> GracePeriodExceededException.in(null)).isInstanceOf(NullPointerException.class);
    }

    /** Compiles only because awaitAll() declares no checked exception: the proof is the compiler's. */
    @Test
    @Timeout(10)
    void join_supervisor_declaresNoCheckedFailure() throws InterruptedException {
        TaskScope<String, Void, RuntimeException> scope = TaskScope.open(Joiner.awaitAll());
        try (scope) {
            Subtask<String> failed = scope.fork(() -> {
                throw new IllegalStateException("read from the subtask");
            });
            scope.join();                                   // no catch (ExecutionException) needed
            assertThat(failed.exception()).hasMessage("read from the subtask");
        }
    }

    @Test
    @Timeout(10)
    void join_failFast_throwsExecutionExceptionWithFirstFailure() throws Exception {
        TaskScope<String, List<String>, ExecutionException> scope = TaskScope.open(Joiner.allSuccessfulOrThrow());
        try (scope) {
            scope.fork(() -> {
                throw new IllegalArgumentException("first");
            });
            assertThatThrownBy(scope::join).isInstanceOf(ExecutionException.class).cause().hasMessage("first");
        }
    }

    @Test
    @Timeout(10)
    void isCancelled_afterCloseWithNothingToCancel_isTrue() throws Exception {
        TaskScope<Object, Void, ExecutionException> scope = TaskScope.open();
        try (scope) {
            scope.fork(() -> "done");
            scope.join();
            assertThat(scope.isCancelled()).isFalse();
        }
        assertThat(scope.isCancelled()).as("as the JDK: a closed scope is cancelled").isTrue();
    }

    @Test
    void builtInJoiners_preconditions_matchTheJdk() throws Exception {
        List<Joiner<Object, ?, ?>> joiners = List.of(Joiner.allSuccessfulOrThrow(), Joiner.anySuccessfulOrThrow(),
                Joiner.awaitAllSuccessfulOrThrow(), Joiner.awaitAll(), Joiner.allUntil(s -> false));
        Subtask<Object> running;
        var release = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            running = scope.fork(() -> {
                release.await();
                return null;
            });
            for (Joiner<Object, ?, ?> j : joiners) {
                assertThatThrownBy(() -> j.onFork(null)).as("%s", j).isInstanceOf(NullPointerException.class);
                assertThatThrownBy(() -> j.onComplete(null)).as("%s", j).isInstanceOf(NullPointerException.class);
                assertThatThrownBy(() -> j.onComplete(running)).as("%s", j).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("has not completed");
            }
            release.countDown();
            scope.join();
        }
    }

    @Test
    @Timeout(10)
    void messages_unnamedVirtualThread_printsItsId() {
        Thread t = Thread.ofVirtual().unstarted(() -> { });
        assertThat(Names.thread(t)).isEqualTo("<unnamed virtual thread #" + t.threadId() + ">");
        assertThat(Names.escape("a\nb\rc")).isEqualTo("a\\nb\\rc");
    }
}

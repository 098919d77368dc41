package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.RUNNING;
import static dev.weft.TaskScope.Subtask.State.SUCCESS;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.awaitTerminated;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static dev.weft.TestSupport.threadOf;
import static dev.weft.TestSupport.whenBlockedIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link TaskScope#join()}: waiting, results, interruption, and waiting for cancelled subtasks. */
class JoinTest {

    @Test
    @Timeout(20)
    void join_subtasksStillRunning_waitsForAllAndReturnsJoinerResult() throws Exception {
        var go = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow())) {
            scope.fork(() -> {
                await(go);
                return "a";
            });
            scope.fork(() -> {
                await(go);
                return "b";
            });
            var helper = whenBlockedIn(Thread.currentThread(), "join", go::countDown);
            List<String> results = scope.join();
            assertThat(results).containsExactly("a", "b");
            helper.get(10, TimeUnit.SECONDS);       // join really waited for the subtasks
        }
    }

    @Test
    @Timeout(10)
    void join_defaultOpenAllSucceed_returnsNullAndEverySubtaskSucceeded() throws Exception {
        try (var scope = TaskScope.<Integer>open()) {
            Subtask<Integer> a = scope.fork(() -> 1);
            Subtask<Integer> b = scope.fork(() -> 2);
            assertThat(scope.join()).isNull();
            assertThat(a.state()).isEqualTo(SUCCESS);
            assertThat(b.state()).isEqualTo(SUCCESS);
        }
    }

    @Test
    @Timeout(10)
    void join_noSubtasks_returnsJoinerResultAtOnce() throws Exception {
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow())) {
            assertThat(scope.join()).isEmpty();
        }
        try (var scope = TaskScope.open()) {
            assertThat(scope.join()).isNull();
        }
    }

    @Test
    @Timeout(20)
    void join_ownerInterruptedWhileWaiting_throwsInterruptedExceptionAndScopeStaysUsable() throws Exception {
        var release = new CountDownLatch(1);
        Thread owner = Thread.currentThread();
        try (var scope = TaskScope.<String>open()) {
            Subtask<String> s = scope.fork(() -> {
                await(release);
                return "late";
            });
            var helper = whenBlockedIn(owner, "join", owner::interrupt);
            assertThatThrownBy(scope::join).isInstanceOf(InterruptedException.class);
            helper.get(10, TimeUnit.SECONDS);
            assertThat(Thread.currentThread().isInterrupted()).as("interrupt status after InterruptedException").isFalse();
            assertThat(scope.isCancelled()).isFalse();
            assertThat(s.state()).isEqualTo(RUNNING);

            release.countDown();
            assertThat(scope.join()).isNull();          // join may be called again after InterruptedException
            assertThat(s.get()).isEqualTo("late");
        }
    }

    @Test
    @Timeout(10)
    void join_interruptStatusAlreadySet_throwsInterruptedExceptionWithoutCancelling() throws Exception {
        var release = new CountDownLatch(1);
        try (var scope = TaskScope.<String>open()) {
            Subtask<String> s = scope.fork(() -> {
                await(release);
                return "x";
            });
            Thread.currentThread().interrupt();
            assertThatThrownBy(scope::join).isInstanceOf(InterruptedException.class);
            assertThat(scope.isCancelled()).isFalse();
            release.countDown();
            scope.join();
            assertThat(s.get()).isEqualTo("x");
        }
    }

    @Test
    @Timeout(20)
    void join_afterCancellation_waitsForCancelledSubtasksToEnd() throws Exception {
        var trail = new EventTrail();
        var started = new CountDownLatch(1);
        try (var scope = TaskScope.open()) {
            Subtask<Object> slow = scope.fork(() -> {
                try {
                    started.countDown();
                    return blockUntilInterrupted();
                } finally {
                    Thread.sleep(200);                 // slow clean-up, after the interrupt
                    trail.add("subtask ended");
                }
            });
            await(started);
            var helper = whenBlockedIn(Thread.currentThread(), "join", scope::cancel);
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            trail.add("join returned");
            helper.get(10, TimeUnit.SECONDS);
            assertThat(slow.state()).isEqualTo(CANCELLED);
        }
        trail.assertContainsInOrder("subtask ended", "join returned");
    }

    @Test
    @Timeout(10)
    void join_afterCancellationWithGrace_returnsAfterGraceWhileSubtaskIgnoresCancellation() throws Exception {
        var release = new CountDownLatch(1);
        var interrupted = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withGrace(Duration.ofMillis(300)))) {
            Subtask<Object> stubborn = scope.fork(() -> TestSupport.ignoreInterruptsUntil(release, interrupted));
            TestSupport.awaitBlocked(stubborn);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            await(interrupted);
            assertThat(stubborn.state()).as("join gave up after the grace period").isEqualTo(RUNNING);
            release.countDown();
            awaitTerminated(stubborn);
            assertThat(stubborn.state()).isEqualTo(SUCCESS);
        }
    }

    @Test
    @Timeout(20)
    void join_ownerInterruptedWhileWaitingForCancelledSubtasks_stopsWaitingReassertsInterruptAndReports() throws Exception {
        var release = new CountDownLatch(1);
        var ignoredInterrupt = new CountDownLatch(1);
        Thread owner = Thread.currentThread();
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> stubborn = scope.fork(() -> TestSupport.ignoreInterruptsUntil(release, ignoredInterrupt));
            TestSupport.awaitBlocked(stubborn);
            scope.cancel();
            await(ignoredInterrupt);
            var helper = whenBlockedIn(owner, "join", owner::interrupt);
            Throwable thrown = catchThrowable(scope::join);
            boolean interrupted = Thread.interrupted();
            helper.get(10, TimeUnit.SECONDS);
            assertThat(thrown).isExactlyInstanceOf(CancelledException.class);
            assertThat(interrupted).as("join re-asserted the interrupt status").isTrue();
            assertThat(stubborn.state()).isEqualTo(RUNNING);
            release.countDown();
            awaitTerminated(stubborn);
        }
    }

    @Test
    @Timeout(10)
    void join_subtaskFailsWhileOthersRun_returnsOnlyAfterEverySubtaskEnded() throws Exception {
        try (var scope = TaskScope.open()) {
            Subtask<Object> a = scope.fork(() -> blockUntilInterrupted());
            Subtask<Object> b = scope.fork(() -> blockUntilInterrupted());
            Subtask<Object> failing = scope.fork(() -> {
                TestSupport.awaitBlocked(threadOf(a), TestSupport.WAIT);
                TestSupport.awaitBlocked(threadOf(b), TestSupport.WAIT);
                throw new IllegalStateException("boom");
            });
            assertThatThrownBy(scope::join).hasRootCauseInstanceOf(IllegalStateException.class);
            assertThat(List.of(a, b, failing)).extracting(Subtask::state).doesNotContain(RUNNING);
        }
    }
}

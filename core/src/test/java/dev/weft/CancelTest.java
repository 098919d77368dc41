package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.FAILED;
import static dev.weft.TaskScope.Subtask.State.SUCCESS;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.awaitTerminated;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static dev.weft.TestSupport.whenBlockedIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link TaskScope#cancel(Throwable)}: from any thread, idempotent, and what the subtasks end as. */
class CancelTest {

    @Test
    @Timeout(20)
    void cancel_fromOtherThreadWhileOwnerJoins_joinThrowsCancelledExceptionWithReason() throws Exception {
        var reason = new IllegalStateException("operator said stop");
        try (var scope = TaskScope.open()) {
            List<Subtask<Object>> subtasks = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                subtasks.add(scope.fork(() -> blockUntilInterrupted()));
            }
            var helper = whenBlockedIn(Thread.currentThread(), "join", () -> scope.cancel(reason));
            Throwable thrown = catchThrowable(scope::join);
            helper.get(10, TimeUnit.SECONDS);
            assertThat(thrown).isExactlyInstanceOf(CancelledException.class).cause().isSameAs(reason);
            assertThat(thrown.getSuppressed()).as("cancelled subtasks are not failures").isEmpty();
            assertThat(scope.isCancelled()).isTrue();
            assertThat(subtasks).extracting(Subtask::state).containsOnly(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void cancel_beforeJoin_joinThrowsCancelledExceptionWithoutCause() throws Exception {
        try (var scope = TaskScope.open()) {
            Subtask<Object> s = scope.fork(() -> blockUntilInterrupted());
            assertThat(scope.isCancelled()).isFalse();
            scope.cancel();
            assertThat(scope.isCancelled()).isTrue();
            assertThatThrownBy(scope::join).isExactlyInstanceOf(CancelledException.class).hasNoCause();
            assertThat(s.state()).isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void cancel_nullReason_allowedAndJoinThrowsCancelledExceptionWithoutCause() throws Exception {
        try (var scope = TaskScope.open()) {
            scope.fork(() -> blockUntilInterrupted());
            scope.cancel(null);
            assertThatThrownBy(scope::join).isExactlyInstanceOf(CancelledException.class).hasNoCause();
        }
    }

    @Test
    @Timeout(10)
    void cancel_fromSubtaskOfSameScope_cancelsSiblingsAndJoinThrowsWithReason() throws Exception {
        var reason = new IllegalStateException("found what we wanted");
        var scopeRef = new AtomicReference<TaskScope<Object, Void, ?>>();
        try (var scope = TaskScope.open()) {
            scopeRef.set(scope);
            Subtask<Object> sibling = scope.fork(() -> blockUntilInterrupted());
            awaitBlocked(sibling);
            Subtask<Object> canceller = scope.fork(() -> {
                scopeRef.get().cancel(reason);
                return "cancelled it";
            });
            assertThatThrownBy(scope::join).isExactlyInstanceOf(CancelledException.class).cause().isSameAs(reason);
            assertThat(sibling.state()).isEqualTo(CANCELLED);
            assertThat(canceller.state()).as("cancelled, but returned a value").isEqualTo(SUCCESS);
            assertThat(canceller.get()).isEqualTo("cancelled it");
        }
    }

    @Test
    @Timeout(10)
    void cancel_calledAgainWithAnotherReason_firstReasonWins() throws Exception {
        var first = new IllegalStateException("first");
        var second = new IllegalStateException("second");
        try (var scope = TaskScope.open()) {
            scope.fork(() -> blockUntilInterrupted());
            scope.cancel(first);
            scope.cancel(second);
            scope.cancel();
            assertThatThrownBy(scope::join).cause().isSameAs(first);
        }
    }

    @Test
    @Timeout(20)
    void cancel_fromManyThreadsAtOnce_oneReasonWinsAndEverySubtaskCancelled() throws Exception {
        int cancellers = 8;
        var barrier = new CyclicBarrier(cancellers);
        List<Throwable> reasons = new ArrayList<>();
        try (var scope = TaskScope.open()) {
            List<Subtask<Object>> subtasks = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                subtasks.add(scope.fork(() -> blockUntilInterrupted()));
            }
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < cancellers; i++) {
                var reason = new IllegalStateException("reason " + i);
                reasons.add(reason);
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        barrier.await();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    scope.cancel(reason);
                }));
            }
            for (Thread t : threads) {
                TestSupport.awaitTerminated(t, TestSupport.WAIT);
            }
            Throwable thrown = catchThrowable(scope::join);
            assertThat(thrown).isExactlyInstanceOf(CancelledException.class);
            assertThat(reasons).contains(thrown.getCause());
            assertThat(subtasks).extracting(Subtask::state).containsOnly(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void cancel_blockedSubtasks_everyOneIsInterrupted() throws Exception {
        int n = 20;
        var interrupted = new CountDownLatch(n);
        try (var scope = TaskScope.open()) {
            List<Subtask<Object>> subtasks = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                subtasks.add(scope.fork(() -> {
                    try {
                        return blockUntilInterrupted();
                    } catch (InterruptedException e) {
                        interrupted.countDown();
                        throw e;
                    }
                }));
            }
            for (Subtask<Object> s : subtasks) {
                awaitBlocked(s);
            }
            scope.cancel();
            await(interrupted);
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThat(subtasks).extracting(Subtask::state).containsOnly(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void cancel_subtaskEndsWithCancelledExceptionFromCheck_isCancelledNotFailed() throws Exception {
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> s = scope.fork(() -> {
                try {
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    Cancellation.check();               // throws: the task was cancelled
                    return "check did not throw";
                }
            });
            awaitBlocked(s);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThat(s.state()).isEqualTo(CANCELLED);
            assertThat(s.exception()).isInstanceOf(CancelledException.class);
        }
    }

    @Test
    @Timeout(10)
    void cancel_subtaskExceptionCausedByInterruptedException_isCancelled() throws Exception {
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> s = scope.fork(() -> {
                try {
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    throw new RuntimeException("wrapped", e);
                }
            });
            awaitBlocked(s);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThat(s.state()).isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void cancel_subtaskStillReturnsValue_isSuccess() throws Exception {
        try (var scope = TaskScope.open(Joiner.<String>awaitAll())) {
            Subtask<String> s = scope.fork(() -> {
                try {
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    return "partial result";
                }
            });
            awaitBlocked(s);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThat(s.state()).isEqualTo(SUCCESS);
            assertThat(s.get()).isEqualTo("partial result");
        }
    }

    @Test
    @Timeout(10)
    void cancel_subtaskThenThrowsUnrelatedException_isFailedAndSuppressedOnJoin() throws Exception {
        var unrelated = new IllegalStateException("cleanup failed");
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> s = scope.fork(() -> {
                try {
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    throw unrelated;
                }
            });
            awaitBlocked(s);
            scope.cancel();
            Throwable thrown = catchThrowable(scope::join);
            assertThat(thrown).isExactlyInstanceOf(CancelledException.class);
            assertThat(thrown.getSuppressed()).containsExactly(unrelated);
            assertThat(s.state()).isEqualTo(FAILED);
            assertThat(s.exception()).isSameAs(unrelated);
        }
    }

    @Test
    @Timeout(10)
    void cancel_afterFinishedSubtasksWereDropped_stillReachesEveryRunningSubtask() throws Exception {
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            List<Subtask<Object>> blocked = new ArrayList<>();
            List<Subtask<Object>> quick = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                blocked.add(scope.fork(() -> blockUntilInterrupted()));
                quick.add(scope.fork(() -> "quick"));
            }
            for (Subtask<Object> q : quick) {
                awaitTerminated(q);
            }
            for (int i = 0; i < 30; i++) {          // the subtask table fills up and is compacted
                blocked.add(scope.fork(() -> blockUntilInterrupted()));
                if (i % 5 == 0) {
                    Subtask<Object> q = scope.fork(() -> "quick");
                    quick.add(q);
                    awaitTerminated(q);
                }
            }
            for (Subtask<Object> b : blocked) {
                awaitBlocked(b);
            }
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThat(blocked).extracting(Subtask::state).containsOnly(CANCELLED);
            assertThat(quick).extracting(Subtask::state).containsOnly(SUCCESS);
        }
    }

    @Test
    @Timeout(60)
    void cancel_racingWithFork_everySubtaskEndsCancelled() throws Exception {
        var random = new Random(42);
        for (int round = 0; round < 1_000; round++) {
            var forks = new AtomicInteger();
            int spins = random.nextInt(2_000);
            try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withGrace(Duration.ofSeconds(5)))) {
                Thread canceller = Thread.ofPlatform().start(() -> {
                    while (forks.get() == 0) {
                        Thread.onSpinWait();
                    }
                    for (int i = 0; i < spins; i++) {
                        Thread.onSpinWait();
                    }
                    scope.cancel();                     // lands while the owner is forking
                });
                List<Subtask<Object>> subtasks = new ArrayList<>();
                while (!scope.isCancelled() && subtasks.size() < 1_000) {
                    subtasks.add(scope.fork(() -> blockUntilInterrupted()));
                    forks.incrementAndGet();
                }
                TestSupport.awaitTerminated(canceller, TestSupport.WAIT);
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
                assertThat(subtasks).as("round %d", round).extracting(Subtask::state).containsOnly(CANCELLED);
            }
        }
    }
}

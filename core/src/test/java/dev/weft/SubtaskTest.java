package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.FAILED;
import static dev.weft.TaskScope.Subtask.State.RUNNING;
import static dev.weft.TaskScope.Subtask.State.SUCCESS;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.awaitTerminated;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static dev.weft.TestSupport.onNewThread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link Subtask}: state, result, exception, name and per-subtask cancellation. */
class SubtaskTest {

    @Test
    @Timeout(10)
    void getAndException_whileRunning_throwIllegalStateException() throws Exception {
        var release = new CountDownLatch(1);
        try (var scope = TaskScope.<String>open()) {
            Subtask<String> s = scope.fork(() -> {
                await(release);
                return "x";
            });
            assertThat(s.state()).isEqualTo(RUNNING);
            assertThatThrownBy(s::get).isInstanceOf(IllegalStateException.class).hasMessageContaining("not completed");
            assertThatThrownBy(s::exception).isInstanceOf(IllegalStateException.class);
            release.countDown();
            scope.join();
            assertThat(s.state()).isEqualTo(SUCCESS);
        }
    }

    @Test
    @Timeout(10)
    void exception_succeeded_throwsIllegalStateException() throws Exception {
        try (var scope = TaskScope.<String>open()) {
            Subtask<String> s = scope.fork(() -> "x");
            scope.join();
            assertThatThrownBy(s::exception).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    @Timeout(10)
    void get_failed_throwsIllegalStateExceptionSayingFailed() throws Exception {
        var failure = new IllegalArgumentException("bad");
        try (var scope = TaskScope.open(Joiner.<String>awaitAll())) {
            Subtask<String> s = scope.fork(() -> {
                throw failure;
            });
            scope.join();
            assertThat(s.state()).isEqualTo(FAILED);
            assertThat(s.exception()).isSameAs(failure);
            assertThatThrownBy(s::get).isInstanceOf(IllegalStateException.class).hasMessageContaining("failed");
        }
    }

    @Test
    @Timeout(10)
    void get_cancelled_throwsIllegalStateExceptionSayingCancelled() throws Exception {
        try (var scope = TaskScope.open(Joiner.<String>awaitAll())) {
            Subtask<String> s = scope.fork(() -> blockUntilInterrupted());
            awaitBlocked(s);
            s.cancel();
            scope.join();
            assertThat(s.state()).isEqualTo(CANCELLED);
            assertThat(s.exception()).isInstanceOf(InterruptedException.class);
            assertThatThrownBy(s::get).isInstanceOf(IllegalStateException.class).hasMessageContaining("cancelled");
        }
    }

    @Test
    @Timeout(10)
    void name_unnamed_isHashAndIndexCountingFromOne() throws Exception {
        try (var scope = TaskScope.open()) {
            Subtask<Object> first = scope.fork(() -> "a");
            Subtask<Object> second = scope.fork((Runnable) () -> { });
            scope.join();
            assertThat(first.name()).isEqualTo("#1");
            assertThat(second.name()).isEqualTo("#2");
        }
    }

    @Test
    @Timeout(10)
    void name_unnamedAfterNamed_isItsForkIndex() throws Exception {
        // Javadoc of Subtask.name(): "#n", n = the fork index in its scope, named subtasks included.
        try (var scope = TaskScope.open()) {
            Subtask<Object> named = scope.fork("reader", () -> "a");
            Subtask<Object> unnamed = scope.fork(() -> "b");
            scope.join();
            assertThat(named.name()).isEqualTo("reader");
            assertThat(unnamed.name()).isEqualTo("#2");
        }
    }

    @Test
    @Timeout(10)
    void name_separateScopes_countSeparately() throws Exception {
        try (var a = TaskScope.open()) {
            a.fork(() -> "x");
            try (var b = TaskScope.open()) {
                Subtask<Object> s = b.fork(() -> "y");
                b.join();
                assertThat(s.name()).isEqualTo("#1");
            }
            a.join();
        }
    }

    @Test
    @Timeout(10)
    void cancel_oneSubtaskInSupervisor_othersKeepRunningAndScopeNotCancelled() throws Exception {
        var release = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.<String>awaitAll())) {
            Subtask<String> victim = scope.fork(() -> blockUntilInterrupted());
            Subtask<String> other = scope.fork(() -> {
                await(release);
                return Cancellation.isRequested() ? "cancelled" : "other";
            });
            awaitBlocked(victim);
            awaitBlocked(other);
            assertThat(onNewThread(victim::cancel)).as("cancel from any thread").isTrue();
            awaitTerminated(victim);
            assertThat(victim.state()).isEqualTo(CANCELLED);
            assertThat(other.state()).isEqualTo(RUNNING);
            assertThat(scope.isCancelled()).isFalse();
            release.countDown();
            assertThat(scope.join()).isNull();
            assertThat(other.get()).isEqualTo("other");
        }
    }

    @Test
    @Timeout(10)
    void cancel_calledTwiceOrAfterCompletion_returnsFalse() throws Exception {
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> blocked = scope.fork(() -> blockUntilInterrupted());
            Subtask<Object> done = scope.fork(() -> "done");
            awaitBlocked(blocked);
            awaitTerminated(done);
            assertThat(blocked.cancel()).isTrue();
            assertThat(blocked.cancel()).isFalse();
            assertThat(done.cancel()).isFalse();
            scope.join();
            assertThat(done.state()).isEqualTo(SUCCESS);
            assertThat(blocked.state()).isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void cancel_oneSubtaskInFailFastScope_treatedAsFailureAndOthersCancelled() throws Exception {
        try (var scope = TaskScope.open()) {
            Subtask<Object> victim = scope.fork(() -> blockUntilInterrupted());
            Subtask<Object> other = scope.fork(() -> blockUntilInterrupted());
            awaitBlocked(victim);
            awaitBlocked(other);
            victim.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(CancelledException.class);
            assertThat(other.state()).isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void cancel_subtaskPollingCancellation_seesItOnlyForItself() throws Exception {
        var bothStarted = new CountDownLatch(2);
        var release = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.<String>awaitAll())) {
            Subtask<String> victim = scope.fork(() -> {
                bothStarted.countDown();
                long end = System.nanoTime() + 8_000_000_000L;
                while (!Cancellation.isRequested() && System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
                return Cancellation.isRequested() ? "victim saw it" : "victim timed out";
            });
            Subtask<String> other = scope.fork(() -> {
                bothStarted.countDown();
                await(release);
                return Cancellation.isRequested() ? "other saw it" : "other unaffected";
            });
            await(bothStarted);
            victim.cancel();
            awaitTerminated(victim);
            release.countDown();
            scope.join();
            assertThat(victim.get()).isEqualTo("victim saw it");
            assertThat(victim.state()).as("cancelled, but returned a value").isEqualTo(SUCCESS);
            assertThat(other.get()).isEqualTo("other unaffected");
        }
    }
    /** A factory whose threads wait at a gate (ignoring interrupts) before running the subtask. */
    private static ThreadFactory gated(CountDownLatch gate) {
        return r -> Thread.ofPlatform().unstarted(() -> {
            boolean interrupted = false;
            for (;;) {
                try {
                    gate.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            r.run();
        });
    }

    @Test
    @Timeout(10)
    void cancel_beforeItsThreadRunsTheTask_taskNeverRunsAndEndsCancelled() throws Exception {
        var gate = new CountDownLatch(1);
        var ran = new AtomicBoolean();
        try (var scope = TaskScope.open(Joiner.<String>awaitAll(), c -> c.withThreadFactory(gated(gate)))) {
            Subtask<String> victim = scope.fork(() -> {
                ran.set(true);
                return "ran";
            });
            Subtask<String> other = scope.fork(() -> "other");
            assertThat(victim.cancel()).isTrue();
            gate.countDown();
            scope.join();
            assertThat(ran).isFalse();
            assertThat(victim.state()).isEqualTo(CANCELLED);
            assertThat(victim.exception()).isInstanceOf(CancelledException.class);
            assertThat(other.get()).isEqualTo("other");
        }
    }

    @Test
    @Timeout(10)
    void scopeCancel_beforeThreadsRunTheirTasks_tasksNeverRunAndEndCancelled() throws Exception {
        var gate = new CountDownLatch(1);
        var ran = new AtomicBoolean();
        try (var scope = TaskScope.open(Joiner.<String>awaitAll(), c -> c.withThreadFactory(gated(gate)))) {
            Subtask<String> a = scope.fork(() -> {
                ran.set(true);
                return "a";
            });
            Subtask<String> b = scope.fork(() -> {
                ran.set(true);
                return "b";
            });
            scope.cancel();
            gate.countDown();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThat(ran).isFalse();
            assertThat(a.state()).isEqualTo(CANCELLED);
            assertThat(b.state()).isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(60)
    void name_rareStateCreatedConcurrentlyByCancelsOnCancelAndSection_nameKept() throws Exception {
        // A subtask keeps its name and its rarely used state in one field: the first cancel(),
        // onCancel or critical section replaces the name with that state, which carries the name.
        // Race the three (the canceller threads against the subtask's own thread) and check that
        // no replacement lost the name or another's state.
        int rounds = 300;
        int cancellers = 3;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(cancellers);
        try {
            for (int round = 0; round < rounds; round++) {
                var start = new java.util.concurrent.CyclicBarrier(cancellers + 1);
                var closed = new CountDownLatch(1);
                String name = "named-" + round;
                Subtask<Object> s;
                try (var scope = TaskScope.open(Joiner.awaitAll())) {
                    s = scope.fork(name, () -> {
                        start.await();
                        try (var section = Cancellation.critical("section")) {
                            Cancellation.onCancel(closed::countDown);
                        }
                        return blockUntilInterrupted();
                    });
                    Subtask<Object> target = s;
                    var done = new java.util.ArrayList<java.util.concurrent.Future<?>>();
                    for (int c = 0; c < cancellers - 1; c++) {
                        done.add(pool.submit(() -> {
                            start.await();
                            return target.cancel();
                        }));
                    }
                    done.add(pool.submit(() -> {
                        start.await();
                        return target.name();
                    }));
                    for (var f : done) {
                        f.get();
                    }
                    scope.join();
                }
                assertThat(s.name()).as("round %d", round).isEqualTo(name);
                assertThat(s.toString()).contains("'" + name + "'");
                assertThat(s.state()).isEqualTo(CANCELLED);
                assertThat(closed.await(10, java.util.concurrent.TimeUnit.SECONDS))
                        .as("round %d: the onCancel resource registered during the race was closed", round).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

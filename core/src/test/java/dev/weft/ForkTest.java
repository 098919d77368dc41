package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.RUNNING;
import static dev.weft.TaskScope.Subtask.State.SUCCESS;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.awaitTerminated;
import static dev.weft.TestSupport.threadOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link TaskScope#fork}: running tasks, their results, and fork in a cancelled scope. */
class ForkTest {

    @Test
    @Timeout(10)
    void forkCallable_taskReturnsValue_getReturnsItAfterJoin() throws Exception {
        try (var scope = TaskScope.<String>open()) {
            Subtask<String> s = scope.fork(() -> "hello");
            scope.join();
            assertThat(s.state()).isEqualTo(SUCCESS);
            assertThat(s.get()).isEqualTo("hello");
        }
    }

    @Test
    @Timeout(10)
    void forkRunnable_taskRuns_resultIsNull() throws Exception {
        var ran = new AtomicBoolean();
        try (var scope = TaskScope.open()) {
            Subtask<Object> s = scope.fork((Runnable) () -> ran.set(true));
            scope.join();
            assertThat(ran).isTrue();
            assertThat(s.state()).isEqualTo(SUCCESS);
            assertThat(s.get()).isNull();
        }
    }

    @Test
    @Timeout(10)
    void forkNamed_callableAndRunnable_runWithTheGivenNames() throws Exception {
        var ran = new AtomicBoolean();
        try (var scope = TaskScope.open()) {
            Subtask<Integer> reader = scope.fork("reader", () -> 42);
            Subtask<Object> writer = scope.fork("writer", (Runnable) () -> ran.set(true));
            scope.join();
            assertThat(reader.name()).isEqualTo("reader");
            assertThat(reader.get()).isEqualTo(42);
            assertThat(writer.name()).isEqualTo("writer");
            assertThat(writer.get()).isNull();
            assertThat(ran).isTrue();
        }
    }

    @Test
    @Timeout(10)
    void fork_defaultConfiguration_runsEachTaskOnItsOwnNewVirtualThread() throws Exception {
        Thread owner = Thread.currentThread();
        try (var scope = TaskScope.<Thread>open()) {
            Subtask<Thread> a = scope.fork(Thread::currentThread);
            Subtask<Thread> b = scope.fork(Thread::currentThread);
            scope.join();
            assertThat(a.get().isVirtual()).isTrue();
            assertThat(b.get().isVirtual()).isTrue();
            assertThat(a.get()).isNotSameAs(owner).isNotSameAs(b.get()).isSameAs(threadOf(a));
        }
    }

    @Test
    @Timeout(10)
    void fork_taskNotFinished_subtaskIsRunningUntilItCompletes() throws Exception {
        var release = new CountDownLatch(1);
        try (var scope = TaskScope.<String>open()) {
            Subtask<String> s = scope.fork(() -> {
                await(release);
                return "done";
            });
            TestSupport.awaitBlocked(s);
            assertThat(s.state()).isEqualTo(RUNNING);
            release.countDown();
            scope.join();
            assertThat(s.state()).isEqualTo(SUCCESS);
            assertThat(s.get()).isEqualTo("done");
        }
    }

    @Test
    @Timeout(10)
    void fork_ownerStateBeforeFork_visibleToTask() throws Exception {
        int[] plain = new int[1];           // not volatile: fork must publish it
        try (var scope = TaskScope.<Integer>open()) {
            plain[0] = 7;
            Subtask<Integer> s = scope.fork(() -> plain[0]);
            scope.join();
            assertThat(s.get()).isEqualTo(7);
        }
    }

    @Test
    @Timeout(20)
    void fork_manySubtasks_allResultsInForkOrder() throws Exception {
        try (var scope = TaskScope.open(Joiner.<Integer>allSuccessfulOrThrow())) {
            for (int i = 0; i < 500; i++) {
                int n = i;
                scope.fork(() -> n);
            }
            List<Integer> results = scope.join();
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                expected.add(i);
            }
            assertThat(results).isEqualTo(expected);
        }
    }

    @Test
    @Timeout(10)
    void fork_afterCancel_returnsCancelledSubtaskWithoutStartingAThread() throws Exception {
        var ran = new AtomicBoolean();
        try (var scope = TaskScope.open()) {
            scope.cancel();
            Subtask<Object> s = scope.fork(() -> {
                ran.set(true);
                return "ran";
            });
            assertThat(s.state()).isEqualTo(CANCELLED);
            Thread t = threadOf(s);
            assertThat(t == null || t.getState() == Thread.State.NEW)
                    .as("thread of a subtask forked after cancel: %s", t).isTrue();
            assertThat(s.exception()).isInstanceOf(CancelledException.class);
            assertThatThrownBy(s::get).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(ran).isFalse();
    }

    @Test
    @Timeout(10)
    void fork_afterJoinerCancelledScope_returnsCancelledSubtaskWithoutStartingAThread() throws Exception {
        var ran = new AtomicBoolean();
        try (var scope = TaskScope.open()) {
            Subtask<Object> failing = scope.fork(() -> {
                throw new IllegalStateException("boom");
            });
            awaitTerminated(failing);                  // its completion (and the joiner's cancel) ran on it
            assertThat(scope.isCancelled()).isTrue();
            Subtask<Object> late = scope.fork(() -> {
                ran.set(true);
                return "ran";
            });
            assertThat(late.state()).isEqualTo(CANCELLED);
            Thread t = threadOf(late);
            assertThat(t == null || t.getState() == Thread.State.NEW).isTrue();
            assertThatThrownBy(scope::join).isInstanceOf(ExecutionException.class)
                    .cause().isSameAs(failing.exception());
        }
        assertThat(ran).isFalse();
    }

    @Test
    @Timeout(10)
    void fork_afterCancelWithJoinerThatCollects_joinerStillSeesTheSubtask() throws Exception {
        var seen = new AtomicReference<Subtask<?>>();
        Joiner<Object, Void, ?> joiner = new Joiner<>() {
            @Override
            public boolean onFork(Subtask<Object> subtask) {
                seen.set(subtask);
                return false;
            }

            @Override
            public Void result() {
                return null;
            }
        };
        try (var scope = TaskScope.open(joiner)) {
            scope.cancel();
            Subtask<Object> s = scope.fork(() -> "x");
            assertThat(seen.get()).isSameAs(s);
        }
    }
}

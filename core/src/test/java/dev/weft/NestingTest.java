package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.FAILED;
import static dev.weft.TaskScope.Subtask.State.RUNNING;
import static dev.weft.TaskScope.Subtask.State.SUCCESS;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static dev.weft.TestSupport.whenBlockedIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Nested scopes: structure (LIFO closing) and cancellation flowing down the tree. */
class NestingTest {

    @Test
    @Timeout(10)
    void open_insideOwnedScope_bothWorkAndCloseInLifoOrder() throws Exception {
        try (var outer = TaskScope.<String>open()) {
            Subtask<String> a = outer.fork(() -> "outer");
            try (var inner = TaskScope.<String>open()) {
                Subtask<String> b = inner.fork(() -> "inner");
                inner.join();
                assertThat(b.get()).isEqualTo("inner");
            }
            outer.join();
            assertThat(a.get()).isEqualTo("outer");
        }
    }

    @Test
    @Timeout(10)
    void close_enclosingWhileNestedOpen_throwsStructureViolationAfterClosingNestedFirst() throws Exception {
        var outer = TaskScope.open(Joiner.awaitAll());
        var inner = TaskScope.open(Joiner.awaitAll());
        try {
            Subtask<Object> innerTask = inner.fork(() -> blockUntilInterrupted());
            awaitBlocked(innerTask);
            outer.join();
            assertThatThrownBy(outer::close).isInstanceOf(StructureViolationException.class);
            assertThat(innerTask.state()).as("nested scope was closed first").isEqualTo(CANCELLED);
            assertThatThrownBy(() -> inner.fork(() -> "x")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
            assertThatThrownBy(() -> outer.fork(() -> "x")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
        } finally {
            inner.close();                       // already closed: no effect
            outer.close();
        }
    }

    @Test
    @Timeout(10)
    void close_enclosingWhileNestedOpen_laterScopesOpenAtTopLevelAgain() throws Exception {
        var outer = TaskScope.open(Joiner.awaitAll());
        TaskScope.open(Joiner.awaitAll());       // never closed by the test
        assertThatThrownBy(outer::close).isInstanceOf(StructureViolationException.class);
        try (var next = TaskScope.<String>open()) {   // the thread's chain of scopes is clean again
            Subtask<String> s = next.fork(() -> "ok");
            next.join();
            assertThat(s.get()).isEqualTo("ok");
        }
    }

    @Test
    @Timeout(10)
    void subtask_returnsWithOwnScopeStillOpen_failsWithStructureViolationAndNestedSubtasksCancelled() throws Exception {
        var leakedScope = new AtomicReference<TaskScope<Object, Void, ?>>();   // keep it reachable
        var grandchild = new AtomicReference<Subtask<Object>>();
        try (var scope = TaskScope.open(Joiner.<String>awaitAll())) {
            Subtask<String> child = scope.fork(() -> {
                var inner = TaskScope.open(Joiner.awaitAll());
                leakedScope.set(inner);
                Subtask<Object> g = inner.fork(() -> blockUntilInterrupted());
                grandchild.set(g);
                awaitBlocked(g);
                return "returned with a scope open";
            });
            scope.join();
            assertThat(child.state()).isEqualTo(FAILED);
            assertThat(child.exception()).isInstanceOf(StructureViolationException.class);
            assertThat(grandchild.get().state()).isEqualTo(CANCELLED);
            assertThat(leakedScope.get().isCancelled()).as("the leftover scope was closed").isTrue();
        }
    }

    @Test
    @Timeout(10)
    void subtask_returnsWithEmptyScopeStillOpen_failsWithStructureViolation() throws Exception {
        var leakedScope = new AtomicReference<TaskScope<Object, Void, ?>>();
        try (var scope = TaskScope.open(Joiner.<String>awaitAll())) {
            Subtask<String> child = scope.fork(() -> {
                leakedScope.set(TaskScope.open(Joiner.awaitAll()));
                return "returned with a scope open";
            });
            scope.join();
            assertThat(child.state()).isEqualTo(FAILED);
            assertThat(child.exception()).isInstanceOf(StructureViolationException.class);
        }
    }

    @Test
    @Timeout(30)
    void cancel_grandchildBehindBusyLoopingChild_reachesGrandchildDirectly() throws Exception {
        var grandchild = new AtomicReference<Subtask<Object>>();
        var grandchildForked = new CountDownLatch(1);
        var grandchildEndedWhileChildLooped = new AtomicBoolean();
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> child = scope.fork(() -> {
                try (var inner = TaskScope.open(Joiner.awaitAll())) {
                    Subtask<Object> g = inner.fork(() -> blockUntilInterrupted());
                    grandchild.set(g);
                    grandchildForked.countDown();
                    // A busy loop that never looks at the interrupt status or Cancellation.
                    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
                    while (g.state() == RUNNING && System.nanoTime() < end) {
                        Thread.onSpinWait();
                    }
                    grandchildEndedWhileChildLooped.set(g.state() != RUNNING);
                    inner.join();
                    return "inner joined normally";
                }
            });
            await(grandchildForked);
            awaitBlocked(grandchild.get());
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThat(grandchildEndedWhileChildLooped).as("the grandchild ended while the child was looping").isTrue();
            assertThat(grandchild.get().state()).isEqualTo(CANCELLED);
            assertThat(child.state()).as("child ended with the CancelledException of its nested join").isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void cancel_nestedScopeOfSubtask_nestedJoinThrowsCancelledAndOwningSubtaskEndsCancelled() throws Exception {
        var reason = new IllegalStateException("stop everything");
        var innerFailure = new AtomicReference<Throwable>();
        var grandchild = new AtomicReference<Subtask<Object>>();
        var forked = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> child = scope.fork(() -> {
                try (var inner = TaskScope.open(Joiner.awaitAll())) {
                    grandchild.set(inner.fork(() -> blockUntilInterrupted()));
                    forked.countDown();
                    try {
                        inner.join();
                    } catch (CancelledException e) {
                        innerFailure.set(e);
                        throw e;
                    }
                    return "joined";
                }
            });
            await(forked);
            awaitBlocked(grandchild.get());
            scope.cancel(reason);
            assertThatThrownBy(scope::join).isExactlyInstanceOf(CancelledException.class).cause().isSameAs(reason);
            assertThat(innerFailure.get()).isExactlyInstanceOf(CancelledException.class);
            assertThat(grandchild.get().state()).isEqualTo(CANCELLED);
            assertThat(child.state()).isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(20)
    void cancel_enclosingScopeOfSameOwner_nestedScopeCancelledAndItsJoinThrows() throws Exception {
        Thread owner = Thread.currentThread();
        try (var outer = TaskScope.open(Joiner.awaitAll())) {
            try (var inner = TaskScope.open(Joiner.awaitAll())) {
                Subtask<Object> s = inner.fork(() -> blockUntilInterrupted());
                var helper = whenBlockedIn(owner, "join", outer::cancel);
                assertThatThrownBy(inner::join).isExactlyInstanceOf(CancelledException.class);
                helper.get(10, TimeUnit.SECONDS);
                assertThat(inner.isCancelled()).isTrue();
                assertThat(s.state()).isEqualTo(CANCELLED);
            }
            assertThatThrownBy(outer::join).isExactlyInstanceOf(CancelledException.class);
        }
    }

    @Test
    @Timeout(10)
    void cancel_threeLevelsDeep_greatGrandchildCancelledAndSeesIt() throws Exception {
        var leaf = new AtomicReference<Subtask<String>>();
        var leafForked = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.<Object>awaitAll())) {
            scope.fork(() -> {
                try (var s2 = TaskScope.open(Joiner.<Object>awaitAll())) {
                    s2.fork(() -> {
                        try (var s3 = TaskScope.open(Joiner.<String>awaitAll())) {
                            leaf.set(s3.fork(() -> {
                                try {
                                    return blockUntilInterrupted();
                                } catch (InterruptedException e) {
                                    Thread.interrupted();
                                    return Cancellation.isRequested() ? "saw cancellation" : "did not see it";
                                }
                            }));
                            leafForked.countDown();
                            s3.join();
                        }
                        return null;
                    });
                    s2.join();
                }
                return null;
            });
            await(leafForked);
            awaitBlocked(leaf.get());
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThat(leaf.get().state()).isEqualTo(SUCCESS);
            assertThat(leaf.get().get()).isEqualTo("saw cancellation");
        }
    }

    @Test
    @Timeout(10)
    void subtaskCancel_childOwnsNestedScope_nestedSubtaskCancelledSiblingsUnaffected() throws Exception {
        var grandchild = new AtomicReference<Subtask<Object>>();
        var forked = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> child = scope.fork(() -> {
                try (var inner = TaskScope.open(Joiner.awaitAll())) {
                    grandchild.set(inner.fork(() -> blockUntilInterrupted()));
                    forked.countDown();
                    inner.join();
                    return "joined";
                }
            });
            Subtask<Object> sibling = scope.fork(() -> {
                await(release);
                return "sibling";
            });
            await(forked);
            awaitBlocked(grandchild.get());
            assertThat(child.cancel()).isTrue();
            TestSupport.awaitTerminated(child);
            assertThat(grandchild.get().state()).isEqualTo(CANCELLED);
            assertThat(child.state()).isEqualTo(CANCELLED);
            assertThat(sibling.state()).isEqualTo(RUNNING);
            assertThat(scope.isCancelled()).isFalse();
            release.countDown();
            scope.join();
            assertThat(sibling.get()).isEqualTo("sibling");
        }
    }

    @Test
    @Timeout(10)
    void open_inSubtaskAlreadyCancelled_newScopeStartsCancelled() throws Exception {
        var started = new CountDownLatch(1);
        var nestedCancelled = new AtomicBoolean();
        var nestedFork = new AtomicReference<Subtask<Object>>();
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> child = scope.fork(() -> {
                started.countDown();
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
                while (!Cancellation.isRequested() && System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
                Thread.interrupted();
                try (var inner = TaskScope.open(Joiner.awaitAll())) {
                    nestedCancelled.set(inner.isCancelled());
                    nestedFork.set(inner.fork(() -> "never"));
                    inner.join();
                }
                return "done";
            });
            await(started);
            child.cancel();
            scope.join();
            assertThat(nestedCancelled).isTrue();
            assertThat(nestedFork.get().state()).isEqualTo(CANCELLED);
            assertThat(child.state()).isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(60)
    void cancel_racingWithSubtaskOpeningNestedScope_nestedSubtaskAlwaysCancelled() throws Exception {
        for (int round = 0; round < 200; round++) {
            var grandchild = new AtomicReference<Subtask<Object>>();
            var reached = new AtomicBoolean();
            try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withGrace(Duration.ofSeconds(5)))) {
                var go = new CountDownLatch(1);
                Subtask<Object> child = scope.fork(() -> {
                    go.countDown();
                    try (var inner = TaskScope.open(Joiner.awaitAll())) {
                        Subtask<Object> g = inner.fork(() -> blockUntilInterrupted());
                        grandchild.set(g);
                        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                        while (g.state() == RUNNING && System.nanoTime() < end) {
                            Thread.onSpinWait();        // never looks at its own interrupt status
                        }
                        reached.set(g.state() != RUNNING);
                        inner.join();
                    }
                    return "done";
                });
                await(go);
                child.cancel();
                scope.join();
                if (grandchild.get() != null) {
                    assertThat(reached).as("round %d: the nested subtask was cancelled", round).isTrue();
                    assertThat(grandchild.get().state()).isEqualTo(CANCELLED);
                }
                assertThat(child.state()).as("round %d", round).isEqualTo(CANCELLED);
            }
        }
    }

    @Test
    @Timeout(10)
    void join_nestedScopeFailureInsideSubtask_failurePropagatesAsOwningSubtaskFailure() throws Exception {
        var failure = new IllegalStateException("deep failure");
        try (var scope = TaskScope.open()) {
            Subtask<Object> child = scope.fork(() -> {
                try (var inner = TaskScope.open()) {
                    inner.fork(() -> {
                        throw failure;
                    });
                    inner.join();
                    return "joined";
                }
            });
            Throwable thrown = catchThrowable(scope::join);
            assertThat(thrown).isInstanceOf(ExecutionException.class);
            assertThat(thrown.getCause()).isInstanceOf(ExecutionException.class)
                    .cause().isSameAs(failure);
            assertThat(child.state()).isEqualTo(FAILED);
        }
    }
    @Test
    @Timeout(10)
    void open_insideCancelledScopeOfSameOwner_nestedScopeStartsCancelled() throws Exception {
        var reason = new IllegalStateException("outer cancelled");
        try (var outer = TaskScope.open(Joiner.awaitAll())) {
            outer.cancel(reason);
            try (var inner = TaskScope.open(Joiner.awaitAll())) {
                assertThat(inner.isCancelled()).isTrue();
                Subtask<Object> s = inner.fork(() -> "never");
                assertThat(s.state()).isEqualTo(CANCELLED);
                assertThatThrownBy(inner::join).isExactlyInstanceOf(CancelledException.class).cause().isSameAs(reason);
            }
            assertThatThrownBy(outer::join).isExactlyInstanceOf(CancelledException.class);
        }
    }
}

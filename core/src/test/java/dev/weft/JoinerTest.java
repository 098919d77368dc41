package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.FAILED;
import static dev.weft.TaskScope.Subtask.State.SUCCESS;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.awaitTerminated;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static dev.weft.TestSupport.threadOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The built-in joiners, and custom joiners written in a few lines. */
class JoinerTest {

    // ---- allSuccessfulOrThrow

    @Test
    @Timeout(10)
    void allSuccessfulOrThrow_completionOrderDiffersFromForkOrder_resultsInForkOrder() throws Exception {
        var bDone = new CountDownLatch(1);
        var cDone = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow())) {
            scope.fork(() -> {
                await(bDone);
                return "a";
            });
            scope.fork(() -> {
                await(cDone);
                bDone.countDown();
                return "b";
            });
            scope.fork(() -> {
                cDone.countDown();
                return "c";
            });
            scope.fork((Runnable) () -> { });
            List<String> results = scope.join();
            assertThat(results).containsExactly("a", "b", "c", null);
            assertThatThrownBy(() -> results.add("d")).isInstanceOf(UnsupportedOperationException.class);
        }
    }

    @Test
    @Timeout(10)
    void allSuccessfulOrThrow_oneFails_throwsThatFailureAndCancelsTheOthers() throws Exception {
        var failure = new IllegalStateException("boom");
        try (var scope = TaskScope.open(Joiner.<Object>allSuccessfulOrThrow())) {
            Subtask<Object> a = scope.fork(() -> blockUntilInterrupted());
            Subtask<Object> b = scope.fork(() -> blockUntilInterrupted());
            awaitBlocked(a);
            awaitBlocked(b);
            Subtask<Object> failing = scope.fork(() -> {
                throw failure;
            });
            assertThatThrownBy(scope::join).isInstanceOf(ExecutionException.class).cause().isSameAs(failure);
            assertThat(scope.isCancelled()).isTrue();
            assertThat(a.state()).isEqualTo(CANCELLED);
            assertThat(b.state()).isEqualTo(CANCELLED);
            assertThat(failing.state()).isEqualTo(FAILED);
        }
    }

    @Test
    @Timeout(10)
    void allSuccessfulOrThrow_oneSubtaskCancelled_treatedAsFailure() throws Exception {
        try (var scope = TaskScope.open(Joiner.<Object>allSuccessfulOrThrow())) {
            Subtask<Object> victim = scope.fork(() -> blockUntilInterrupted());
            Subtask<Object> other = scope.fork(() -> blockUntilInterrupted());
            awaitBlocked(victim);
            awaitBlocked(other);
            assertThat(victim.cancel()).isTrue();
            assertThatThrownBy(scope::join).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(CancelledException.class);
            assertThat(victim.state()).isEqualTo(CANCELLED);
            assertThat(other.state()).isEqualTo(CANCELLED);
        }
    }

    // ---- anySuccessfulOrThrow

    @Test
    @Timeout(10)
    void anySuccessfulOrThrow_firstSuccess_returnsItAndCancelsTheLosers() throws Exception {
        var losersInterrupted = new CountDownLatch(2);
        try (var scope = TaskScope.open(Joiner.<String>anySuccessfulOrThrow())) {
            Subtask<String> loser1 = scope.fork(() -> loser(losersInterrupted));
            Subtask<String> loser2 = scope.fork(() -> loser(losersInterrupted));
            awaitBlocked(loser1);
            awaitBlocked(loser2);
            Subtask<String> winner = scope.fork(() -> "fast");
            assertThat(scope.join()).isEqualTo("fast");
            await(losersInterrupted);
            assertThat(winner.state()).isEqualTo(SUCCESS);
            assertThat(loser1.state()).isEqualTo(CANCELLED);
            assertThat(loser2.state()).isEqualTo(CANCELLED);
        }
    }

    private static String loser(CountDownLatch interrupted) throws InterruptedException {
        try {
            return blockUntilInterrupted();
        } catch (InterruptedException e) {
            interrupted.countDown();
            throw e;
        }
    }

    @Test
    @Timeout(10)
    void anySuccessfulOrThrow_loserOwnsNestedScope_nestedSubtaskCancelledToo() throws Exception {
        var grandchild = new AtomicReference<Subtask<Object>>();
        var grandchildForked = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.<String>anySuccessfulOrThrow())) {
            Subtask<String> loser = scope.fork(() -> {
                try (var inner = TaskScope.open()) {
                    grandchild.set(inner.fork(() -> blockUntilInterrupted()));
                    grandchildForked.countDown();
                    inner.join();
                    return "inner joined";
                }
            });
            await(grandchildForked);
            awaitBlocked(grandchild.get());
            scope.fork(() -> "winner");
            assertThat(scope.join()).isEqualTo("winner");
            assertThat(loser.state()).isEqualTo(CANCELLED);
            assertThat(grandchild.get().state()).isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void anySuccessfulOrThrow_failureThenSuccess_failureDoesNotCancelAndSuccessWins() throws Exception {
        var first = new AtomicReference<Subtask<String>>();
        try (var scope = TaskScope.open(Joiner.<String>anySuccessfulOrThrow())) {
            first.set(scope.fork(() -> {
                throw new IllegalStateException("first fails");
            }));
            Subtask<String> second = scope.fork(() -> {
                awaitTerminated(first.get());
                return Cancellation.isRequested() ? "cancelled" : "second";
            });
            assertThat(scope.join()).isEqualTo("second");
            assertThat(first.get().state()).isEqualTo(FAILED);
            assertThat(second.state()).isEqualTo(SUCCESS);
        }
    }

    @Test
    @Timeout(10)
    void anySuccessfulOrThrow_allFail_throwsFirstFailureWithLaterOnesSuppressed() throws Exception {
        var e1 = new IllegalStateException("first");
        var e2 = new IllegalArgumentException("second");
        var first = new AtomicReference<Subtask<String>>();
        try (var scope = TaskScope.open(Joiner.<String>anySuccessfulOrThrow())) {
            first.set(scope.fork(() -> {
                throw e1;
            }));
            scope.fork(() -> {
                awaitTerminated(first.get());
                throw e2;
            });
            Throwable thrown = catchThrowable(scope::join);
            assertThat(thrown).isInstanceOf(ExecutionException.class).cause().isSameAs(e1);
            assertThat(thrown.getSuppressed()).containsExactly(e2);
        }
    }

    @Test
    @Timeout(10)
    void anySuccessfulOrThrow_noSubtasks_throwsNoSuchElementException() throws Exception {
        try (var scope = TaskScope.open(Joiner.<String>anySuccessfulOrThrow())) {
            assertThatThrownBy(scope::join).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(NoSuchElementException.class);
        }
    }

    // ---- awaitAllSuccessfulOrThrow

    @Test
    @Timeout(10)
    void awaitAllSuccessfulOrThrow_allSucceed_returnsNullAndResultsAreOnSubtasks() throws Exception {
        try (var scope = TaskScope.open(Joiner.<String>awaitAllSuccessfulOrThrow())) {
            Subtask<String> a = scope.fork(() -> "a");
            Subtask<String> b = scope.fork(() -> "b");
            assertThat(scope.join()).isNull();
            assertThat(a.get()).isEqualTo("a");
            assertThat(b.get()).isEqualTo("b");
        }
    }

    @Test
    @Timeout(10)
    void awaitAllSuccessfulOrThrow_oneFails_throwsAndCancelsTheOthers() throws Exception {
        var failure = new IllegalStateException("boom");
        try (var scope = TaskScope.open(Joiner.<Object>awaitAllSuccessfulOrThrow())) {
            Subtask<Object> blocked = scope.fork(() -> blockUntilInterrupted());
            awaitBlocked(blocked);
            scope.fork(() -> {
                throw failure;
            });
            assertThatThrownBy(scope::join).isInstanceOf(ExecutionException.class).cause().isSameAs(failure);
            assertThat(blocked.state()).isEqualTo(CANCELLED);
        }
    }

    // ---- awaitAll (supervisor)

    @Test
    @Timeout(10)
    void awaitAll_oneFails_siblingsKeepRunningAndSucceed() throws Exception {
        var failing = new AtomicReference<Subtask<String>>();
        var failure = new IllegalStateException("boom");
        try (var scope = TaskScope.open(Joiner.<String>awaitAll())) {
            failing.set(scope.fork(() -> {
                throw failure;
            }));
            Subtask<String> sibling = scope.fork(() -> {
                awaitTerminated(failing.get());         // the failure, and the joiner's reaction, are done
                Thread.sleep(50);                       // still not interrupted: a supervisor does not cancel
                return Cancellation.isRequested() ? "cancelled" : "survived";
            });
            assertThat(scope.join()).isNull();
            assertThat(scope.isCancelled()).isFalse();
            assertThat(sibling.state()).isEqualTo(SUCCESS);
            assertThat(sibling.get()).isEqualTo("survived");
            assertThat(failing.get().state()).isEqualTo(FAILED);
            assertThat(failing.get().exception()).isSameAs(failure);
        }
    }

    @Test
    @Timeout(10)
    void awaitAll_everySubtaskFails_joinReturnsNullAndFailuresAreOnSubtasks() throws Exception {
        try (var scope = TaskScope.open(Joiner.<Object>awaitAll())) {
            Subtask<Object> a = scope.fork(() -> {
                throw new IllegalStateException("a");
            });
            Subtask<Object> b = scope.fork(() -> {
                throw new IllegalArgumentException("b");
            });
            assertThat(scope.join()).isNull();
            assertThat(a.exception()).hasMessage("a");
            assertThat(b.exception()).hasMessage("b");
        }
    }

    // ---- allUntil

    @Test
    @Timeout(10)
    void allUntil_predicateMatches_cancelsTheRestAndReturnsAllSubtasksInForkOrder() throws Exception {
        Predicate<Subtask<String>> isStop = s -> s.state() == SUCCESS && "stop".equals(s.get());
        try (var scope = TaskScope.open(Joiner.<String>allUntil(isStop))) {
            Subtask<String> before = scope.fork(() -> blockUntilInterrupted());
            awaitBlocked(before);
            Subtask<String> stop = scope.fork(() -> "stop");
            Subtask<String> after = scope.fork(() -> blockUntilInterrupted());
            List<Subtask<String>> result = scope.join();
            assertThat(result).containsExactly(before, stop, after);
            assertThat(before.state()).isEqualTo(CANCELLED);
            assertThat(after.state()).isEqualTo(CANCELLED);
            assertThat(stop.state()).isEqualTo(SUCCESS);
        }
    }

    @Test
    @Timeout(10)
    void allUntil_predicateNeverMatches_waitsForEverySubtask() throws Exception {
        try (var scope = TaskScope.open(Joiner.<Integer>allUntil(s -> false))) {
            Subtask<Integer> a = scope.fork(() -> 1);
            Subtask<Integer> b = scope.fork(() -> {
                throw new IllegalStateException("b");
            });
            List<Subtask<Integer>> result = scope.join();
            assertThat(result).containsExactly(a, b);
            assertThat(a.state()).isEqualTo(SUCCESS);
            assertThat(b.state()).isEqualTo(FAILED);
            assertThat(scope.isCancelled()).isFalse();
        }
    }

    @Test
    @Timeout(10)
    void allUntil_predicateThrows_joinThrowsIllegalStateExceptionWithThatCause() throws Exception {
        var bug = new IllegalStateException("predicate bug");
        try (var scope = TaskScope.open(Joiner.<Object>allUntil(s -> {
            throw bug;
        }))) {
            Subtask<Object> blocked = scope.fork(() -> blockUntilInterrupted());
            awaitBlocked(blocked);
            scope.fork(() -> "x");
            assertThatThrownBy(scope::join).isInstanceOf(IllegalStateException.class).cause().isSameAs(bug);
            assertThat(blocked.state()).isEqualTo(CANCELLED);
        }
    }

    // ---- custom joiners

    /** The javadoc's example: the first result that passes a test wins and cancels the rest. */
    static final class FirstMatch<T> implements Joiner<T, T, NoSuchElementException> {
        private final Predicate<T> test;
        private final AtomicReference<T> found = new AtomicReference<>();

        FirstMatch(Predicate<T> test) {
            this.test = test;
        }

        @Override
        public boolean onComplete(Subtask<T> s) {
            return s.state() == SUCCESS && test.test(s.get()) && found.compareAndSet(null, s.get());
        }

        @Override
        public T result() {
            T t = found.get();
            if (t == null) {
                throw new NoSuchElementException("no subtask matched");
            }
            return t;
        }
    }

    @Test
    @Timeout(10)
    void customJoiner_firstMatch_returnsMatchAndCancelsTheRest() throws Exception {
        try (var scope = TaskScope.open(new FirstMatch<Integer>(n -> n % 2 == 0))) {
            Subtask<Integer> slow = scope.fork(() -> blockUntilInterrupted());
            awaitBlocked(slow);
            scope.fork(() -> 3);
            scope.fork(() -> 4);
            assertThat(scope.join()).isEqualTo(4);
            assertThat(slow.state()).isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void customJoiner_firstMatchNothingMatches_joinThrowsWhatResultThrows() throws Exception {
        try (var scope = TaskScope.open(new FirstMatch<Integer>(n -> n % 2 == 0))) {
            scope.fork(() -> 3);
            scope.fork(() -> 5);
            assertThatThrownBy(scope::join).isInstanceOf(NoSuchElementException.class).hasMessage("no subtask matched");
        }
    }

    @Test
    @Timeout(10)
    void customJoiner_onForkReturnsTrue_scopeCancelledAndSubtaskNeverStarts() throws Exception {
        Joiner<Object, String, RuntimeException> joiner = new Joiner<>() {
            @Override
            public boolean onFork(Subtask<Object> subtask) {
                return true;
            }

            @Override
            public String result() {
                return "joiner result";
            }
        };
        try (var scope = TaskScope.open(joiner)) {
            Subtask<Object> s = scope.fork(() -> "ran");
            assertThat(scope.isCancelled()).isTrue();
            assertThat(s.state()).isEqualTo(CANCELLED);
            Thread t = threadOf(s);
            assertThat(t == null || t.getState() == Thread.State.NEW).isTrue();
            assertThat(scope.join()).isEqualTo("joiner result");
        }
    }

    @Test
    @Timeout(10)
    void customJoiner_onForkThrows_forkThrowsItAndSubtaskNeverStarts() throws Exception {
        var bug = new IllegalStateException("onFork bug");
        var forked = new AtomicReference<Subtask<Object>>();
        Joiner<Object, Void, RuntimeException> joiner = new Joiner<>() {
            @Override
            public boolean onFork(Subtask<Object> subtask) {
                forked.set(subtask);
                throw bug;
            }

            @Override
            public Void result() {
                return null;
            }
        };
        try (var scope = TaskScope.open(joiner)) {
            assertThatThrownBy(() -> scope.fork(() -> "ran")).isSameAs(bug);
            Thread t = threadOf(forked.get());
            assertThat(t == null || t.getState() == Thread.State.NEW).as("thread %s", t).isTrue();
            assertThat(forked.get().state()).isNotEqualTo(SUCCESS);
            scope.join();
        }
    }

    @Test
    @Timeout(10)
    void customJoiner_onCompleteThrows_scopeCancelledAndJoinThrowsIllegalStateExceptionWithThatCause() throws Exception {
        var bug = new IllegalStateException("onComplete bug");
        Joiner<Object, Void, RuntimeException> joiner = new Joiner<>() {
            @Override
            public boolean onComplete(Subtask<Object> subtask) {
                if (subtask.state() == SUCCESS) {
                    throw bug;
                }
                return false;
            }

            @Override
            public Void result() {
                return null;
            }
        };
        try (var scope = TaskScope.open(joiner)) {
            Subtask<Object> blocked = scope.fork(() -> blockUntilInterrupted());
            awaitBlocked(blocked);
            scope.fork(() -> "trigger");
            assertThatThrownBy(scope::join).isInstanceOf(IllegalStateException.class).hasMessageContaining("fix the joiner")
                    .cause().isSameAs(bug);
            assertThat(scope.isCancelled()).isTrue();
            assertThat(blocked.state()).isEqualTo(CANCELLED);
        }
    }

    @Test
    @Timeout(10)
    void customJoiner_countingJoinerWithAllHooks_seesEveryForkAndCompletion() throws Exception {
        /* A joiner that counts successes and failures: a few lines, thread-safe in onComplete. */
        final class Tally implements Joiner<Object, String, RuntimeException> {
            final AtomicInteger forks = new AtomicInteger();
            final AtomicInteger ok = new AtomicInteger();
            final AtomicInteger failed = new AtomicInteger();

            @Override
            public boolean onFork(Subtask<Object> s) {
                forks.incrementAndGet();
                return false;
            }

            @Override
            public boolean onComplete(Subtask<Object> s) {
                (s.state() == SUCCESS ? ok : failed).incrementAndGet();
                return false;
            }

            @Override
            public String result() {
                return forks + " forked, " + ok + " ok, " + failed + " failed";
            }
        }
        try (var scope = TaskScope.open(new Tally())) {
            for (int i = 0; i < 10; i++) {
                int n = i;
                scope.fork(() -> {
                    if (n % 3 == 0) {
                        throw new IllegalStateException("n=" + n);
                    }
                    return n;
                });
            }
            assertThat(scope.join()).isEqualTo("10 forked, 6 ok, 4 failed");
        }
    }
}

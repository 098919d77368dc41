package dev.weft;

import static dev.weft.ShutdownSupport.cancelAtGate;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.threadOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.weft.ShutdownSupport.Gate;
import dev.weft.TaskScope.Configuration;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Critical sections: cancellation is held back inside (no interrupt, {@code check()} passes,
 * {@code isRequested()} is false), delivered when the outermost section ends, and scopes opened
 * inside are shielded from the cancellation outside; misuse is rejected.
 */
class CriticalSectionTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    /** Runs {@code body} in a subtask; an assertion failing in it fails the test through join. */
    private static <V> V inSubtask(Callable<V> body) throws Exception {
        try (var scope = TaskScope.<V>open()) {
            Subtask<V> s = scope.fork(body);
            try {
                scope.join();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof Error err) {
                    throw err;
                }
                throw e;
            }
            return s.get();
        }
    }

    private static String interruptStatus() {
        return "interrupted=" + Thread.currentThread().isInterrupted();
    }

    private static String checkOutcome() {
        try {
            Cancellation.check();
            return "check passed";
        } catch (CancelledException e) {
            return "check threw";
        }
    }

    @Test
    @Timeout(30)
    void critical_cancelledWhileInside_noInterruptNoCheckFailureIsRequestedFalse() throws Exception {
        var trail = new EventTrail();
        Subtask<Object> child = cancelAtGate(trail, gate -> {
            try (var cs = Cancellation.critical()) {
                gate.arriveAndAwait();                       // an interrupt would throw here
                trail.add("woke " + interruptStatus());
                trail.add("isRequested=" + Cancellation.isRequested());
                trail.add(checkOutcome());
                Thread.sleep(Duration.ofMillis(5));           // blocking calls inside are not interrupted
                trail.add("slept " + interruptStatus());
            }
            return "done";
        });
        trail.assertContainsInOrder("cancelling", "woke interrupted=false", "isRequested=false", "check passed",
                "slept interrupted=false");
        assertThat(child.state()).isEqualTo(Subtask.State.SUCCESS);
        assertThat(child.get()).isEqualTo("done");
    }

    @Test
    @Timeout(30)
    void critical_outermostSectionCloses_deliversPendingCancellation() throws Exception {
        var trail = new EventTrail();
        Subtask<Object> child = cancelAtGate(trail, gate -> {
            try (var cs = Cancellation.critical()) {
                gate.arriveAndAwait();
                trail.add("inside " + interruptStatus());
            }
            trail.add("after " + interruptStatus());
            trail.add("isRequested=" + Cancellation.isRequested());
            Cancellation.check();
            trail.add("not reached");
            return "not reached";
        });
        trail.assertContainsInOrder("cancelling", "inside interrupted=false", "after interrupted=true", "isRequested=true");
        assertThat(trail.get()).doesNotContain("not reached");
        assertThat(child.state()).isEqualTo(Subtask.State.CANCELLED);
        assertThat(child.exception()).isInstanceOf(CancelledException.class);
    }

    @Test
    @Timeout(30)
    void critical_enteredWhenAlreadyCancelled_runsBodyWithInterruptCleared() throws Exception {
        var trail = new EventTrail();
        Subtask<Object> child = cancelAtGate(trail, gate -> {
            try {
                gate.arriveAndAwait();
                trail.add("not interrupted");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();          // keep the status set, as a sloppy library would
                trail.add("cancelled before the section, " + interruptStatus());
            }
            try (var cs = Cancellation.critical()) {
                trail.add("inside " + interruptStatus());
                trail.add("isRequested=" + Cancellation.isRequested());
                trail.add(checkOutcome());
                Thread.sleep(Duration.ofMillis(5));           // would throw at once with the status set
                trail.add("slept");
            }
            trail.add("after " + interruptStatus());
            return "done";
        });
        trail.assertContainsInOrder("cancelling", "cancelled before the section, interrupted=true", "inside interrupted=false",
                "isRequested=false", "check passed", "slept", "after interrupted=true");
        assertThat(child.state()).isEqualTo(Subtask.State.SUCCESS);
    }

    @Test
    @Timeout(30)
    void critical_nested_deliversOnlyWhenOutermostCloses() throws Exception {
        var trail = new EventTrail();
        cancelAtGate(trail, gate -> {
            try (var outer = Cancellation.critical("outer")) {
                try (var inner = Cancellation.critical("inner")) {
                    gate.arriveAndAwait();
                    trail.add("inner " + interruptStatus());
                }
                trail.add("between " + interruptStatus());
                trail.add("between isRequested=" + Cancellation.isRequested());
                trail.add("between " + checkOutcome());
            }
            trail.add("after " + interruptStatus());
            trail.add("after isRequested=" + Cancellation.isRequested());
            trail.add("after " + checkOutcome());
            return null;
        });
        trail.assertContainsInOrder("cancelling", "inner interrupted=false", "between interrupted=false",
                "between isRequested=false", "between check passed", "after interrupted=true", "after isRequested=true",
                "after check threw");
    }

    @Test
    @Timeout(30)
    void criticalCallable_cancelledDuringBody_returnsValueThenDelivers() throws Exception {
        var trail = new EventTrail();
        Subtask<Object> child = cancelAtGate(trail, gate -> {
            String value = Cancellation.critical(() -> {
                gate.arriveAndAwait();
                trail.add("body " + interruptStatus() + " isRequested=" + Cancellation.isRequested());
                return "value";
            });
            trail.add("returned " + value + " " + interruptStatus());
            return value;
        });
        trail.assertContainsInOrder("cancelling", "body interrupted=false isRequested=false", "returned value interrupted=true");
        assertThat(child.get()).isEqualTo("value");
    }

    @Test
    @Timeout(30)
    void criticalCallable_bodyThrows_propagatesAndClosesSection() throws Exception {
        var failure = new IOException("disk full");
        String outcome = inSubtask(() -> {
            assertThatThrownBy(() -> Cancellation.critical(() -> {
                assertThat(Context.current().criticalDepth()).isEqualTo(1);
                throw failure;
            })).isSameAs(failure);
            assertThat(Context.current().criticalDepth()).as("section closed on the way out").isZero();
            return "ok";
        });
        assertThat(outcome).isEqualTo("ok");
        assertThatThrownBy(() -> Cancellation.critical((Callable<Object>) null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    @Timeout(30)
    void criticalString_named_nameReportedByDump() throws Exception {
        var gate = new Gate();
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("named-section"))) {
            Subtask<Object> child = scope.fork("flusher", () -> {
                try (var cs = Cancellation.critical("flush")) {
                    assertThat(cs.name()).isEqualTo("flush");
                    gate.arriveAndAwait();
                }
                try (var cs = Cancellation.critical()) {
                    assertThat(cs.name()).isNull();
                }
                return null;
            });
            gate.arrived.await();
            awaitBlocked(threadOf(child), WAIT);
            assertThat(Scopes.dump()).containsPattern("task #1 'flusher' RUNNING, age [^\\n]*, in critical section 'flush'");
            gate.proceed.countDown();
            scope.join();
            assertThat(child.state()).as("%s", catchThrowable(child::exception)).isEqualTo(Subtask.State.SUCCESS);
        }
    }

    @Test
    @Timeout(30)
    void critical_scopeOpenedInside_shieldedFromOuterCancellation() throws Exception {
        var trail = new EventTrail();
        cancelAtGate(trail, gate -> {
            try (var cs = Cancellation.critical("shield")) {
                try (var inner = TaskScope.open(Joiner.awaitAll())) {
                    var started = new CountDownLatch(1);
                    var go = new CountDownLatch(1);
                    Subtask<Object> grandchild = inner.fork(() -> {
                        started.countDown();
                        go.await();                                  // an interrupt would end it CANCELLED
                        return "grandchild isRequested=" + Cancellation.isRequested();
                    });
                    started.await();
                    gate.arriveAndAwait();
                    trail.add("inner cancelled=" + inner.isCancelled());
                    go.countDown();
                    inner.join();
                    trail.add("grandchild " + grandchild.state());
                    trail.add(String.valueOf(grandchild.get()));
                }
            }
            return null;
        });
        trail.assertContainsInOrder("cancelling", "inner cancelled=false", "grandchild SUCCESS", "grandchild isRequested=false");
    }

    /**
     * Cancels a subtask's scope while the subtask is in a critical section; inside the section the
     * subtask then opens a scope configured by {@code config}, forks a grandchild that blocks until
     * interrupted, applies {@code stop} to the inner scope, and records how the inner join ended.
     */
    private static EventTrail stopScopeOpenedInsideSection(UnaryOperator<Configuration> config,
                                                           Consumer<TaskScope<Object, Void, ?>> stop) throws Exception {
        var trail = new EventTrail();
        cancelAtGate(trail, gate -> {
            try (var cs = Cancellation.critical()) {
                gate.arriveAndAwait();
                try (var inner = TaskScope.open(Joiner.awaitAll(), config)) {
                    var started = new CountDownLatch(1);
                    Subtask<Object> grandchild = inner.fork(() -> {
                        started.countDown();
                        return TestSupport.blockUntilInterrupted();
                    });
                    started.await();
                    stop.accept(inner);
                    trail.add("inner join threw " + catchThrowable(inner::join).getClass().getSimpleName());
                    trail.add("grandchild " + grandchild.state());
                }
                trail.add("section " + interruptStatus());
            }
            return null;
        });
        return trail;
    }

    @Test
    @Timeout(30)
    void critical_scopeOpenedInside_ownDeadlineStillApplies() throws Exception {
        EventTrail trail = stopScopeOpenedInsideSection(cfg -> cfg.withTimeout(Duration.ofMillis(100)), inner -> { });
        trail.assertContainsInOrder("cancelling", "inner join threw DeadlineExceededException", "grandchild CANCELLED",
                "section interrupted=false");
    }

    @Test
    @Timeout(30)
    void critical_scopeOpenedInside_ownCancelStillApplies() throws Exception {
        EventTrail trail = stopScopeOpenedInsideSection(UnaryOperator.identity(), TaskScope::cancel);
        trail.assertContainsInOrder("cancelling", "inner join threw CancelledException", "grandchild CANCELLED",
                "section interrupted=false");
    }

    @Test
    @Timeout(30)
    void critical_scopeOpenedInside_cancelledWhenSectionEnds() throws Exception {
        var trail = new EventTrail();
        cancelAtGate(trail, gate -> {
            var cs = Cancellation.critical();
            var inner = TaskScope.open(Joiner.awaitAll());
            try {
                var started = new CountDownLatch(1);
                var never = new CountDownLatch(1);
                Subtask<Object> grandchild = inner.fork(() -> {
                    started.countDown();
                    never.await();
                    return null;
                });
                started.await();
                gate.arriveAndAwait();
                trail.add("in section: inner cancelled=" + inner.isCancelled() + ", grandchild " + grandchild.state());
                cs.close();
                trail.add("after section: inner cancelled=" + inner.isCancelled());
                trail.add("inner join threw " + catchThrowable(inner::join).getClass().getSimpleName());
                inner.close();
                trail.add("grandchild " + grandchild.state());
            } finally {
                inner.close();
            }
            return null;
        });
        trail.assertContainsInOrder("cancelling", "in section: inner cancelled=false, grandchild RUNNING",
                "after section: inner cancelled=true", "inner join threw CancelledException", "grandchild CANCELLED");
    }

    @Test
    @Timeout(30)
    void critical_scopeOpenedInsideOnOwnerThread_shieldedFromEnclosingScopeUntilSectionEnds() throws Exception {
        var started = new CountDownLatch(1);
        try (var outer = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("outer"))) {
            var cs = Cancellation.critical("owner-section");
            try (var inner = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("inner"))) {
                Subtask<Object> grandchild = inner.fork(() -> {
                    started.countDown();
                    return TestSupport.blockUntilInterrupted();
                });
                started.await();
                awaitBlocked(threadOf(grandchild), WAIT);

                outer.cancel();
                assertThat(inner.isCancelled()).as("shielded while the section is open").isFalse();
                assertThat(grandchild.state()).isEqualTo(Subtask.State.RUNNING);

                cs.close();
                assertThat(inner.isCancelled()).as("cancelled when the section ends").isTrue();
                assertThatThrownBy(inner::join).isInstanceOf(CancelledException.class).hasMessageContaining("'outer'");
                assertThat(grandchild.state()).isEqualTo(Subtask.State.CANCELLED);
            }
            assertThatThrownBy(outer::join).isInstanceOf(CancelledException.class);
        }
    }

    @Test
    @Timeout(30)
    void sectionClose_onAnotherThread_throwsWrongThreadException() throws Exception {
        var gate = new Gate();
        var section = new AtomicReference<Cancellation.Section>();
        try (var scope = TaskScope.open()) {
            Subtask<Object> child = scope.fork(() -> {
                var cs = Cancellation.critical("owned");
                section.set(cs);
                gate.arriveAndAwait();
                assertThat(Context.current().criticalDepth()).as("still open after the foreign close").isEqualTo(1);
                cs.close();
                assertThat(Context.current().criticalDepth()).isZero();
                return "closed by its thread";
            });
            gate.arrived.await();
            assertThatThrownBy(() -> section.get().close()).isInstanceOf(WrongThreadException.class)
                    .hasMessageContaining("'owned'");
            gate.proceed.countDown();
            scope.join();
            assertThat(child.get()).isEqualTo("closed by its thread");
        }
    }

    @Test
    @Timeout(30)
    void sectionClose_twice_throwsIllegalStateException() throws Exception {
        String outcome = inSubtask(() -> {
            var cs = Cancellation.critical("once");
            cs.close();
            assertThatThrownBy(cs::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("already closed");
            assertThat(Context.current().criticalDepth()).isZero();
            return "ok";
        });
        assertThat(outcome).isEqualTo("ok");
    }

    @Test
    @Timeout(30)
    void sectionClose_outOfOrder_throwsIllegalStateExceptionAndStaysUsable() throws Exception {
        String outcome = inSubtask(() -> {
            var outer = Cancellation.critical("outer");
            var inner = Cancellation.critical("inner");
            assertThatThrownBy(outer::close).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("reverse order");
            assertThat(Context.current().criticalDepth()).isEqualTo(2);
            inner.close();
            outer.close();
            assertThat(Context.current().criticalDepth()).isZero();
            return "ok";
        });
        assertThat(outcome).isEqualTo("ok");
    }

    @Test
    @Timeout(30)
    void critical_onPlainThread_hidesInterruptStatusFromIsRequested() {
        Thread.currentThread().interrupt();
        try {
            try (var cs = Cancellation.critical()) {
                assertThat(Cancellation.isRequested()).isFalse();
                Cancellation.check();
            }
            assertThat(Cancellation.isRequested()).isTrue();
            assertThatThrownBy(Cancellation::check).isInstanceOf(CancelledException.class);
        } finally {
            Thread.interrupted();
        }
    }
}

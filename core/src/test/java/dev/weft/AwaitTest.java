package dev.weft;

import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.awaitBlocked;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link Cancellation#await(Duration)}: the stop-event wait, in both modes, shielded in sections. */
class AwaitTest {

    @Test
    @Timeout(30)
    void await_periodicWorker_stopsCleanlyAndRunsTheCodeAfterTheLoop() throws Exception {
        var firstRound = new CountDownLatch(1);
        var afterLoop = new AtomicBoolean();
        Subtask<Integer> worker;
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            worker = scope.fork(() -> {
                int rounds = 0;
                while (!Cancellation.await(Duration.ofMillis(1))) {
                    rounds++;
                    firstRound.countDown();
                }
                afterLoop.set(true);              // a Thread.sleep loop would never get here
                return rounds;
            });
            await(firstRound);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(afterLoop).isTrue();
        assertThat(worker.state()).isEqualTo(Subtask.State.SUCCESS);
        assertThat(worker.get()).isPositive();
    }

    @Test
    @Timeout(30)
    void await_timeoutWithoutCancellation_returnsFalse() throws Exception {
        try (var scope = TaskScope.open()) {
            Subtask<Boolean> s = scope.fork(() -> Cancellation.await(Duration.ofMillis(20)));
            scope.join();
            assertThat(s.get()).isFalse();
        }
        assertThat(Cancellation.await(Duration.ZERO)).as("zero only checks").isFalse();
        assertThat(Cancellation.await(Duration.ofMillis(-5))).isFalse();
    }

    @Test
    @Timeout(30)
    void await_cancelledWhileWaiting_returnsTrueInBothModes() throws Exception {
        for (boolean interrupts : new boolean[] {true, false}) {
            var result = new AtomicReference<Boolean>();
            try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withInterrupts(interrupts))) {
                Subtask<Object> s = scope.fork(() -> {
                    result.set(Cancellation.await(Duration.ofHours(1)));
                    return null;
                });
                awaitBlocked(s);
                scope.cancel();
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
                assertThat(s.state()).as("await never throws on cancellation").isEqualTo(Subtask.State.SUCCESS);
            }
            assertThat(result.get()).as("interrupts=%s", interrupts).isTrue();
        }
    }

    @Test
    @Timeout(30)
    void await_insideCriticalSection_shieldedForTheWholeTimeout() throws Exception {
        var inSection = new CountDownLatch(1);
        var cancelled = new CountDownLatch(1);
        var insideResult = new AtomicReference<Boolean>();
        var afterResult = new AtomicReference<Boolean>();
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            scope.fork(() -> {
                try (var cs = Cancellation.critical("checkpoint")) {
                    inSection.countDown();
                    cancelled.await();                           // not interrupted inside the section
                    insideResult.set(Cancellation.await(Duration.ofMillis(50)));
                }
                afterResult.set(Cancellation.await(Duration.ofHours(1)));   // delivered at the exit
                return null;
            });
            await(inSection);
            scope.cancel();
            cancelled.countDown();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(insideResult.get()).as("shielded inside the section").isFalse();
        assertThat(afterResult.get()).isTrue();
    }

    @Test
    @Timeout(30)
    void await_outsideAnyScope_returnsTrueWhenInterruptedAndKeepsTheStatus() throws Exception {
        var result = new AtomicReference<Boolean>();
        var status = new AtomicBoolean();
        Thread t = Thread.ofPlatform().start(() -> {
            result.set(Cancellation.await(Duration.ofHours(1)));
            status.set(Thread.currentThread().isInterrupted());
        });
        TestSupport.awaitBlocked(t, TestSupport.WAIT);
        t.interrupt();
        t.join();
        assertThat(result.get()).isTrue();
        assertThat(status).as("await does not clear the interrupt status").isTrue();
    }

    @Test
    @Timeout(30)
    void await_foreignInterruptInsideTask_doesNotEndTheWaitAndIsKept() throws Exception {
        var result = new AtomicReference<Boolean>();
        var status = new AtomicBoolean();
        try (var scope = TaskScope.open()) {
            Subtask<Object> s = scope.fork(() -> {
                result.set(Cancellation.await(Duration.ofMillis(200)));
                status.set(Thread.currentThread().isInterrupted());
                return null;
            });
            awaitBlocked(s);
            TestSupport.threadOf(s).interrupt();        // not a Weft cancellation
            scope.join();
        }
        assertThat(result.get()).as("a foreign interrupt is not a cancellation").isFalse();
        assertThat(status).as("kept for the code after the wait").isTrue();
    }

    @Test
    void await_nullTimeout_throwsNullPointerException() {
        assertThatThrownBy(() -> Cancellation.await(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("timeout");
    }
}

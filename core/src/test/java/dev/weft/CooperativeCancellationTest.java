package dev.weft;

import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.WAIT;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.awaitBlockedIn;
import static dev.weft.TestSupport.threadOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code Configuration.withInterrupts(false)}: cancellation sets the state, closes {@code onCancel}
 * resources and wakes {@link Cancellation#await}, and never calls {@link Thread#interrupt()};
 * nested scopes inherit the setting unless they set it again.
 */
class CooperativeCancellationTest {

    @Test
    @Timeout(30)
    void cancel_cooperativeScope_setsStateWithoutInterrupting() throws Exception {
        var started = new CountDownLatch(1);
        var interruptedAtEnd = new AtomicBoolean(true);
        Subtask<Integer> loop;
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withInterrupts(false))) {
            loop = scope.fork(() -> {
                started.countDown();
                int steps = 0;
                while (!Cancellation.isRequested()) {
                    steps++;
                    Thread.onSpinWait();
                }
                interruptedAtEnd.set(Thread.currentThread().isInterrupted());
                return steps;
            });
            await(started);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(loop.state()).as("the loop ended cleanly and returned").isEqualTo(Subtask.State.SUCCESS);
        assertThat(interruptedAtEnd).as("no interrupt in a cooperative scope").isFalse();
    }

    @Test
    @Timeout(30)
    void cancel_cooperativeScope_closesOnCancelResourceAndWakesAwait() throws Exception {
        var closed = new CountDownLatch(1);
        var awaitResult = new AtomicReference<Boolean>();
        var interrupted = new AtomicBoolean(true);
        var registered = new CountDownLatch(2);
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withInterrupts(false))) {
            scope.fork(() -> {
                Cancellation.onCancel(closed::countDown);
                registered.countDown();
                closed.await();               // not interrupted: the close releases it
                return null;
            });
            Subtask<Object> waiter = scope.fork(() -> {
                registered.countDown();
                awaitResult.set(Cancellation.await(Duration.ofHours(1)));
                interrupted.set(Thread.currentThread().isInterrupted());
                return null;
            });
            await(registered);
            awaitBlocked(waiter);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(closed.getCount()).isZero();
        assertThat(awaitResult.get()).as("await woke on the cancellation").isTrue();
        assertThat(interrupted).isFalse();
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    @Timeout(30)
    void cancel_ownerOfANestedScopeBlockedInJoin_wokenByItsOwnDelivery_joinReportsItDespiteAStraggler(boolean interrupts)
            throws Exception {
        // The canceller does not wake the owner of a nested scope when it marks that scope: the
        // owner's own delivery (an interrupt, or an unpark without interrupts) comes right after
        // the scope's subtasks were cancelled, and it alone must get the owner out of join(), even
        // though the nested subtask ignores the cancellation (nothing else would wake the owner).
        var childStarted = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var innerOutcome = new AtomicReference<Throwable>();
        Subtask<Object> owner;
        try {
            try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withInterrupts(interrupts))) {
                owner = scope.fork("owner", () -> {
                    try (var inner = TaskScope.open(Joiner.awaitAll(), c -> c.withGrace(Duration.ofMillis(50)))) {
                        inner.fork(() -> {
                            childStarted.countDown();
                            ShutdownSupport.ignoreInterruptsUntil(new CountDownLatch(0), release);
                            return null;
                        });
                        inner.join();
                    } catch (CancelledException e) {
                        innerOutcome.set(e);
                        throw e;
                    }
                    return null;
                });
                await(childStarted);
                awaitBlockedIn(threadOf(owner), "join", WAIT);
                scope.cancel();
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            }
        } finally {
            release.countDown();
        }
        assertThat(innerOutcome.get()).as("the owner's join() reported the cancellation")
                .isInstanceOf(CancelledException.class)
                .hasMessageContaining("was cancelled because subtask #1 'owner'");
        assertThat(owner.state()).isEqualTo(Subtask.State.CANCELLED);
    }

    @Test
    @Timeout(30)
    void withInterrupts_inheritedByNestedScopes_unlessSetAgain() throws Exception {
        var inheritedInterrupted = new AtomicBoolean(true);
        var overriddenInterrupted = new AtomicBoolean(false);
        var ready = new CountDownLatch(2);
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withInterrupts(false))) {
            scope.fork(() -> {
                try (var inner = TaskScope.open(Joiner.awaitAll())) {       // inherits: cooperative
                    inner.fork(() -> {
                        ready.countDown();
                        while (!Cancellation.isRequested()) {
                            Thread.onSpinWait();
                        }
                        inheritedInterrupted.set(Thread.currentThread().isInterrupted());
                        return null;
                    });
                    inner.join();
                }
                return null;
            });
            scope.fork(() -> {
                try (var inner = TaskScope.open(Joiner.awaitAll(), c -> c.withInterrupts(true))) {
                    inner.fork(() -> {
                        ready.countDown();
                        try {
                            new CountDownLatch(1).await();
                        } catch (InterruptedException e) {
                            overriddenInterrupted.set(true);
                        }
                        return null;
                    });
                    inner.join();
                }
                return null;
            });
            await(ready);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(inheritedInterrupted).as("a nested scope inherits withInterrupts(false)").isFalse();
        assertThat(overriddenInterrupted).as("withInterrupts(true) in a nested scope interrupts again").isTrue();
    }

    /**
     * The reason for the setting: an interrupt closes a shared {@code FileChannel} for every task
     * that uses it. In a cooperative scope the channel stays open and every record is written.
     */
    @Test
    @Timeout(60)
    void sharedFileChannel_cooperativeScope_survivesCancellation(@TempDir Path dir) throws Exception {
        assertThat(writeUntilCancelled(dir.resolve("interrupts.log"), true))
                .as("with interrupts, the cancellation closes the shared channel").isFalse();
        assertThat(writeUntilCancelled(dir.resolve("cooperative.log"), false))
                .as("cooperative: the shared channel is still open").isTrue();
    }

    /**
     * Four writers share one channel: each writes a record, waits for the stop, then writes its last
     * record, as a checkpointing worker does. Returns whether the channel is still open afterwards.
     */
    private static boolean writeUntilCancelled(Path file, boolean interrupts) throws Exception {
        byte[] record = "record\n".getBytes();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            var written = new CountDownLatch(4);
            var records = new AtomicInteger();
            try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withInterrupts(interrupts))) {
                java.util.List<Subtask<Object>> writers = new java.util.ArrayList<>();
                for (int w = 0; w < 4; w++) {
                    writers.add(scope.fork(() -> {
                        ch.write(ByteBuffer.wrap(record));
                        records.incrementAndGet();
                        written.countDown();
                        Cancellation.await(Duration.ofHours(1));      // the stop event
                        ch.write(ByteBuffer.wrap(record));            // the last record: torn by an interrupt
                        records.incrementAndGet();
                        return null;
                    }));
                }
                await(written);
                for (Subtask<Object> w : writers) {
                    awaitBlocked(w);
                }
                scope.cancel();
                try {
                    scope.join();
                } catch (CancelledException expected) {
                    // the cancellation we asked for
                }
            }
            if (!interrupts) {
                assertThat(records).as("every writer wrote its last record").hasValue(8);
                assertThat(Files.size(file)).isEqualTo(8L * record.length);
            }
            return ch.isOpen();
        }
    }
}

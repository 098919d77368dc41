package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.FAILED;
import static dev.weft.TaskScope.Subtask.State.RUNNING;
import static dev.weft.TaskScope.Subtask.State.SUCCESS;
import static dev.weft.TestSupport.WAIT;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static dev.weft.TestSupport.flockOf;
import static dev.weft.TestSupport.threadOf;
import static dev.weft.TestSupport.whenBlockedIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fault injection: subtasks, thread factories and owners that misbehave. Each test asserts the
 * documented outcome and that nothing leaks: every thread the scope started has ended and the global
 * registry holds no root and no lingering scope of the test. (The plain behaviours, without the
 * faults, are covered by the feature tests: {@code GraceTest}, {@code CriticalSectionTest},
 * {@code OnCancelTest}, {@code ThreadFactoryTest}, {@code JoinTest}, {@code CloseTest}.)
 */
@Tag(Reliability.TAG)
class FaultTest {

    private static final Duration GRACE = Duration.ofMillis(300);

    private Reliability.RegistrySnapshot before;

    @BeforeEach
    void snapshotRegistry() {
        before = Reliability.RegistrySnapshot.take();
    }

    /** Every given thread ends (bounded wait) and the registry holds nothing new. */
    private void assertNothingLeaks(Thread... threads) throws Exception {
        for (Thread t : threads) {
            if (t != null) {
                TestSupport.awaitTerminated(t, WAIT);
            }
        }
        assertThat(Reliability.registryLeftovers(before, WAIT)).as("scopes left in the global registry").isEmpty();
    }

    // ---------------------------------------------------------------------------------------
    // Subtasks that fight cancellation

    @Test
    @Timeout(30)
    void swallowsInterruptsInALoop_reportedAsStragglerLingersThenEndsWithoutLeak() throws Exception {
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var swallowed = new AtomicInteger();
        Subtask<String> swallower = null;
        Flock flock = null;
        GracePeriodExceededException report = null;
        try {
            try (var scope = TaskScope.open(Joiner.<String>awaitAll(), c -> c.withName("swallow").withGrace(GRACE))) {
                flock = flockOf(scope);
                swallower = scope.fork("swallower", () -> {
                    started.countDown();
                    for (;;) {
                        try {
                            release.await();
                            return "done";
                        } catch (InterruptedException e) {
                            swallowed.incrementAndGet();
                        }
                    }
                });
                await(started);
                awaitBlocked(swallower);
                scope.cancel();
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            }
        } catch (GracePeriodExceededException e) {
            report = e;
        } finally {
            release.countDown();
        }
        assertThat(report).as("close() reports the straggler").isNotNull();
        assertThat(report.stragglers()).singleElement().satisfies(s -> assertThat(s.task()).isEqualTo("swallower"));
        assertThat(swallowed).as("the interrupt was swallowed").hasPositiveValue();
        TestSupport.awaitTerminated(swallower);
        assertThat(swallower.state()).as("cancelled, but it returned a value").isEqualTo(SUCCESS);
        assertThat(flock.liveCount()).isZero();
        assertNothingLeaks(threadOf(swallower));
    }

    @Test
    @Timeout(30)
    void reInterruptsItself_criticalCleanupRunsUndisturbedThenCancellationIsDelivered() throws Exception {
        var sawInterruptInside = new AtomicBoolean(true);
        var restoredAfter = new AtomicBoolean();
        var cleanedUp = new AtomicBoolean();
        var spins = new AtomicInteger();
        Subtask<String> idiom;
        Subtask<String> spinner;
        try (var scope = TaskScope.open(Joiner.<String>awaitAll())) {
            idiom = scope.fork(() -> {
                try {
                    blockUntilInterrupted();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();       // the usual idiom: restore the status
                }
                try (var cs = Cancellation.critical("cleanup")) {
                    sawInterruptInside.set(Thread.currentThread().isInterrupted());
                    Thread.sleep(20);                          // would throw at once if the status were set
                    cleanedUp.set(true);
                }
                restoredAfter.set(Thread.currentThread().isInterrupted());
                Cancellation.check();
                return "unreachable";
            });
            spinner = scope.fork(() -> {
                // Re-interrupts itself in a loop: every blocking call then fails at once; it must still end.
                for (int i = 0; i < 10_000; i++) {
                    try {
                        Thread.sleep(Duration.ofHours(1));
                    } catch (InterruptedException e) {
                        spins.incrementAndGet();
                        Thread.currentThread().interrupt();
                    }
                }
                return "spun";
            });
            awaitBlocked(idiom);
            awaitBlocked(spinner);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(sawInterruptInside).as("the section cleared the restored interrupt").isFalse();
        assertThat(cleanedUp).isTrue();
        assertThat(restoredAfter).as("the exit delivered the cancellation again").isTrue();
        assertThat(idiom.state()).isEqualTo(CANCELLED);
        assertThat(spins).hasValue(10_000);
        assertThat(spinner.state()).isEqualTo(SUCCESS);
        assertNothingLeaks(threadOf(idiom), threadOf(spinner));
    }

    @Test
    @Timeout(30)
    @SuppressWarnings("finally")
    void throwsFromFinally_unrelatedExceptionIsAFailureAndWrappedInterruptIsCancellation() throws Exception {
        var trigger = new IllegalStateException("trigger");
        var fromFinally = new IllegalStateException("finally block failed");
        var blocked = new CountDownLatch(2);
        Subtask<Object> replaces;
        Subtask<Object> wraps;
        Throwable thrown;
        try (var scope = TaskScope.open()) {
            replaces = scope.fork(() -> {
                try {
                    blocked.countDown();
                    return blockUntilInterrupted();
                } finally {
                    throw fromFinally;                         // replaces the InterruptedException
                }
            });
            wraps = scope.fork(() -> {
                try {
                    blocked.countDown();
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    throw new IllegalStateException("cleanup after interrupt", e);
                }
            });
            await(blocked);
            awaitBlocked(replaces);
            awaitBlocked(wraps);
            scope.fork(() -> {
                throw trigger;
            });
            thrown = catchThrowable(scope::join);
        }
        assertThat(thrown).isInstanceOf(ExecutionException.class).cause().isSameAs(trigger);
        assertThat(replaces.state()).isEqualTo(FAILED);
        assertThat(replaces.exception()).isSameAs(fromFinally);
        assertThat(thrown.getSuppressed()).as("a failure not caused by the cancellation is attached").containsExactly(fromFinally);
        assertThat(wraps.state()).as("an exception caused by the interrupt is a cancellation").isEqualTo(CANCELLED);
        assertNothingLeaks(threadOf(replaces), threadOf(wraps));
    }

    @Test
    @Timeout(30)
    void throwsStackOverflowAndOutOfMemoryError_causeAndSuppressedNeverSwallowed() throws Exception {
        var overflow = new StackOverflowError("thrown, not provoked");
        var oom = new OutOfMemoryError("thrown while being cancelled");
        var inSection = new OutOfMemoryError("thrown inside a critical section");
        var blocked = new CountDownLatch(1);
        List<Subtask<Object>> all = new ArrayList<>();
        Subtask<Object> sectionThrower;
        Throwable thrown;
        try (var scope = TaskScope.open()) {
            all.add(scope.fork(() -> {
                try {
                    blocked.countDown();
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    throw oom;
                }
            }));
            await(blocked);
            awaitBlocked(all.get(0));
            all.add(scope.fork(() -> {
                throw overflow;
            }));
            thrown = catchThrowable(scope::join);
        }
        assertThat(thrown).isInstanceOf(ExecutionException.class).cause().isSameAs(overflow);
        assertThat(thrown.getSuppressed()).containsExactly(oom);
        assertThat(all).extracting(Subtask::state).containsExactly(FAILED, FAILED);

        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            sectionThrower = scope.fork(() -> {
                try (var cs = Cancellation.critical("commit")) {
                    throw inSection;
                }
            });
            scope.join();
        }
        assertThat(sectionThrower.state()).isEqualTo(FAILED);
        assertThat(sectionThrower.exception()).as("readable from the subtask in a supervisor scope").isSameAs(inSection);
        List<Thread> threads = new ArrayList<>();
        all.forEach(s -> threads.add(threadOf(s)));
        threads.add(threadOf(sectionThrower));
        assertNothingLeaks(threads.toArray(Thread[]::new));
    }

    @Test
    @Timeout(30)
    void onCancelResourceThrowsOutOfMemoryError_attachedToJoinsExceptionNotThrownIntoTheCanceller() throws Exception {
        var oom = new OutOfMemoryError("thrown by close()");
        var registered = new CountDownLatch(1);
        Subtask<Object> task;
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            task = scope.fork(() -> {
                Cancellation.onCancel(() -> {
                    throw oom;
                });
                registered.countDown();
                return blockUntilInterrupted();
            });
            await(registered);
            awaitBlocked(task);
            scope.cancel();                       // hands close() to a closer thread: must not throw
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class)
                    .satisfies(e -> assertThat(e.getSuppressed()).containsExactly(oom));
        }
        assertThat(task.state()).isEqualTo(CANCELLED);
        assertThat(task.exception()).isInstanceOf(InterruptedException.class);
        assertNothingLeaks(threadOf(task));
    }

    @Test
    @Timeout(30)
    @SuppressWarnings("try")      // closes the client socket itself, inside its try-with-resources
    void blocksInNonInterruptibleSocketRead_stragglerUntilTheSocketClosesThenCancelledWithoutLeak() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (var server = new ServerSocket(0, 1, loopback);
             var client = new Socket(loopback, server.getLocalPort());
             var accepted = server.accept()) {
            Subtask<Integer> reader = null;
            GracePeriodExceededException report = null;
            // Platform threads: a socket read there ignores Thread.interrupt().
            try (var scope = TaskScope.open(Joiner.<Integer>awaitAll(), c -> c.withGrace(GRACE)
                    .withThreadFactory(Thread.ofPlatform().name("reader").factory()))) {
                reader = scope.fork(() -> client.getInputStream().read());
                ShutdownSupport.awaitFrame(threadOf(reader), e -> e.getMethodName().startsWith("read")
                        && e.getClassName().contains("Socket"), WAIT);
                scope.cancel();
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            } catch (GracePeriodExceededException e) {
                report = e;
            }
            assertThat(report).as("the interrupt did not unblock the read").isNotNull();
            assertThat(report.stragglers()).singleElement()
                    .satisfies(s -> assertThat(s.stuckIn()).containsIgnoringCase("read"));
            assertThat(reader.state()).isEqualTo(RUNNING);
            client.close();                           // what onCancel would have done
            TestSupport.awaitTerminated(reader);
            assertThat(reader.state()).as("an I/O exception while interrupted counts as the cancellation")
                    .isEqualTo(CANCELLED);
            assertThat(reader.exception()).isInstanceOf(SocketException.class);
            assertNothingLeaks(threadOf(reader));
        }
    }

    @Test
    @Timeout(30)
    void cancelsItsOwnScopeInsideCriticalSection_deferredToTheExitThenCancelled() throws Exception {
        var reason = new IllegalStateException("giving up");
        var insideRequested = new AtomicBoolean(true);
        var insideInterrupted = new AtomicBoolean(true);
        var afterInterrupted = new AtomicBoolean();
        var siblingBlocked = new CountDownLatch(1);
        Subtask<Object> sibling;
        Subtask<Object> self;
        Throwable thrown;
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            sibling = scope.fork(() -> {
                siblingBlocked.countDown();
                return blockUntilInterrupted();
            });
            await(siblingBlocked);
            awaitBlocked(sibling);
            self = scope.fork(() -> {
                try (var cs = Cancellation.critical()) {
                    scope.cancel(reason);
                    insideRequested.set(Cancellation.isRequested());
                    insideInterrupted.set(Thread.currentThread().isInterrupted());
                    TestSupport.awaitTerminated(threadOf(sibling), WAIT);   // the sibling was cancelled meanwhile
                }
                afterInterrupted.set(Thread.currentThread().isInterrupted());
                Cancellation.check();
                return "unreachable";
            });
            thrown = catchThrowable(scope::join);
        }
        assertThat(thrown).isInstanceOf(CancelledException.class).cause().isSameAs(reason);
        assertThat(insideRequested).isFalse();
        assertThat(insideInterrupted).isFalse();
        assertThat(afterInterrupted).isTrue();
        assertThat(sibling.state()).isEqualTo(CANCELLED);
        assertThat(self.state()).isEqualTo(CANCELLED);
        assertNothingLeaks(threadOf(sibling), threadOf(self));
    }

    @Test
    @Timeout(30)
    void forksIntoNestedScopeDuringCancellation_unshieldedStartsNothingShieldedRunsToTheEnd() throws Exception {
        var unshielded = new AtomicReference<Subtask<String>>();
        var unshieldedJoin = new AtomicReference<Throwable>();
        var shielded = new AtomicReference<Subtask<String>>();
        var blocked = new CountDownLatch(2);
        Subtask<Object> a;
        Subtask<Object> b;
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            a = scope.fork(() -> {
                try {
                    blocked.countDown();
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    try (var nested = TaskScope.open(Joiner.<String>awaitAll())) {
                        unshielded.set(nested.fork(() -> "cleanup"));
                        unshieldedJoin.set(catchThrowable(nested::join));
                    }
                    throw e;
                }
            });
            b = scope.fork(() -> {
                try {
                    blocked.countDown();
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    try (var cs = Cancellation.critical("cleanup");
                         var nested = TaskScope.open(Joiner.<String>awaitAll())) {
                        shielded.set(nested.fork(() -> {
                            Thread.sleep(10);                   // not interrupted: shielded
                            return "cleaned";
                        }));
                        nested.join();
                    }
                    throw e;
                }
            });
            await(blocked);
            awaitBlocked(a);
            awaitBlocked(b);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(unshielded.get().state()).as("a scope opened by a cancelled task starts cancelled").isEqualTo(CANCELLED);
        assertThat(threadOf(unshielded.get())).as("and starts no thread").isNull();
        assertThat(unshieldedJoin.get()).isInstanceOf(CancelledException.class);
        assertThat(shielded.get().state()).isEqualTo(SUCCESS);
        assertThat(shielded.get().get()).isEqualTo("cleaned");
        assertThat(a.state()).isEqualTo(CANCELLED);
        assertThat(b.state()).isEqualTo(CANCELLED);
        assertNothingLeaks(threadOf(a), threadOf(b), threadOf(shielded.get()));
    }

    // ---------------------------------------------------------------------------------------
    // Thread factories that fail

    @Test
    @Timeout(30)
    void threadFactoryThrowsOrReturnsNull_forkRejectedScopeUsableNothingLeaks() throws Exception {
        var failure = new IllegalStateException("no threads today");
        var error = new OutOfMemoryError("unable to create native thread");
        var calls = new AtomicInteger();
        List<Thread> made = new ArrayList<>();
        ThreadFactory flaky = r -> {
            switch (calls.getAndIncrement() % 4) {
                case 0 -> throw failure;
                case 1 -> throw error;
                case 2 -> {
                    return null;
                }
                default -> {
                    Thread t = Thread.ofPlatform().unstarted(r);
                    made.add(t);
                    return t;
                }
            }
        };
        List<Subtask<String>> good = new ArrayList<>();
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withThreadFactory(flaky))) {
            for (int round = 0; round < 3; round++) {
                assertThatThrownBy(() -> scope.fork(() -> "x")).isInstanceOf(RejectedExecutionException.class)
                        .cause().isSameAs(failure);
                assertThatThrownBy(() -> scope.fork(() -> "x")).as("an Error from the factory, as from Thread.start()")
                        .isInstanceOf(RejectedExecutionException.class).cause().isSameAs(error);
                assertThatThrownBy(() -> scope.fork(() -> "x")).isInstanceOf(RejectedExecutionException.class)
                        .hasMessageContaining("returned null");
                int n = round;
                good.add(scope.fork(() -> "ok" + n));
            }
            assertThat(scope.join()).containsExactly("ok0", "ok1", "ok2");
        }
        assertThat(good).extracting(Subtask::state).containsOnly(SUCCESS);
        assertNothingLeaks(made.toArray(Thread[]::new));
    }

    // ---------------------------------------------------------------------------------------
    // Owners interrupted

    @Test
    @Timeout(30)
    void ownerInterruptedInJoin_joinThrowsScopeNotCancelledCloseCleansUp() throws Exception {
        var blocked = new CountDownLatch(1);
        Subtask<Object> child;
        Thread owner = Thread.currentThread();
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            child = scope.fork(() -> {
                blocked.countDown();
                return blockUntilInterrupted();
            });
            await(blocked);
            var interrupter = whenBlockedIn(owner, "join", owner::interrupt);
            assertThatThrownBy(scope::join).isInstanceOf(InterruptedException.class);
            interrupter.get();
            assertThat(scope.isCancelled()).isFalse();
            assertThat(child.state()).isEqualTo(RUNNING);
        }                                             // close() cancels the child and waits for it
        assertThat(child.state()).isEqualTo(CANCELLED);
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
        assertNothingLeaks(threadOf(child));
    }

    @Test
    @Timeout(30)
    void ownerInterruptedInClose_keepsWaitingRestoresInterruptNothingLeaks() throws Exception {
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        Subtask<Object> child;
        Thread owner = Thread.currentThread();
        var closing = whenBlockedIn(owner, "close", () -> {
            owner.interrupt();
            release.countDown();
        });
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            child = scope.fork(() -> {
                ShutdownSupport.ignoreInterruptsUntil(started, release);
                return "released";
            });
            await(started);
            scope.cancel();
            // join() would stop at the owner's interrupt; go straight to close(), which must not.
        } finally {
            release.countDown();
        }
        assertThat(Thread.interrupted()).as("close() restored the owner's interrupt").isTrue();
        closing.get();
        assertThat(child.state()).isEqualTo(SUCCESS);
        assertNothingLeaks(threadOf(child));
    }
}

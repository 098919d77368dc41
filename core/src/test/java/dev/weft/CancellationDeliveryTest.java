package dev.weft;

import static dev.weft.RegressionSupport.asyncRun;
import static dev.weft.RegressionSupport.finishes;
import static dev.weft.RegressionSupport.thrownBy;
import static dev.weft.TestSupport.WAIT;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.RegressionSupport.BlockingResource;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Cancellation delivery (issue 11, cause 1): whoever cancels ({@code scope.cancel()},
 * {@code Subtask.cancel()}, {@code Scopes.cancelAll()}) only marks, interrupts and hands off. It runs
 * no user code ({@code onCancel} closes, joiner callbacks) and waits for no other thread. The
 * {@code onCancel} closes run on Weft-owned platform daemon threads ({@code weft-oncancel*}), after
 * the interrupt; {@code close()} waits for them within its grace period and names one still blocked
 * as a straggler. A close may re-enter Weft.
 */
class CancellationDeliveryTest {

    /** The three ways to cancel a subtask that holds an {@code onCancel} resource. */
    enum Canceller {
        SCOPE_CANCEL, SUBTASK_CANCEL, CANCEL_ALL;

        void cancel(TaskScope<?, ?, ?> scope, Subtask<?> subtask) {
            switch (this) {
                case SCOPE_CANCEL -> scope.cancel();
                case SUBTASK_CANCEL -> subtask.cancel();
                case CANCEL_ALL -> Scopes.cancelAll();
            }
        }
    }

    /** A cause whose {@code toString()} is user code: it counts its calls, and throws if asked to. */
    static final class LoudCause extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final AtomicInteger toStrings = new AtomicInteger();
        final Set<Thread> callers = java.util.concurrent.ConcurrentHashMap.newKeySet();
        final boolean fails;

        LoudCause(boolean fails) {
            super("loud", null, false, false);
            this.fails = fails;
        }

        @Override
        public String toString() {
            toStrings.incrementAndGet();
            callers.add(Thread.currentThread());
            if (fails) {
                throw new IllegalStateException("toString() is broken");
            }
            return "LoudCause: counted";
        }
    }

    @Test
    @Timeout(60)
    void cancelWithCause_cancellerNeverCallsTheCausesToString_onlyTheMessageReaderDoes() throws Exception {
        // The words of a reason are composed when read: cancel(cause) marks and interrupts (the
        // subtask, nested a scope down, ends) without running the cause's toString(); the threads
        // that build an exception's message (here the nested scope's owner, and join) do.
        var cause = new LoudCause(false);
        var started = new CountDownLatch(1);
        var ended = new CountDownLatch(1);
        try (var scope = TaskScope.open(Joiner.<Object>awaitAllSuccessfulOrThrow())) {
            scope.fork(() -> {
                try (var inner = TaskScope.open()) {
                    inner.fork(() -> {
                        try {
                            started.countDown();
                            blockUntilInterrupted();
                        } finally {
                            ended.countDown();
                        }
                        return null;
                    });
                    inner.join();
                }
                return null;
            });
            await(started);
            scope.cancel(cause);
            Thread canceller = Thread.currentThread();
            await(ended);
            assertThat(cause.callers).as("toString() was not called by the canceller").doesNotContain(canceller);
            Throwable e = thrownBy(scope::join);
            assertThat(e).isInstanceOf(CancelledException.class).hasMessageContaining("was cancelled: LoudCause: counted").hasCause(cause);
            assertThat(cause.callers).as("join, on this thread, composed the message").contains(canceller);
        }
    }

    @Test
    @Timeout(60)
    void cancelWithCause_causesToStringThrows_joinStillThrowsCancelledNamingTheCausesClass() throws Exception {
        var cause = new LoudCause(true);
        try (var scope = TaskScope.open(Joiner.<Object>awaitAllSuccessfulOrThrow())) {
            scope.fork(() -> {
                blockUntilInterrupted();
                return null;
            });
            scope.cancel(cause);
            Throwable e = thrownBy(scope::join);
            assertThat(e).isInstanceOf(CancelledException.class).hasCause(cause).hasMessageContaining("was cancelled: " + LoudCause.class.getName()
                    + " (whose toString() threw java.lang.IllegalStateException)");
        }
    }

    @ParameterizedTest
    @EnumSource(Canceller.class)
    @Timeout(60)
    void cancel_resourceCloseBlocks_returnsWithoutWaitingAndCloseNamesTheOnCancelClose(Canceller canceller)
            throws Exception {
        var resource = new BlockingResource("slow-resource-" + canceller);
        var registered = new CountDownLatch(1);
        var interrupted = new CountDownLatch(1);
        try {
            try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("delivery")
                    .withGrace(Duration.ofMillis(200)))) {
                Subtask<Object> holder = scope.fork("holder", () -> {
                    Cancellation.onCancel(resource);
                    registered.countDown();
                    try {
                        return blockUntilInterrupted();
                    } catch (InterruptedException e) {
                        interrupted.countDown();
                        throw e;
                    }
                });
                await(registered);

                var cancelled = asyncRun("test-canceller", () -> canceller.cancel(scope, holder));
                assertThat(finishes(cancelled, WAIT))
                        .as("%s returns while the resource's close() is still blocked", canceller).isTrue();
                assertThat(RegressionSupport.failureOf(cancelled)).as("the canceller does not throw").isNull();
                assertThat(interrupted.await(WAIT.toMillis(), TimeUnit.MILLISECONDS))
                        .as("the subtask was interrupted although the resource's close() is still blocked").isTrue();
                assertThat(resource.closing.await(WAIT.toMillis(), TimeUnit.MILLISECONDS))
                        .as("the onCancel resource is closed").isTrue();
                Thread closer = resource.closer.get();
                assertThat(closer.getName()).as("closed on a Weft-owned thread").startsWith("weft-oncancel");
                assertThat(closer.isVirtual()).as("a platform thread: saturated carriers cannot starve it").isFalse();
                assertThat(closer.isDaemon()).as("a daemon thread: it never holds the JVM up").isTrue();
                assertThat(resource.isBlockedInClose()).isTrue();

                if (canceller != Canceller.SUBTASK_CANCEL) {
                    thrownBy(scope::join);           // the scope is cancelled: bounded by the grace period
                }   // else the scope is not cancelled, and join() may wait, unbounded, for the subtask's close
                Throwable thrown = thrownBy(scope::close);

                assertThat(RegressionSupport.tree(thrown))
                        .as("close() waited only its grace period for the blocked onCancel close, then threw %s", thrown)
                        .filteredOn(t -> t instanceof GracePeriodExceededException)
                        .singleElement()
                        .satisfies(g -> assertThat(RegressionSupport.lines(g.getMessage()))
                                .as("one line names the blocked onCancel close and its resource")
                                .anyMatch(l -> l.contains("onCancel close") && l.contains(resource.toString())));
                if (canceller != Canceller.SUBTASK_CANCEL) {
                    assertThat(thrown).isInstanceOf(GracePeriodExceededException.class);
                }
            }
        } finally {
            resource.release();
        }
        assertThat(resource.closed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    }

    @Test
    @Timeout(60)
    @SuppressWarnings("try")        // the accepted socket is held open (the server sends nothing), not used
    void cancel_resourceIsReaderBlockedInReadLine_interruptUnblocksTheReadThenCloseGetsItsLock() throws Exception {
        try (var server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             var client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             var accepted = server.accept()) {                        // the server sends nothing
            var reading = new AtomicReference<Thread>();
            var readerClosed = new AtomicBoolean();
            try {
                Throwable joinThrew;
                Throwable closeThrew;
                Subtask<String> readerTask;
                try (var scope = TaskScope.open(Joiner.<String>awaitAll(), cfg -> cfg.withName("socket")
                        .withGrace(Duration.ofSeconds(10)))) {
                    readerTask = scope.fork("reader", () -> {
                        var reader = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8)) {
                            @Override
                            public void close() throws java.io.IOException {
                                super.close();                        // needs the lock readLine() holds
                                readerClosed.set(true);
                            }
                        };
                        Cancellation.onCancel(reader);
                        reading.set(Thread.currentThread());
                        return reader.readLine();
                    });
                    assertThat(RegressionSupport.eventually(() -> reading.get() != null, WAIT)).isTrue();
                    ShutdownSupport.awaitFrame(reading.get(), ShutdownSupport.frame("java.io.BufferedReader", "readLine"), WAIT);
                    TestSupport.awaitBlocked(reading.get(), WAIT);

                    var cancelled = asyncRun("test-canceller", scope::cancel);
                    assertThat(finishes(cancelled, WAIT)).as("cancel() does not wait for the reader's lock").isTrue();
                    joinThrew = thrownBy(scope::join);
                    closeThrew = thrownBy(scope::close);
                }
                assertThat(joinThrew).isInstanceOf(CancelledException.class);
                assertThat(closeThrew).as("close() completes: the interrupt ended the read, the close got its lock").isNull();
                assertThat(readerTask.state()).isNotEqualTo(Subtask.State.RUNNING);
                assertThat(readerClosed).as("the reader was closed once the read had ended").isTrue();
            } finally {
                client.close();                  // on a core that deadlocks: ends the read, frees the lock
            }
        }
    }

    @Test
    @Timeout(60)
    void cancel_resourceCloseClosesItsOwnRegistration_noHangAndScopeCloses() throws Exception {
        var registration = new AtomicReference<Cancellation.Registration>();
        var closeReturned = new CountDownLatch(1);
        var registered = new CountDownLatch(1);
        var holderThread = new AtomicReference<Thread>();
        AutoCloseable selfDeregistering = new AutoCloseable() {
            @Override
            public void close() {
                registration.get().close();         // re-enters Weft from inside the onCancel close
                closeReturned.countDown();
            }

            @Override
            public String toString() {
                return "self-deregistering resource";
            }
        };
        try {
            Throwable closeThrew;
            try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withGrace(Duration.ofSeconds(10)))) {
                scope.fork("holder", () -> {
                    holderThread.set(Thread.currentThread());
                    registration.set(Cancellation.onCancel(selfDeregistering));
                    registered.countDown();
                    return blockUntilInterrupted();
                });
                await(registered);
                var cancelled = asyncRun("test-canceller", scope::cancel);
                assertThat(finishes(cancelled, WAIT)).as("cancel() returns").isTrue();
                assertThat(closeReturned.await(WAIT.toMillis(), TimeUnit.MILLISECONDS))
                        .as("the close that closed its own registration returned").isTrue();
                thrownBy(scope::join);
                closeThrew = thrownBy(scope::close);
            }
            assertThat(closeThrew).as("close() of the scope completes").isNull();
        } finally {
            Thread t = holderThread.get();
            if (t != null) {
                t.interrupt();                       // on a core that hangs in cancel(): let the holder end
            }
        }
    }

    @Test
    @Timeout(60)
    @SuppressWarnings("try")        // the section is entered for its effect
    void subtaskCancelsOwnScope_resourceCloseEntersCriticalSection_noHang() throws Exception {
        var sectionEntered = new CountDownLatch(1);
        var closeReturned = new CountDownLatch(1);
        Throwable joinThrew;
        Throwable closeThrew;
        Subtask<Object> self;
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withGrace(Duration.ofSeconds(10)))) {
            self = scope.fork("self-canceller", () -> {
                Cancellation.onCancel(() -> {
                    try (var section = Cancellation.critical("closing")) {
                        sectionEntered.countDown();
                    }
                    closeReturned.countDown();
                });
                scope.cancel();                      // allowed: a subtask cancels its own scope
                return blockUntilInterrupted();
            });
            assertThat(closeReturned.await(WAIT.toMillis(), TimeUnit.MILLISECONDS))
                    .as("the close entered and left its critical section").isTrue();
            joinThrew = thrownBy(scope::join);
            closeThrew = thrownBy(scope::close);
        }
        assertThat(sectionEntered.getCount()).isZero();
        assertThat(joinThrew).isInstanceOf(CancelledException.class);
        assertThat(closeThrew).isNull();
        assertThat(self.state()).isEqualTo(Subtask.State.CANCELLED);
    }

    /** A joiner that records whether the thread running onComplete had its interrupt status set. */
    private static final class InterruptRecordingJoiner implements Joiner<Object, Void, RuntimeException> {
        final AtomicInteger calls;
        final AtomicInteger sawInterrupt;

        InterruptRecordingJoiner(AtomicInteger calls, AtomicInteger sawInterrupt) {
            this.calls = calls;
            this.sawInterrupt = sawInterrupt;
        }

        @Override
        public boolean onComplete(Subtask<Object> subtask) {
            calls.incrementAndGet();
            if (Thread.currentThread().isInterrupted()) {
                sawInterrupt.incrementAndGet();
            }
            return false;
        }

        @Override
        public Void result() {
            return null;
        }
    }

    @Test
    @Timeout(60)
    void cancelRacesWithCompletion_joinerOnCompleteNeverSeesAStrayInterrupt() throws Exception {
        int iterations = 5_000;
        var calls = new AtomicInteger();
        var sawInterrupt = new AtomicInteger();
        var lineUp = new CyclicBarrier(2);            // the completing subtask and the canceller
        var cancelDone = new CyclicBarrier(2);        // the canceller and the owner, per iteration
        var current = new AtomicReference<TaskScope<Object, Void, ?>>();
        var stop = new AtomicBoolean();
        var canceller = asyncRun("test-racing-canceller", () -> {
            while (true) {
                lineUp.await();
                if (stop.get()) {
                    return;
                }
                current.get().cancel();
                cancelDone.await();
            }
        });
        try {
            for (int i = 0; i < iterations; i++) {
                try (var scope = TaskScope.open(new InterruptRecordingJoiner(calls, sawInterrupt))) {
                    current.set(scope);
                    scope.fork(() -> {
                        lineUp.await();
                        return "done";                 // completes while the canceller cancels
                    });
                    thrownBy(scope::join);
                    cancelDone.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
        } finally {
            stop.set(true);
            thrownBy(() -> lineUp.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));   // lets the canceller see stop
            if (!finishes(canceller, WAIT)) {
                lineUp.reset();                    // breaks its barrier: it ends with BrokenBarrierException
                cancelDone.reset();
            }
        }
        assertThat(calls.get()).as("onComplete calls").isPositive();
        assertThat(sawInterrupt.get()).as("onComplete calls that ran with the interrupt status set, of %d", calls.get())
                .isZero();
    }

    @Test
    @Timeout(60)
    void scopeWithoutOnCancel_cancelAndClose_startsNoOnCancelThread() throws Exception {
        Set<Thread> before = onCancelThreads();
        var started = new CountDownLatch(4);
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            for (int i = 0; i < 4; i++) {
                scope.fork(() -> {
                    started.countDown();
                    return blockUntilInterrupted();
                });
            }
            await(started);
            scope.cancel();
            thrownBy(scope::join);
        }
        Set<Thread> after = onCancelThreads();
        after.removeAll(before);
        assertThat(after).as("threads started for onCancel closes by a scope that registered none").isEmpty();
    }

    private static Set<Thread> onCancelThreads() {
        Set<Thread> out = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("weft-oncancel")) {
                out.add(t);
            }
        }
        return out;
    }
}

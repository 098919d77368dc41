package dev.weft;

import static dev.weft.ShutdownSupport.ignoreInterruptsUntil;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.awaitBlockedIn;
import static dev.weft.TestSupport.awaitTerminated;
import static dev.weft.TestSupport.flockOf;
import static dev.weft.TestSupport.threadOf;
import static dev.weft.TestSupport.whenBlockedIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;

import dev.weft.GracePeriodExceededException.Straggler;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Grace-period close: {@code close()} is bounded by the grace period, names exactly the subtasks that
 * did not stop, keeps them visible until they end, reports their late failures, survives an
 * interrupt of the owner, and waits without bound by default.
 */
class GraceTest {

    /** Keeps the intentional warnings (the straggler that fails after close()) off the build log. */
    @RegisterExtension
    static final LogCapture LOG = new LogCapture();

    /** Scheduling margin on top of a grace period: generous, for a loaded 2-core machine. */
    private static final Duration MARGIN = Duration.ofSeconds(5);
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final AtomicInteger IDS = new AtomicInteger();

    /** One line of the exception message, in the format the issue documents. */
    private static final Pattern STRAGGLER_LINE = Pattern.compile(
            "  scope '([^']+)' task #(\\d+) '([^']+)' stuck in ([\\w$]+\\.[\\w$<>]+), running (\\d+(?:\\.\\d)?) s since fork, "
                    + "(\\d+(?:\\.\\d)?) s since cancelled "
                    + "\\((not in a critical section|in critical section '[^']+'|in a critical section)\\).*");

    private static String uniqueName(String prefix) {
        return prefix + "-" + IDS.incrementAndGet();
    }

    /** The grace exception thrown by {@code close()}, whether thrown itself or attached as suppressed. */
    private static GracePeriodExceededException graceExceeded(Throwable thrown) {
        if (thrown instanceof GracePeriodExceededException g) {
            return g;
        }
        assertThat(thrown).as("close() must report the stragglers").isNotNull();
        for (Throwable s : thrown.getSuppressed()) {
            if (s instanceof GracePeriodExceededException g) {
                return g;
            }
        }
        return fail("close() threw %s without a GracePeriodExceededException", thrown);
    }

    /**
     * Subtasks that ignore cancellation (they swallow interrupts in a loop) until the test releases
     * them. Closing it releases them and waits for their threads, so no straggler outlives its test.
     */
    private static final class Stubborn implements AutoCloseable {
        private final CountDownLatch release = new CountDownLatch(1);
        private final List<Subtask<Object>> forked = new ArrayList<>();

        /** Forks a stubborn subtask that, once released, returns what {@code then} returns; waits until it runs. */
        Subtask<Object> fork(TaskScope<Object, ?, ?> scope, String name, Callable<Object> then) throws InterruptedException {
            var started = new CountDownLatch(1);
            Subtask<Object> s = scope.fork(name, () -> {
                ignoreInterruptsUntil(started, release);
                return then.call();
            });
            forked.add(s);
            started.await();
            return s;
        }

        Subtask<Object> fork(TaskScope<Object, ?, ?> scope, String name) throws InterruptedException {
            return fork(scope, name, () -> "released");
        }

        /** Releases the subtasks and waits until their threads have ended. */
        void releaseAndAwait() throws InterruptedException, TimeoutException {
            release.countDown();
            for (Subtask<Object> s : forked) {
                awaitTerminated(threadOf(s), WAIT);
            }
        }

        @Override
        public void close() throws InterruptedException, TimeoutException {
            releaseAndAwait();
        }
    }

    @Test
    @Timeout(60)
    void close_childrenIgnoreInterrupts_throwsWithinGracePlusMargin() throws Exception {
        Duration grace = Duration.ofSeconds(1);
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName(uniqueName("bounded")).withGrace(grace));
             var stubborn = new Stubborn()) {
            Subtask<Object> a = stubborn.fork(scope, "stubborn-a");
            Subtask<Object> b = stubborn.fork(scope, "stubborn-b");

            long t0 = System.nanoTime();
            Throwable thrown = catchThrowable(scope::close);
            Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);

            GracePeriodExceededException e = graceExceeded(thrown);
            assertThat(e.grace()).isEqualTo(grace);
            assertThat(e.stragglers()).extracting(Straggler::task).containsExactly("stubborn-a", "stubborn-b");
            assertThat(elapsed).as("close waits out the grace period, then returns within a margin")
                    .isGreaterThanOrEqualTo(grace).isLessThan(grace.plus(MARGIN));
            // Java cannot kill threads: the stragglers are still running.
            assertThat(a.state()).isEqualTo(Subtask.State.RUNNING);
            assertThat(b.state()).isEqualTo(Subtask.State.RUNNING);
            assertThat(threadOf(a).isAlive() && threadOf(b).isAlive()).isTrue();
        }
    }

    @Test
    @Timeout(60)
    void close_stragglers_messageNamesTheCallEachIsStuckIn() throws Exception {
        String name = uniqueName("stuck-in");
        var started = new CountDownLatch(2);
        var release = new CountDownLatch(1);
        Subtask<?> waiter = null;
        Subtask<?> sleeper = null;
        GracePeriodExceededException e;
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName(name).withGrace(Duration.ofMillis(100)))) {
            try {
                waiter = scope.fork("waiter", () -> ignoreInterruptsUntil(started, release));
                sleeper = scope.fork("sleeper", () -> {
                    started.countDown();
                    while (release.getCount() > 0) {
                        try {
                            Thread.sleep(Duration.ofMinutes(1));
                        } catch (InterruptedException swallowed) {
                            // ignores cancellation; the test interrupts it again after releasing it
                        }
                    }
                });
                started.await();
                awaitBlocked(threadOf(waiter), WAIT);
                awaitBlocked(threadOf(sleeper), WAIT);
                e = graceExceeded(catchThrowable(scope::close));
            } finally {
                release.countDown();
                if (sleeper != null) {
                    threadOf(sleeper).interrupt();
                }
            }
        }
        // "stuck in FileInputStream.read": the call the task is blocked in, not a JDK internal.
        assertThat(e.stragglers()).extracting(Straggler::stuckIn).containsExactly("CountDownLatch.await", "Thread.sleep");
        assertThat(e.getMessage()).contains("task #1 'waiter' stuck in CountDownLatch.await, running ")
                .contains("task #2 'sleeper' stuck in Thread.sleep, running ")
                .contains(" since cancelled (not in a critical section)");
        awaitTerminated(threadOf(waiter), WAIT);
        awaitTerminated(threadOf(sleeper), WAIT);
    }

    @Test
    @Timeout(120)
    void close_10000ChildrenOf3SwallowInterrupts_reportsExactlyThose3() throws Exception {
        final int n = 10_000;
        Duration grace = Duration.ofSeconds(4);
        String name = uniqueName("ten-thousand");
        var started = new CountDownLatch(n);
        var release = new CountDownLatch(1);
        var never = new CountDownLatch(1);
        var ended = new CountDownLatch(n - 3);
        List<Subtask<Object>> all = new ArrayList<>(n);
        List<Subtask<Object>> stuck = new ArrayList<>();
        long beforeFork = System.nanoTime();
        GracePeriodExceededException e;
        Duration elapsed;
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName(name).withGrace(grace))) {
            try {
                for (int i = 1; i <= n; i++) {
                    Subtask<Object> s;
                    if (i == 17) {
                        s = scope.fork("stuck-a", () -> ignoreInterruptsUntil(started, release));
                    } else if (i == 5_000) {
                        s = scope.fork("stuck-b", () -> {
                            try (var cs = Cancellation.critical("flush")) {
                                ignoreInterruptsUntil(started, release);
                            }
                        });
                    } else if (i == 9_999) {
                        s = scope.fork("stuck-c", () -> {
                            try (var cs = Cancellation.critical()) {
                                ignoreInterruptsUntil(started, release);
                            }
                        });
                    } else {
                        s = scope.fork(() -> {
                            started.countDown();
                            try {
                                never.await();    // cooperative: the interrupt ends it
                            } finally {
                                ended.countDown();
                            }
                            return null;
                        });
                    }
                    all.add(s);
                    if (s.name().startsWith("stuck-")) {
                        stuck.add(s);
                    }
                }
                started.await();
                for (Subtask<Object> s : stuck) {
                    awaitBlocked(threadOf(s), WAIT);
                }
                // Cancel, and let the 9 997 cooperative children end first: on a loaded 2-core
                // machine, waking 10 000 virtual threads can take longer than the grace period,
                // and this test is about the report naming exactly the three stuck ones.
                scope.cancel();
                assertThat(ended.await(60, TimeUnit.SECONDS)).as("the cooperative children ended").isTrue();

                long t0 = System.nanoTime();
                Throwable thrown = catchThrowable(scope::close);
                elapsed = Duration.ofNanos(System.nanoTime() - t0);
                e = graceExceeded(thrown);
            } finally {
                release.countDown();
            }
        }
        Duration sinceFork = Duration.ofNanos(System.nanoTime() - beforeFork);

        assertThat(elapsed).isLessThan(grace.plus(MARGIN));
        List<Straggler> stragglers = e.stragglers();
        assertThat(stragglers).extracting(Straggler::task).containsExactly("stuck-a", "stuck-b", "stuck-c");
        assertThat(stragglers).extracting(Straggler::index).containsExactly(17, 5_000, 9_999);
        assertThat(stragglers).extracting(Straggler::scope).containsOnly(name);
        assertThat(stragglers).extracting(Straggler::thread)
                .containsExactly(threadOf(stuck.get(0)), threadOf(stuck.get(1)), threadOf(stuck.get(2)));
        assertThat(stragglers).extracting(Straggler::criticalSection).containsExactly(false, true, true);
        assertThat(stragglers).extracting(Straggler::criticalSectionName).containsExactly(null, "flush", null);
        for (Straggler s : stragglers) {
            assertThat(s.threadState()).isEqualTo(Thread.State.WAITING);
            assertThat(s.age()).isGreaterThanOrEqualTo(grace).isLessThanOrEqualTo(sinceFork);
            assertThat(s.stackTrace()).isNotEmpty()
                    .anySatisfy(f -> assertThat(f.getMethodName()).isEqualTo("ignoreInterruptsUntil"));
        }

        // The message is readable on its own: a header, then one line per straggler.
        List<String> lines = e.getMessage().lines().toList();
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0)).isEqualTo("scope '" + name + "' closed with 3 stragglers after a grace period of 4 s:");
        for (int i = 0; i < 3; i++) {
            Straggler s = stragglers.get(i);
            String line = lines.get(i + 1);
            Matcher m = STRAGGLER_LINE.matcher(line);
            assertThat(m.matches()).as("line %s matches the documented format", line).isTrue();
            assertThat(m.group(1)).isEqualTo(name);
            assertThat(Integer.parseInt(m.group(2))).isEqualTo(s.index());
            assertThat(m.group(3)).isEqualTo(s.task());
            assertThat(m.group(4)).isEqualTo(s.stuckIn());
            assertThat(Double.parseDouble(m.group(5))).isGreaterThanOrEqualTo(grace.toMillis() / 1000.0 - 0.05);
            assertThat(Double.parseDouble(m.group(6))).as("since cancelled: the grace period at least")
                    .isGreaterThanOrEqualTo(grace.toMillis() / 1000.0 - 0.05);
            assertThat(line).isEqualTo("  " + s.describe());
        }
        assertThat(lines.get(1)).contains("(not in a critical section)");
        assertThat(lines.get(2)).contains("(in critical section 'flush')");
        assertThat(lines.get(3)).contains("(in a critical section)");

        // Every cooperative child was cancelled and ended.
        for (Subtask<Object> s : stuck) {
            awaitTerminated(threadOf(s), WAIT);
        }
        assertThat(all).filteredOn(s -> !s.name().startsWith("stuck-"))
                .hasSize(n - 3)
                .allMatch(s -> s.state() == Subtask.State.CANCELLED);
    }

    @Test
    @Timeout(60)
    void close_stragglers_stayInDumpUntilTheyEnd() throws Exception {
        String name = uniqueName("dumped");
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName(name).withGrace(Duration.ofMillis(100)));
             var stubborn = new Stubborn()) {
            Subtask<Object> lingerer = stubborn.fork(scope, "lingerer");
            graceExceeded(catchThrowable(scope::close));

            String dump = Scopes.dump();
            assertThat(dump).contains("scope '" + name + "' closed");
            assertThat(dump).containsPattern("task #1 'lingerer' RUNNING, age [^\\n]*, cancel requested");
            assertThat(lingerer.state()).isEqualTo(Subtask.State.RUNNING);

            stubborn.releaseAndAwait();
            assertThat(lingerer.state()).isEqualTo(Subtask.State.SUCCESS);
            assertThat(Scopes.dump()).doesNotContain("scope '" + name + "'").doesNotContain("'lingerer'");
        }
    }

    @Test
    @Timeout(60)
    void close_stragglerFailsLater_failureIsReported() throws Exception {
        String name = uniqueName("late");
        var boom = new IllegalStateException("failed after the grace period of " + name);
        try (var incidents = new ShutdownSupport.Incidents();
             var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName(name).withGrace(Duration.ofMillis(100)));
             var stubborn = new Stubborn()) {
            Subtask<Object> late = stubborn.fork(scope, "late-failer", () -> {
                throw boom;
            });
            graceExceeded(catchThrowable(scope::close));
            stubborn.releaseAndAwait();

            Reports.Incident incident = incidents.await(i -> i.error() == boom, WAIT);
            assertThat(incident.kind()).isEqualTo("failure");
            assertThat(incident.message()).contains("'late-failer'").contains("'" + name + "'").contains(boom.getMessage());
            assertThat(late.state()).isEqualTo(Subtask.State.FAILED);
            assertThat(late.exception()).isSameAs(boom);
        }
    }

    @Test
    @Timeout(60)
    void close_ownerInterruptedWhileWaiting_keepsWaitingThenRestoresInterrupt() throws Exception {
        Duration grace = Duration.ofSeconds(2);
        Thread owner = Thread.currentThread();
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName(uniqueName("interrupted")).withGrace(grace));
             var stubborn = new Stubborn()) {
            stubborn.fork(scope, "stubborn");
            CompletableFuture<Void> interrupter = whenBlockedIn(owner, "close", owner::interrupt);

            long t0 = System.nanoTime();
            Throwable thrown = catchThrowable(scope::close);
            Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
            boolean interruptStatus = Thread.interrupted();

            interrupter.get(0, TimeUnit.SECONDS);          // the interrupt did land during close
            graceExceeded(thrown);
            assertThat(elapsed).as("close keeps waiting after the interrupt, bounded by the grace period")
                    .isGreaterThanOrEqualTo(grace).isLessThan(grace.plus(MARGIN));
            assertThat(interruptStatus).as("interrupt status restored after close").isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    @Timeout(60)
    void close_defaultGrace_waitsUntilChildEndsOnItsOwn() throws Exception {
        Duration dwell = Duration.ofMillis(1500);
        Thread owner = Thread.currentThread();
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName(uniqueName("unbounded")));
             var stubborn = new Stubborn()) {
            assertThat(flockOf(scope).grace).as("no grace period configured").isNull();
            Subtask<Object> child = stubborn.fork(scope, "stubborn");
            // Another thread checks that close() stays blocked well past any short default, then
            // releases the child.
            CompletableFuture<Void> releaser = whenBlockedIn(owner, "close", () -> {
                try {
                    long end = System.nanoTime() + dwell.toNanos();
                    while (System.nanoTime() < end) {
                        awaitBlockedIn(owner, "close", Duration.ofSeconds(1));      // still blocked in close
                        LockSupport.parkNanos(20_000_000);
                    }
                } finally {
                    stubborn.release.countDown();
                }
            });

            scope.cancel();      // the child ignores it
            scope.close();       // returns normally: the child ended within the (unbounded) grace

            releaser.get(WAIT.toSeconds(), TimeUnit.SECONDS);   // close was still blocked after the dwell
            assertThat(child.state()).isEqualTo(Subtask.State.SUCCESS);
        }
    }

    @Test
    @Timeout(30)
    void join_cancelledByAnotherThreadWhileTheOwnerWaits_boundedGrace_throwsOnceTheGraceEndsDespiteAStraggler()
            throws Exception {
        // With a grace period, the canceller wakes the owner parked in join() when it marks the
        // scope, so that join starts the grace period: nothing else would wake it, since the
        // straggler never ends on its own.
        Thread owner = Thread.currentThread();
        var trail = new EventTrail();
        String name = uniqueName("bounded-join");
        try (var stubborn = new Stubborn()) {
            var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName(name).withGrace(Duration.ofMillis(100)));
            try {
                stubborn.fork(scope, "straggler");
                CompletableFuture<Void> canceller = whenBlockedIn(owner, "join", () -> {
                    trail.add("cancelled");
                    scope.cancel();
                });
                Throwable joined = catchThrowable(scope::join);
                trail.add("join threw");
                canceller.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                assertThat(joined).isInstanceOf(CancelledException.class).hasMessageContaining(name);
                Throwable closed = catchThrowable(scope::close);
                assertThat(graceExceeded(closed).stragglers()).extracting(Straggler::task).containsExactly("straggler");
            } finally {
                stubborn.releaseAndAwait();
            }
        }
        trail.assertContainsInOrder("cancelled", "join threw");
    }

    @Test
    @Timeout(30)
    void join_cancelledByAnotherThreadWhileTheOwnerWaits_unboundedGrace_throwsOnlyOnceTheLastSubtaskEnded()
            throws Exception {
        // With the default, unbounded grace period the canceller leaves the owner parked in join():
        // it has nothing to do until the last subtask ends, and that end wakes it. join() must
        // still throw the cancellation, after that subtask ended and not before.
        Thread owner = Thread.currentThread();
        var trail = new EventTrail();
        String name = uniqueName("unbounded-join");
        try (var stubborn = new Stubborn();
             var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName(name))) {
            Subtask<Object> slow = stubborn.fork(scope, "slow", () -> {
                trail.add("slow ended");
                return "released";
            });
            CompletableFuture<Void> canceller = whenBlockedIn(owner, "join", () -> {
                scope.cancel();
                trail.add("cancelled");
                awaitBlockedIn(owner, "join", WAIT);       // cancelled, and still waiting for "slow"
                trail.add("owner still in join");
                stubborn.release.countDown();
            });
            Throwable joined = catchThrowable(scope::join);
            trail.add("join threw");
            canceller.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(joined).isInstanceOf(CancelledException.class).hasMessageContaining(name);
            assertThat(slow.state()).as("it ended on its own, after the cancellation").isEqualTo(Subtask.State.SUCCESS);
        }
        trail.assertContainsInOrder("cancelled", "owner still in join", "slow ended", "join threw");
    }
}

package dev.weft;

import static dev.weft.TestSupport.checkThrows;
import static dev.weft.TestSupport.spin;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The race at the heart of critical sections, stressed: cancellation ({@link Subtask#cancel()})
 * races with {@link Cancellation#critical()} entry and with the section's exit, with random spin
 * delays on both sides, one fresh subtask per trial, both sides released together by a spin latch.
 *
 * <p>Invariants, checked in every trial:
 * <ul>
 *   <li>between {@code critical()} returning and the section closing, the subtask never sees its
 *       interrupt status set, {@code isRequested()} reads false, {@code check()} does not throw, and
 *       its {@code onCancel} resource does not change state (closed or not, as at entry);</li>
 *   <li>no cancellation is lost across the exit: once the section is closed and {@code cancel()} has
 *       returned, the interrupt status is set, {@code isRequested()} is true, {@code check()} throws
 *       and the resource is closed.</li>
 * </ul>
 * The trial count is {@code -Dweft.race.trials} (default 100 000) and the random seed, printed at the
 * start, is {@code -Dweft.race.seed}: pass the printed seed to replay the same delays. The trials
 * stop early when the time budget {@code -Dweft.race.seconds} (default 60) runs out, as jcstress's
 * do: each trial hands off between two threads, so a machine whose cores are saturated by other
 * work (about 4.5 s for 100 000 trials when quiet; 40 times slower next to a jcstress run) runs
 * fewer trials instead of timing out. At least {@value #MIN_TRIALS} must run.
 */
class CriticalSectionRaceTest {

    private static final int TRIALS = Integer.getInteger("weft.race.trials", 100_000);
    private static final int BATCH = 1_000;
    private static final int MIN_TRIALS = 10_000;
    private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(Long.getLong("weft.race.seconds", 60));
    /** Spin delays, in {@link Thread#onSpinWait()} calls. */
    private static final int MAX_ENTRY_DELAY = 200;
    private static final int MAX_BODY_DELAY = 200;
    private static final int MAX_CANCEL_DELAY = 500;

    /** One trial: its delays, the hand-shake flags, and what the subtask observed. */
    private static final class Trial {
        final long number;
        final int entryDelay;
        final int bodyDelay;
        final int cancelDelay;
        volatile boolean ready;
        volatile boolean go;
        /** Released by the test thread once cancel() returned; acquired uninterruptibly by the subtask. */
        final Semaphore cancelReturned = new Semaphore(0);

        Trial(long number, SplittableRandom rnd) {
            this.number = number;
            this.entryDelay = rnd.nextInt(MAX_ENTRY_DELAY);
            this.bodyDelay = rnd.nextInt(MAX_BODY_DELAY);
            this.cancelDelay = rnd.nextInt(MAX_CANCEL_DELAY);
        }

        @Override
        public String toString() {
            return "trial " + number + " (entry delay " + entryDelay + ", body delay " + bodyDelay + ", cancel delay "
                    + cancelDelay + ")";
        }
    }

    /** An onCancel resource that remembers being closed. */
    private static final class Resource implements AutoCloseable {
        volatile boolean closed;
        final java.util.concurrent.CountDownLatch closedLatch = new java.util.concurrent.CountDownLatch(1);

        @Override
        public void close() {
            closed = true;
            closedLatch.countDown();
        }

        /** Closes run on a Weft closer thread after the interrupt: wait for this one, boundedly. */
        boolean awaitClosed() throws InterruptedException {
            boolean interrupted = Thread.interrupted();
            try {
                return closedLatch.await(10, java.util.concurrent.TimeUnit.SECONDS);
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private final Queue<String> violations = new ConcurrentLinkedQueue<>();
    private final AtomicLong cancelledBeforeEntry = new AtomicLong();
    private final AtomicLong interruptedAtEntry = new AtomicLong();
    private final AtomicLong cancelledInside = new AtomicLong();
    private final AtomicLong cancelledAfterExit = new AtomicLong();

    @Test
    @Timeout(180)
    void critical_cancelRacesWithEntryAndExit_noInterruptInsideAndNoLostCancellation() throws Exception {
        long seed = Long.getLong("weft.race.seed", System.nanoTime());
        System.out.println("CriticalSectionRaceTest: " + TRIALS + " trials, seed " + seed
                + " (replay with -Dweft.race.seed=" + seed + ")");
        var rnd = new SplittableRandom(seed);
        long start = System.nanoTime();
        long trial = 0;
        while (trial < TRIALS && (trial < MIN_TRIALS || System.nanoTime() - start < BUDGET_NANOS)) {
            int n = (int) Math.min(BATCH, TRIALS - trial);
            try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("race"))) {
                for (int i = 0; i < n; i++) {
                    runTrial(scope, new Trial(trial++, rnd));
                }
                scope.join();
            }
            if (violations.size() > 20) {
                break;
            }
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("CriticalSectionRaceTest: %d trials in %d ms; cancel landed before entry %d (interrupt already set"
                        + " at entry %d), inside %d, after exit %d%n", trial, millis, cancelledBeforeEntry.get(),
                interruptedAtEntry.get(), cancelledInside.get(), cancelledAfterExit.get());

        assertThat(List.copyOf(violations)).as("invariant violations (seed %d)", seed).isEmpty();
        assertThat(trial).as("trials run").isGreaterThanOrEqualTo(Math.min(TRIALS, MIN_TRIALS));
        // The trials really raced: each window was hit many times.
        long minimum = trial / 100;
        assertThat(cancelledBeforeEntry.get()).as("cancellations before entry (seed %d)", seed).isGreaterThanOrEqualTo(minimum);
        assertThat(cancelledInside.get()).as("cancellations inside (seed %d)", seed).isGreaterThanOrEqualTo(minimum);
        assertThat(cancelledAfterExit.get()).as("cancellations after exit (seed %d)", seed).isGreaterThanOrEqualTo(minimum);
    }

    /** The test thread's side: fork the subtask, release both sides, cancel after a random delay. */
    private void runTrial(TaskScope<Object, Void, ?> scope, Trial t) {
        Subtask<Object> s = scope.fork(() -> {
            subtaskSide(t);
            return null;
        });
        await(() -> t.ready);
        t.go = true;                            // the start latch: both sides start their delays now
        spin(t.cancelDelay);
        boolean requested = s.cancel();
        t.cancelReturned.release();
        if (!requested) {
            violations.add(t + ": cancel() returned false for a running subtask");
        }
    }

    /** The subtask's side: enter a section after a random delay, check the invariants inside and after. */
    private void subtaskSide(Trial t) {
        try {
            Task self = (Task) Context.current();
            Resource resource = new Resource();
            Cancellation.onCancel(resource);
            t.ready = true;
            await(() -> t.go);                   // a short spin: the test thread is spinning on ready
            spin(t.entryDelay);

            boolean interruptedBefore = Thread.currentThread().isInterrupted();
            try (var cs = Cancellation.critical()) {
                boolean cancelledAtEntry = self.isCancelRequested();
                boolean closedAtEntry = resource.closed;
                insideChecks(t, "at entry");
                spin(t.bodyDelay);
                insideChecks(t, "before exit");
                if (resource.closed != closedAtEntry) {
                    violations.add(t + ": the onCancel resource was closed inside the section");
                }
                if (cancelledAtEntry) {
                    cancelledBeforeEntry.incrementAndGet();
                    if (interruptedBefore) {
                        interruptedAtEntry.incrementAndGet();
                    }
                } else if (self.isCancelRequested()) {
                    cancelledInside.incrementAndGet();
                } else {
                    cancelledAfterExit.incrementAndGet();
                }
            }

            // Not a spin: a spinning virtual thread would hold one of the two carriers. An
            // uninterruptible acquire keeps (restores) the interrupt status.
            t.cancelReturned.acquireUninterruptibly();
            if (!Thread.currentThread().isInterrupted()) {
                violations.add(t + ": cancellation lost across the exit: interrupt status not set");
            }
            if (!Cancellation.isRequested()) {
                violations.add(t + ": cancellation lost across the exit: isRequested() is false");
            }
            if (!checkThrows()) {
                violations.add(t + ": cancellation lost across the exit: check() did not throw");
            }
            if (!resource.awaitClosed()) {
                violations.add(t + ": cancellation lost across the exit: the onCancel resource was not closed");
            }
        } catch (Throwable e) {
            violations.add(t + ": unexpected " + e);
        }
    }

    private void insideChecks(Trial t, String where) {
        if (Thread.currentThread().isInterrupted()) {
            violations.add(t + ": interrupt status set inside the section, " + where);
        }
        if (Cancellation.isRequested()) {
            violations.add(t + ": isRequested() true inside the section, " + where);
        }
        if (checkThrows()) {
            violations.add(t + ": check() threw inside the section, " + where);
        }
    }


    /** Spins (then yields) until {@code condition} holds; the test's timeout bounds it. */
    private static void await(BooleanSupplier condition) {
        int spins = 0;
        while (!condition.getAsBoolean()) {
            if (++spins < 100) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }
}

package dev.weft;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * {@code TaskScope.cancel()} from another thread racing with {@code fork} (public API only: the
 * owner actor opens the scope, forks, joins and closes it). The subtask waits to be interrupted, at
 * most {@link #LOST_AFTER_SECONDS}: if that runs out, the cancellation missed it. Results: (1) the
 * subtask's state after close (3 CANCELLED), (2) whether its thread was started, (3) whether the
 * cancellation missed it, (4) whether join() threw CancelledException.
 */
@JCStressTest
@Description("TaskScope.cancel() races with fork(): every subtask is cancelled or never started")
@Outcome(id = "3, 0, 0, 1", expect = ACCEPTABLE, desc = "Cancelled before the fork: the subtask is CANCELLED and never started.")
@Outcome(id = "3, 1, 0, 1", expect = ACCEPTABLE, desc = "Forked first: the started subtask is cancelled.")
@Outcome(expect = FORBIDDEN, desc = "A subtask the cancellation missed, or a join that did not see the cancellation.")
@State
public class ForkRace {

    static final int LOST_AFTER_SECONDS = 5;

    private final RaceSupport.Rendezvous rendezvous = new RaceSupport.Rendezvous();
    private volatile TaskScope<Object, Void, ?> scope;
    private volatile boolean missed;

    @Actor
    public void owner(IIII_Result r) {
        TaskScope<Object, Void, RuntimeException> s = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("fork-race"));
        scope = s;
        rendezvous.arriveAndAwait();
        Subtask<Object> subtask = s.fork(this::awaitInterrupt);
        rendezvous.awaitCanceller();
        try {
            s.join();
            r.r4 = 0;
        } catch (CancelledException e) {
            r.r4 = 1;
        } catch (Exception e) {
            r.r4 = 2;
        } finally {
            s.close();
        }
        r.r1 = subtask.state().ordinal();
        r.r2 = ((Task) subtask).isLaunched() ? 1 : 0;
        r.r3 = missed ? 1 : 0;
    }

    @Actor
    public void canceller() {
        rendezvous.arriveAndAwait();
        scope.cancel();
        rendezvous.cancellerDone();
    }

    private Object awaitInterrupt() throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(LOST_AFTER_SECONDS);
        while (!Thread.interrupted()) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                missed = true;
                return "missed";
            }
            LockSupport.parkNanos(left);
        }
        throw new InterruptedException("cancelled");
    }
}

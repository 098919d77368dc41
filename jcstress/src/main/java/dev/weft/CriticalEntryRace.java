package dev.weft;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZZZ_Result;

/**
 * Cancellation racing with critical-section entry. Results: (1) the interrupt status was set inside
 * the section (read at entry and before exit), (2) {@code isRequested()} read true inside, (3) the
 * cancellation had landed by the end of the section (held back), (4) once both are done, the
 * cancellation was delivered (interrupt status and {@code isRequested()}).
 */
@JCStressTest
@Description("Subtask.cancel() races with Cancellation.critical(): no interrupt inside, none lost")
@Outcome(id = "false, false, true, true", expect = ACCEPTABLE,
        desc = "Cancelled before or during the section: held back inside (interrupt cleared at entry), delivered at exit.")
@Outcome(id = "false, false, false, true", expect = ACCEPTABLE,
        desc = "Cancelled after the section: the canceller delivered the interrupt itself.")
@Outcome(expect = FORBIDDEN,
        desc = "An interrupt or a visible cancellation inside the section, or a cancellation lost.")
@State
public class CriticalEntryRace {

    private final RaceSupport.Rendezvous rendezvous = new RaceSupport.Rendezvous();
    private final Task task = RaceSupport.newTask();

    @Actor
    public void subtask(ZZZZ_Result r) {
        task.thread = Thread.currentThread();
        rendezvous.arriveAndAwait();
        CriticalSection cs = task.enterCritical(null);
        boolean interrupted = Thread.currentThread().isInterrupted();
        boolean requested = task.cancellationRequested();
        Thread.onSpinWait();
        interrupted |= Thread.currentThread().isInterrupted();
        requested |= task.cancellationRequested();
        r.r3 = task.isCancelRequested();
        task.exitCritical(cs);
        r.r1 = interrupted;
        r.r2 = requested;
        rendezvous.awaitCanceller();
        boolean delivered = task.cancellationRequested();
        r.r4 = Thread.interrupted() && delivered;       // clears the status for the next state
    }

    @Actor
    public void canceller() {
        rendezvous.arriveAndAwait();
        task.cancel();
        rendezvous.cancellerDone();
    }
}

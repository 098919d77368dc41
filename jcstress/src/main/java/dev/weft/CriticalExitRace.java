package dev.weft;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZZZ_Result;

/**
 * Cancellation racing with the exit of the outermost critical section (entered before the race).
 * Results: (1) the interrupt status was set inside, just before the exit, (2) it is set right after
 * the exit, (3) {@code isRequested()} right after the exit, (4) once both are done, the
 * interrupt was delivered.
 */
@JCStressTest
@Description("Subtask.cancel() races with the exit of a critical section: no cancellation lost")
@Outcome(id = "false, true, true, true", expect = ACCEPTABLE,
        desc = "Cancelled inside: held back, delivered by the exit itself.")
@Outcome(id = "false, false, false, true", expect = ACCEPTABLE,
        desc = "Cancelled after the exit and the reads: delivered by the canceller.")
@Outcome(id = "false, false, true, true", expect = ACCEPTABLE_INTERESTING,
        desc = "Cancelled just after the exit: marked, its interrupt still in flight at the read, then delivered.")
@Outcome(expect = FORBIDDEN,
        desc = "An interrupt inside the section, an interrupt without the cancellation visible, or a cancellation lost.")
@State
public class CriticalExitRace {

    private final RaceSupport.Rendezvous rendezvous = new RaceSupport.Rendezvous();
    private final Task task = RaceSupport.newTask();
    /** Entered by the state's constructor: only the exit races. */
    private final CriticalSection section = task.enterCritical(null);

    @Actor
    public void subtask(ZZZZ_Result r) {
        task.thread = Thread.currentThread();
        rendezvous.arriveAndAwait();
        r.r1 = Thread.currentThread().isInterrupted();
        task.exitCritical(section);
        r.r2 = Thread.currentThread().isInterrupted();
        r.r3 = task.cancellationRequested();
        rendezvous.awaitCanceller();
        r.r4 = Thread.interrupted();                      // clears the status for the next state
    }

    @Actor
    public void canceller() {
        rendezvous.arriveAndAwait();
        task.cancel();
        rendezvous.cancellerDone();
    }
}

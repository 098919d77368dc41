package dev.weft;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * Cancellation racing with a subtask's run and completion. The body returns a value, unless it sees
 * its interrupt status set, then it throws {@link InterruptedException}. Results: (1) whether
 * {@code cancel()} returned true, (2) the terminal state (1 SUCCESS, 2 FAILED, 3 CANCELLED, 0 still
 * RUNNING), (3) what the subtask holds (1 the body's value, 2 the InterruptedException, 3 a
 * CancelledException: it never ran, 4 anything else), (4) the joiner's onComplete calls.
 */
@JCStressTest
@Description("Subtask.cancel() races with the subtask's completion: one terminal state, its result visible")
@Outcome(id = "1, 3, 3, 1", expect = ACCEPTABLE, desc = "Cancelled before it ran: CANCELLED, the body never ran.")
@Outcome(id = "1, 3, 2, 1", expect = ACCEPTABLE, desc = "Cancelled while running, the body saw the interrupt: CANCELLED.")
@Outcome(id = "1, 1, 1, 1", expect = ACCEPTABLE, desc = "Cancelled while running, the body returned anyway: SUCCESS with its value.")
@Outcome(id = "0, 1, 1, 1", expect = ACCEPTABLE, desc = "Cancelled after completion: no effect, SUCCESS with its value.")
@Outcome(expect = FORBIDDEN, desc = "Any other state or result: a lost or invisible result, an interrupt-caused FAILED, onComplete not once.")
@State
public class CompletionRace {

    static final Object VALUE = new Object();

    private final RaceSupport.Rendezvous rendezvous = new RaceSupport.Rendezvous();
    private final RaceSupport.CountingJoiner joiner = new RaceSupport.CountingJoiner();
    private final Task task = RaceSupport.newTask(() -> {
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedException("saw the cancellation");
        }
        return VALUE;
    }, joiner);

    @Actor
    public void subtask() {
        task.thread = Thread.currentThread();
        rendezvous.arriveAndAwait();
        new Task.Body(task).run();          // what the thread Flock.fork makes runs
        rendezvous.awaitCanceller();
        Thread.interrupted();                             // clears the status for the next state
    }

    @Actor
    public void canceller(IIII_Result r) {
        rendezvous.arriveAndAwait();
        r.r1 = task.cancel() ? 1 : 0;
        rendezvous.cancellerDone();
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
        int lifecycle = task.lifecycle();
        r.r2 = lifecycle;
        if (lifecycle == Task.SUCCESS) {
            r.r3 = task.get() == VALUE ? 1 : 4;
        } else if (lifecycle == Task.FAILED || lifecycle == Task.CANCELLED) {
            Throwable e = task.exception();
            r.r3 = e instanceof InterruptedException ? 2 : e instanceof CancelledException ? 3 : 4;
        }
        r.r4 = joiner.completions.get();
    }
}

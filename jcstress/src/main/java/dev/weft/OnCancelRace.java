package dev.weft;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Cancellation racing with {@code Cancellation.onCancel(resource)}. Results: (1) whether the
 * registration reported the resource closed when {@code onCancel} returned, (2) how many times the
 * resource was closed once both are done.
 */
@JCStressTest
@Description("Subtask.cancel() races with onCancel registration: the resource is closed exactly once")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Cancelled first (or at once): closed before onCancel returned.")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "Registered first: the canceller handed it to a closer thread, which closed it.")
@Outcome(expect = FORBIDDEN, desc = "Never closed, or closed twice.")
@State
public class OnCancelRace {

    private final RaceSupport.Rendezvous rendezvous = new RaceSupport.Rendezvous();
    private final Task task = RaceSupport.newTask();
    private final AtomicInteger closes = new AtomicInteger();

    @Actor
    public void subtask(II_Result r) {
        task.thread = Thread.currentThread();
        rendezvous.arriveAndAwait();
        CancelRegistration reg = task.registerOnCancel(closes::incrementAndGet);
        r.r1 = reg.isClosedByCancellation() ? 1 : 0;
        rendezvous.awaitCanceller();
        Thread.interrupted();                             // clears the status for the next state
    }

    @Actor
    public void canceller() {
        rendezvous.arriveAndAwait();
        task.cancel();
        rendezvous.cancellerDone();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        RaceSupport.awaitHandedOffCloses(task);
        r.r2 = closes.get();
    }
}

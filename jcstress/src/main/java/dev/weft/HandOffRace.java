package dev.weft;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The hand-off: {@code Subtask.cancel()} races with the completion of a subtask that holds an
 * {@code onCancel} resource. The canceller only marks, interrupts and hands the close over to a
 * closer thread; the subtask completes and runs the joiner's {@code onComplete}. Results: (1) the
 * subtask's lifecycle ({@code 1} SUCCESS, {@code 3} CANCELLED), (2) how many times the resource was
 * closed once everything settled (the arbiter waits for the close job, which is live in the scope
 * until it ends), (3) whether {@code onComplete} ran with the thread's interrupt status set.
 */
@JCStressTest
@Description("Subtask.cancel() races with completion while an onCancel close is handed off")
@Outcome(id = "3, 0, 0", expect = ACCEPTABLE, desc = "Cancelled before it started: the body never ran, nothing registered.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "Cancelled while running: the resource was closed once, on a closer thread.")
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "Cancelled after it completed: nothing to do.")
@Outcome(id = ".*, .*, 1", expect = FORBIDDEN, desc = "Weft's interrupt reached the joiner's onComplete.")
@Outcome(expect = FORBIDDEN, desc = "Closed twice, or a resource of a cancelled running subtask never closed.")
@State
public class HandOffRace {

    private final RaceSupport.Rendezvous rendezvous = new RaceSupport.Rendezvous();
    private final AtomicInteger closes = new AtomicInteger();
    private final AtomicInteger interruptedInOnComplete = new AtomicInteger();
    private final Task task;

    public HandOffRace() {
        RaceSupport.CountingJoiner joiner = new RaceSupport.CountingJoiner() {
            @Override
            public boolean onComplete(Subtask<Object> subtask) {
                if (Thread.currentThread().isInterrupted()) {
                    interruptedInOnComplete.incrementAndGet();
                }
                return super.onComplete(subtask);
            }
        };
        task = RaceSupport.newTask(() -> {
            Cancellation.onCancel(closes::incrementAndGet);
            return "done";
        }, joiner);
    }

    @Actor
    public void subtask() {
        task.thread = Thread.currentThread();
        RaceSupport.asSubtaskThread(task);
        rendezvous.arriveAndAwait();
        new Task.Body(task).run();          // what the thread Flock.fork makes runs
        rendezvous.awaitCanceller();
        Thread.interrupted();                             // clears the status for the next state
        RaceSupport.leaveSubtaskThread();
    }

    @Actor
    public void canceller() {
        rendezvous.arriveAndAwait();
        task.cancel();
        rendezvous.cancellerDone();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        RaceSupport.awaitHandedOffCloses(task);
        r.r1 = task.lifecycle();
        r.r2 = closes.get();
        r.r3 = interruptedInOnComplete.get();
    }
}

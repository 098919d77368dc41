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
 * A named subtask's rarely used state ({@code Task.Rare}) created by two threads at once, the
 * second reading the name first. The name and the rare state share one field: the first creation
 * replaces the name with a {@code Rare} that carries it, by CAS. Results: (1) whether both creators
 * got the same {@code Rare}, (2) whether the name survived, (3) whether the task holds that
 * {@code Rare}, (4) whether the second creator, racing the first, read the name. (Two actors: the
 * test machines have two cores.)
 */
@JCStressTest
@Description("Task.rare() created by two threads of a named subtask, one reading its name first: one Rare, the name kept")
@Outcome(id = "1, 1, 1, 1", expect = ACCEPTABLE, desc = "One Rare for both, carrying the name; the name was readable throughout.")
@Outcome(expect = FORBIDDEN, desc = "Two Rares, a lost name, or a name unreadable during the race.")
@State
public class RareRace {

    static final String NAME = "named";

    private final Task task = RaceSupport.newTask(NAME, () -> null, new RaceSupport.CountingJoiner());
    private Task.Rare first;
    private Task.Rare second;

    @Actor
    public void creator1() {
        first = task.rare();
    }

    @Actor
    public void creator2(IIII_Result r) {
        r.r4 = NAME.equals(task.nameOrNull()) ? 1 : 0;
        second = task.rare();
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
        r.r1 = first == second && first != null ? 1 : 0;
        r.r2 = NAME.equals(task.nameOrNull()) && NAME.equals(task.name()) ? 1 : 0;
        r.r3 = task.rareOrNull() == first ? 1 : 0;
    }
}

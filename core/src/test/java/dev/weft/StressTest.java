package dev.weft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.StressRun.Stat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Randomised stress: random scope trees ({@link StressPlan}: depth up to 4, up to 64 subtasks a
 * scope) with random joiners, failures (exceptions and errors), per-subtask cancels, scope cancels
 * and {@link Scopes#cancelAll()} from foreign threads, deadlines, grace periods with stragglers,
 * critical sections (nested, with scopes opened inside) and {@code onCancel} resources. Each tree
 * is run and checked by {@link StressRun}; after every scope:
 * <ul>
 *   <li>every subtask ends in exactly one terminal state, the one its body's outcome documents
 *       (a cancellation-caused exception of a cancelled subtask is CANCELLED, a return is SUCCESS,
 *       anything else FAILED), reached once ({@code onComplete} once) and never changed;</li>
 *   <li>every failure is join()'s cause or suppressed when join waited for every subtask, and
 *       always readable from its subtask; join's outcome agrees with the joiner and the
 *       cancellation reason;</li>
 *   <li>no thread of a closed scope is alive (bounded wait) unless close() reported it as a
 *       straggler; every subtask still RUNNING after close() was reported;</li>
 *   <li>no interrupt, visible cancellation or resource close inside a critical section; a
 *       cancellation held back by a section is delivered at its exit; no subtask is interrupted
 *       without being cancelled, and every cancelled subtask that waits for its interrupt gets it;
 *       scopes opened inside a section are never reached by outer cancellation;</li>
 *   <li>every {@code onCancel} resource still registered by a cancelled subtask is closed exactly
 *       once, none of the others, and none after its registration was closed;</li>
 *   <li>no scope of the tree is left in the global registry, which is empty at the end.</li>
 * </ul>
 *
 * <p>The seed is printed. {@code -Dweft.stress.seed=S} replays the same sequence of trees; a
 * violation names its tree's seed, and {@code -Dweft.stress.tree=T} runs that one tree again and
 * again ({@code -Dweft.stress.repeat}, default 200 times). Sizes: {@code -Dweft.stress.lifecycles}
 * (subtasks forked in total; short 300 000, long 1 000 000), {@code -Dweft.stress.lanes} (trees run
 * at once, default 2), {@code -Dweft.stress.maxTasks} (subtasks per tree, default 400).
 */
@Tag(Reliability.TAG)
class StressTest {

    private static final Duration HANG = Duration.ofSeconds(120);

    @Test
    @Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @DisabledIfSystemProperty(named = "weft.reliability", matches = "long")
    void randomScopeTrees_shortRun_everyInvariantHolds() throws Exception {
        stress(Reliability.size("weft.stress.lifecycles", 300_000, 1_000_000));
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.HOURS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @EnabledIfSystemProperty(named = "weft.reliability", matches = "long")
    void randomScopeTrees_longRun_everyInvariantHolds() throws Exception {
        stress(Reliability.size("weft.stress.lifecycles", 300_000, 1_000_000));
    }

    private static void stress(long lifecycles) throws Exception {
        var before = Reliability.RegistrySnapshot.take();
        long seed = Long.getLong("weft.stress.seed", System.nanoTime());
        Long replayTree = Long.getLong("weft.stress.tree");
        int lanes = Integer.getInteger("weft.stress.lanes", 2);
        int maxTasks = Integer.getInteger("weft.stress.maxTasks", 400);
        int repeat = Integer.getInteger("weft.stress.repeat", 200);
        System.out.println("StressTest: seed " + seed + " (replay with -Dweft.stress.seed=" + seed + ")"
                + (replayTree != null ? ", replaying tree " + replayTree + " " + repeat + " times per lane" : "")
                + ", target " + lifecycles + " lifecycles, " + lanes + " lanes, at most " + maxTasks + " subtasks a tree");

        LongAdder[] stats = Stat.counters();
        Queue<String> found = new ConcurrentLinkedQueue<>();
        // Printed as found too, so that a run cut short by its timeout still shows them.
        Consumer<String> violations = v -> {
            if (found.size() < 20) {
                System.out.println("StressTest: VIOLATION " + v);
            }
            found.add(v);
        };
        // Failures after join() returned are reported through Reports: collect them, to check that none is
        // lost. No other incident may happen (no leak, no failing resource, no internal error).
        Set<Throwable> lateFailures = ConcurrentHashMap.newKeySet();
        try (var quiet = Reliability.quietWeftLog();
             var incidents = new ShutdownSupport.Incidents(i -> {
                 if (i.kind().equals("failure")) {
                     lateFailures.add(i.error());
                 } else {
                     violations.accept("tree ?: unexpected incident " + i);
                 }
             })) {
            run(seed, replayTree, lanes, maxTasks, repeat, lifecycles, stats, found, violations, lateFailures, before);
        }
    }

    private static void run(long seed, Long replayTree, int lanes, int maxTasks, int repeat, long lifecycles,
                            LongAdder[] stats, Queue<String> found, Consumer<String> violations,
                            Set<Throwable> lateFailures, Reliability.RegistrySnapshot before) throws InterruptedException {
        var master = new SplittableRandom(seed);
        List<Lane> all = new ArrayList<>();
        for (int i = 0; i < lanes; i++) {
            all.add(new Lane(i, master.split(), replayTree, repeat, maxTasks, lifecycles, stats, found, violations,
                    lateFailures));
        }
        long t0 = System.nanoTime();
        for (Lane l : all) {
            l.thread.start();
        }
        Thread watchdog = Thread.ofPlatform().daemon().name("stress-watchdog").start(() -> watch(all, violations));
        for (Lane l : all) {
            l.thread.join();
        }
        watchdog.interrupt();
        long millis = (System.nanoTime() - t0) / 1_000_000;
        List<String> leftovers = Reliability.registryLeftovers(before, StressRun.SETTLE);

        StringBuilder sb = new StringBuilder("StressTest: seed ").append(seed).append(", ").append(millis).append(" ms,");
        for (Stat s : Stat.values()) {
            sb.append(' ').append(s.name().toLowerCase(java.util.Locale.ROOT)).append('=').append(stats[s.ordinal()].sum());
        }
        sb.append(", violations=").append(found.size());
        System.out.println(sb);
        if (!before.isEmpty()) {
            System.out.println("StressTest: the registry held scopes of earlier tests at the start: " + before);
        }

        assertThat(List.copyOf(found)).as("invariant violations (seed %d)", seed).isEmpty();
        assertThat(leftovers).as("global registry at the end (seed %d)", seed).isEmpty();
        if (replayTree == null) {
            assertThat(stats[Stat.LIFECYCLES.ordinal()].sum()).isGreaterThanOrEqualTo(lifecycles);
            // The trees really exercised what they claim to: each kind of event happened.
            for (Stat s : new Stat[] {Stat.FAILED, Stat.CANCELLED, Stat.NEVER_RAN, Stat.ERRORS, Stat.CHAOS_SCOPE_CANCELS,
                    Stat.CHAOS_SUBTASK_CANCELS, Stat.OWNER_SUBTASK_CANCELS, Stat.DEADLINES, Stat.STRAGGLERS,
                    Stat.CANCEL_BEFORE_ENTRY, Stat.CANCEL_INSIDE, Stat.RESOURCES_CLOSED, Stat.SHIELDED_SCOPES}) {
                assertThat(stats[s.ordinal()].sum()).as("%s (seed %d)", s, seed).isPositive();
            }
        }
    }

    /** Reports (once per tree) a tree that runs suspiciously long, with a dump of the live scopes. */
    private static void watch(List<Lane> lanes, Consumer<String> violations) {
        while (!Thread.currentThread().isInterrupted()) {
            LockSupport.parkNanos(1_000_000_000L);
            for (Lane l : lanes) {
                long started = l.treeStarted.get();
                long seed = l.treeSeed;
                if (started != 0 && System.nanoTime() - started > HANG.toNanos() && l.reported != started) {
                    l.reported = started;
                    violations.accept("tree " + seed + ": still running after " + HANG + " (hang?)");
                    System.out.println("StressTest: tree " + seed + " runs for more than " + HANG + "; live scopes:\n"
                            + Scopes.dump());
                }
            }
        }
    }

    /** A thread that runs trees one after another, until the target is reached or a violation is found. */
    private static final class Lane {
        final Thread thread;
        final AtomicLong treeStarted = new AtomicLong();
        volatile long treeSeed;
        volatile long reported;

        Lane(int index, SplittableRandom rnd, Long replayTree, int repeat, int maxTasks, long lifecycles,
             LongAdder[] stats, Queue<String> found, Consumer<String> violations, Set<Throwable> lateFailures) {
            this.thread = Thread.ofPlatform().name("stress-lane-" + index).unstarted(() -> {
                var chaos = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().daemon()
                        .name("stress-chaos-" + index).unstarted(r));
                chaos.setRemoveOnCancelPolicy(true);
                try {
                    for (int n = 0; ; n++) {
                        if (replayTree != null ? n >= repeat : stats[Stat.LIFECYCLES.ordinal()].sum() >= lifecycles) {
                            break;
                        }
                        if (found.size() >= 50) {
                            break;
                        }
                        long s = replayTree != null ? replayTree : rnd.nextLong();
                        treeSeed = s;
                        treeStarted.set(System.nanoTime());
                        new StressRun(StressPlan.generate(s, maxTasks), stats, violations, chaos, lateFailures).run();
                        treeStarted.set(0);
                    }
                } catch (Throwable t) {
                    violations.accept("tree " + treeSeed + ": lane " + index + " died: " + t);
                    t.printStackTrace();
                } finally {
                    chaos.shutdownNow();
                }
            });
        }
    }
}

package dev.weft;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A random scope tree for {@link StressTest}, generated from a seed alone, so that the printed seed
 * of a tree replays the same shape, behaviours, delays and cancellations (the thread interleavings
 * differ from run to run).
 *
 * <p>Shape: a root scope; each subtask may open a nested scope, and each owner may open a scope
 * inside its open scope; depth at most {@link #MAX_DEPTH}, at most {@link #MAX_FANOUT} subtasks per
 * scope, at most {@code maxTasks} subtasks per tree. The generator keeps every tree finite: a
 * subtask that blocks until cancelled only lives in a scope whose own or inherited deadline (not
 * across a critical section) must cancel it, and one that ignores cancellation until the test
 * releases it only in such a scope with a bounded grace period.
 */
final class StressPlan {

    static final int MAX_DEPTH = 4;
    static final int MAX_FANOUT = 64;

    private StressPlan() {
    }

    /** The joiner of a scope. */
    enum JoinerKind {
        AWAIT_ALL_SUCCESSFUL, ALL_SUCCESSFUL, ANY_SUCCESSFUL, AWAIT_ALL, ALL_UNTIL;

        Joiner<Object, ?, ?> create(int untilModulus) {
            return switch (this) {
                case AWAIT_ALL_SUCCESSFUL -> Joiner.awaitAllSuccessfulOrThrow();
                case ALL_SUCCESSFUL -> Joiner.allSuccessfulOrThrow();
                case ANY_SUCCESSFUL -> Joiner.anySuccessfulOrThrow();
                case AWAIT_ALL -> Joiner.awaitAll();
                case ALL_UNTIL -> Joiner.<Object>allUntil(s -> s.state() == Subtask.State.SUCCESS
                        && s.get() instanceof Value v && v.taskId() % untilModulus == 0);
            };
        }

        boolean failFast() {
            return this == AWAIT_ALL_SUCCESSFUL || this == ALL_SUCCESSFUL;
        }
    }

    /** What a subtask does after its optional critical section and nested scope. */
    enum Action {
        /** Return a value. */
        RETURN,
        /** Throw a {@link StressException}. */
        THROW_EXCEPTION,
        /** Throw an {@link Error}: a {@link StressError}, a {@link StackOverflowError} or an {@link OutOfMemoryError}. */
        THROW_ERROR,
        /** Sleep (interruptibly), then return. */
        SLEEP,
        /** Park until interrupted (only where a deadline of this scope or an enclosing one makes cancellation come). */
        BLOCK,
        /** Poll {@link Cancellation#check()} in a yielding loop, then return. */
        POLL,
        /** Sleep out a period, swallowing every interrupt, then return. */
        SWALLOW,
        /** Ignore cancellation until the test releases it (only with a deadline and a bounded grace period). */
        STUBBORN,
        /** Cancel its own scope, then stop at {@link Cancellation#check()}. */
        CANCEL_OWN_SCOPE
    }

    /** A subtask's result: unique per subtask, compared by identity. */
    record Value(int taskId) {
    }

    /** A scope and what its owner does with it. */
    static final class Scope {
        final int id;
        final int depth;
        final JoinerKind joiner;
        final int untilModulus;
        /** Own timeout in microseconds, or -1 for none. */
        long timeoutMicros;
        /** Grace period in milliseconds, or -1 for unbounded. */
        final long graceMillis;
        /** Opened inside a critical section of the owning subtask. */
        final boolean shielded;
        /** An enclosing scope has a deadline that reaches this one (see {@code Generator#scope}). */
        boolean inheritsDeadline;
        /** Per mille of its subtasks that throw. */
        int failPerMille;
        /** Per mille of its subtasks that cancel it. */
        int selfCancelPerMille;
        final List<Task> tasks = new ArrayList<>();
        /** A scope the owner opens inside this one after forking, or null. */
        Scope ownerNested;
        /** Indexes (into {@link #tasks}) of the subtasks the owner cancels after forking. */
        int[] ownerCancels = new int[0];
        /** Spin iterations before those cancels. */
        int ownerCancelSpins;

        Scope(int id, int depth, JoinerKind joiner, int untilModulus, long timeoutMicros, long graceMillis,
              boolean shielded) {
            this.id = id;
            this.depth = depth;
            this.joiner = joiner;
            this.untilModulus = untilModulus;
            this.timeoutMicros = timeoutMicros;
            this.graceMillis = graceMillis;
            this.shielded = shielded;
        }

        @Override
        public String toString() {
            return "scope " + id + " (depth " + depth + ", " + joiner + ", " + tasks.size() + " tasks"
                    + (timeoutMicros >= 0 ? ", timeout " + timeoutMicros + " us" : "")
                    + (graceMillis >= 0 ? ", grace " + graceMillis + " ms" : "") + (shielded ? ", shielded" : "") + ")";
        }
    }

    /** A critical section inside a subtask. */
    record Critical(long entryDelayNanos, boolean nestedTwice, long bodyNanos, boolean sleepInside, boolean registerInside) {
    }

    /** A subtask. */
    static final class Task {
        final int id;
        Action action;
        /** Duration for SLEEP, SWALLOW; iterations for POLL. */
        final long amount;
        final int errorKind;
        final int keptResources;
        final int scopedResources;
        final boolean runnable;
        final String name;
        /** After returning normally: wait for a pending cancellation's interrupt. */
        final boolean lingerCheck;
        Critical critical;
        /** A scope the subtask opens, or null; inside the critical section if {@link #nestedInCritical}. */
        Scope nested;
        boolean nestedInCritical;

        Task(int id, Action action, long amount, int errorKind, int keptResources, int scopedResources,
             boolean runnable, String name, boolean lingerCheck) {
            this.id = id;
            this.action = action;
            this.amount = amount;
            this.errorKind = errorKind;
            this.keptResources = keptResources;
            this.scopedResources = scopedResources;
            this.runnable = runnable;
            this.name = name;
            this.lingerCheck = lingerCheck;
        }

        @Override
        public String toString() {
            return "task " + id + " (" + action + (critical != null ? ", critical" : "")
                    + (nested != null ? ", nested scope " + nested.id + (nestedInCritical ? " in section" : "") : "") + ")";
        }
    }

    /** A cancellation from a foreign thread, {@code delayNanos} after the tree starts. */
    record Chaos(Kind kind, int targetId, long delayNanos) {
        enum Kind { ROOT, SCOPE, SUBTASK, ALL }
    }

    /** A whole tree. */
    static final class Tree {
        final long seed;
        final Scope root;
        final List<Chaos> chaos = new ArrayList<>();
        int scopes;
        int tasks;

        Tree(long seed, Scope root) {
            this.seed = seed;
            this.root = root;
        }
    }

    /** Generates the tree of {@code seed}, with at most {@code maxTasks} subtasks. */
    static Tree generate(long seed, int maxTasks) {
        var g = new Generator(new SplittableRandom(seed), maxTasks);
        Scope root = g.scope(1, false, true, false);
        Tree tree = new Tree(seed, root);
        tree.scopes = g.nextScopeId;
        tree.tasks = g.nextTaskId;
        int events = g.rnd.nextInt(4);
        for (int i = 0; i < events; i++) {
            int p = g.rnd.nextInt(100);
            long delay = g.rnd.nextLong(8_000_000);
            Chaos.Kind kind = p < 30 ? Chaos.Kind.ROOT : p < 60 ? Chaos.Kind.SCOPE : p < 92 ? Chaos.Kind.SUBTASK : Chaos.Kind.ALL;
            int target = switch (kind) {
                case SCOPE -> g.rnd.nextInt(Math.max(1, tree.scopes));
                case SUBTASK -> g.rnd.nextInt(Math.max(1, tree.tasks));
                default -> 0;
            };
            tree.chaos.add(new Chaos(kind, target, delay));
        }
        return tree;
    }

    private static final class Generator {
        final SplittableRandom rnd;
        final int maxTasks;
        int nextScopeId;
        int nextTaskId;

        Generator(SplittableRandom rnd, int maxTasks) {
            this.rnd = rnd;
            this.maxTasks = maxTasks;
        }

        /**
         * A scope; {@code inheritsDeadline}: an enclosing scope, not across a critical section, has a
         * deadline, so cancellation must reach this scope through the tree (a subtask here may block
         * until interrupted without a deadline of its own: a broken cascade leaves it blocked).
         */
        Scope scope(int depth, boolean shielded, boolean root, boolean inheritsDeadline) {
            // Weights: the first-success joiners cancel the rest at once, so they are the rarer ones.
            int j = rnd.nextInt(100);
            JoinerKind joiner = j < 25 ? JoinerKind.AWAIT_ALL_SUCCESSFUL : j < 40 ? JoinerKind.ALL_SUCCESSFUL
                    : j < 50 ? JoinerKind.ANY_SUCCESSFUL : j < 85 ? JoinerKind.AWAIT_ALL : JoinerKind.ALL_UNTIL;
            long grace = rnd.nextInt(100) < 25 ? 5 + rnd.nextInt(40) : -1;
            long timeout = rnd.nextInt(100) < 25 ? rnd.nextLong(15_000) : -1;
            Scope s = new Scope(nextScopeId++, depth, joiner, 4 + rnd.nextInt(20), timeout, grace, shielded);
            s.inheritsDeadline = inheritsDeadline;
            s.failPerMille = new int[] {0, 0, 5, 20, 100}[rnd.nextInt(5)];
            s.selfCancelPerMille = new int[] {0, 0, 0, 5, 30}[rnd.nextInt(5)];
            int[] caps = root ? new int[] {4, 16, MAX_FANOUT} : new int[] {1, 4, 16, MAX_FANOUT};
            int cap = caps[rnd.nextInt(caps.length)];
            int n = Math.min(rnd.nextInt(cap + 1), maxTasks - nextTaskId);
            if (root) {
                n = Math.max(1, n);
            }
            boolean needsDeadline = false;
            for (int i = 0; i < n; i++) {
                Task t = task(s);
                s.tasks.add(t);
                needsDeadline |= t.action == Action.BLOCK;
            }
            if (needsDeadline && s.timeoutMicros < 0 && !inheritsDeadline) {
                s.timeoutMicros = 1_000 + rnd.nextLong(20_000);
            }
            if (depth < MAX_DEPTH && rnd.nextInt(100) < 10 && nextTaskId < maxTasks) {
                s.ownerNested = scope(depth + 1, false, false, s.timeoutMicros >= 0 || inheritsDeadline);
            }
            if (!s.tasks.isEmpty() && rnd.nextInt(100) < 30) {
                s.ownerCancels = new int[1 + rnd.nextInt(3)];
                for (int i = 0; i < s.ownerCancels.length; i++) {
                    s.ownerCancels[i] = rnd.nextInt(s.tasks.size());
                }
                s.ownerCancelSpins = rnd.nextInt(20_000);
            }
            return s;
        }

        Task task(Scope s) {
            int id = nextTaskId++;
            // Per-mille weights; the scope's temper decides how often its subtasks fail or cancel it, so
            // that some scopes run to the end and others are torn down early.
            int fail = s.failPerMille;
            int p = rnd.nextInt(1000);
            Action a;
            if (p < fail) {
                a = rnd.nextInt(3) == 0 ? Action.THROW_ERROR : Action.THROW_EXCEPTION;
            } else if (p < fail + s.selfCancelPerMille) {
                a = Action.CANCEL_OWN_SCOPE;
            } else {
                int q = rnd.nextInt(100);
                if (q < 30) {
                    a = Action.RETURN;
                } else if (q < 55) {
                    a = Action.SLEEP;
                } else if (q < 68) {
                    a = s.timeoutMicros >= 0 || s.inheritsDeadline ? Action.BLOCK : Action.SLEEP;
                } else if (q < 85) {
                    a = Action.POLL;
                } else if (q < 93) {
                    a = Action.SWALLOW;
                } else {
                    // Stubborn only where the deadline makes join() stop waiting and close() report it.
                    a = s.graceMillis >= 0 && (s.timeoutMicros >= 0 || s.inheritsDeadline) ? Action.STUBBORN : Action.RETURN;
                }
            }
            long amount = switch (a) {
                case SLEEP, SWALLOW -> rnd.nextLong(2_000_000);
                case POLL -> 10 + rnd.nextInt(2_000);
                default -> 0;
            };
            int resources = rnd.nextInt(100) < 30 ? 1 + rnd.nextInt(3) : 0;
            int kept = resources == 0 ? 0 : rnd.nextInt(resources + 1);
            Task t = new Task(id, a, amount, rnd.nextInt(3), kept, resources - kept, rnd.nextInt(100) < 10,
                    rnd.nextInt(100) < 30 ? "t" + id : null, rnd.nextInt(100) < 25);
            if (rnd.nextInt(100) < 25) {
                t.critical = new Critical(rnd.nextLong(300_000), rnd.nextInt(100) < 25, rnd.nextLong(500_000), rnd.nextBoolean(),
                        rnd.nextInt(100) < 20);
            }
            boolean deadlineApplies = s.timeoutMicros >= 0 || s.inheritsDeadline;
            int nestChance = s.depth == 1 ? 30 : 15;
            if (s.depth < MAX_DEPTH && rnd.nextInt(100) < nestChance && nextTaskId < maxTasks) {
                t.nestedInCritical = t.critical != null && rnd.nextBoolean();
                t.nested = scope(s.depth + 1, t.nestedInCritical, false, !t.nestedInCritical && deadlineApplies);
            }
            return t;
        }
    }

    /** A failure a subtask throws on purpose. */
    static final class StressException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StressException(int taskId) {
            super("injected failure of task " + taskId, null, true, false);
        }
    }

    /** An error a subtask throws on purpose. */
    static final class StressError extends Error {
        private static final long serialVersionUID = 1L;

        StressError(int taskId) {
            super("injected error of task " + taskId, null, true, false);
        }
    }

    /** The reason given to {@link TaskScope#cancel(Throwable)} by the stress test. */
    static final class StressCancel extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StressCancel(String by) {
            super("cancelled by " + by, null, true, false);
        }
    }
}

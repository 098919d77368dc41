package dev.weft;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Renders the live scope tree for {@link Scopes#dump()} (text) and {@link Scopes#dumpJson()}
 * (JSON), and the {@code toString()} of scopes and subtasks.
 *
 * <p>A dump first takes a {@link Snapshot}: it walks the registry's open root scopes, each scope's
 * running subtasks, the scopes each subtask opened and the scopes each owner opened inside another,
 * then the lingering scopes (closed or leaked with subtasks still running: the stragglers). The
 * text and the JSON are two renderings of the same snapshot. The walk reads only volatile state
 * and takes no lock, so a dump never blocks Weft and is safe at any time, even while scopes are
 * cancelled or closed; a subtask that ends meanwhile may or may not be listed.
 *
 * <p>Bounds, so that a dump of a huge scope stays usable: at most {@link #MAX_TASKS_PER_SCOPE}
 * subtasks are listed per scope (the rest are counted), and stack traces are taken for the first
 * {@link #MAX_STACKS} subtasks of the dump (the others are listed without one).
 */
final class Dumps {

    private Dumps() {
    }

    /** Most subtasks listed per scope. */
    static final int MAX_TASKS_PER_SCOPE = 1000;
    /** Most subtasks whose stack trace one dump takes. */
    static final int MAX_STACKS = 256;
    /** Identifies the JSON layout; bumped on incompatible changes. */
    static final String JSON_FORMAT = "dev.weft.dump/2";
    /** Deepest indentation of the text dump; deeper scopes say their depth instead, so the text grows linearly with depth. */
    static final int MAX_INDENT = 16;

    // ---------------------------------------------------------------------------------------
    // The snapshot

    /**
     * One dump's data.
     *
     * @param at when it was taken
     * @param pid this process
     * @param maxFrames the stack depth asked for
     * @param roots the open root scopes, in opening order
     * @param lingering the scopes closed or leaked with subtasks still running, in opening order
     * @param running subtasks running in all those scopes and below
     * @param incidents the recent incidents, oldest first
     */
    record Snapshot(Instant at, long pid, int maxFrames, List<ScopeView> roots, List<ScopeView> lingering,
                    int running, List<Reports.Incident> incidents) {
        // roots and lingering are flat: each top-level scope is followed by the scopes below it
        // (depth > 0), parents before children.
    }

    /**
     * A scope.
     *
     * @param id the scope's id, unique in the JVM, in opening order
     * @param name its name
     * @param phase {@code open}, {@code joined} or {@code closed}
     * @param root whether it is a root scope
     * @param cancelKind why it was cancelled ({@code explicit}, {@code deadline}, ...), or null
     * @param cancelReason the reason as a sentence, or null
     * @param cancelCause the cause given to the cancellation, or null
     * @param leaked whether it became unreachable while open
     * @param lingering whether it was closed or leaked with subtasks still running
     * @param owner its owner thread
     * @param ageNanos time since it was opened
     * @param deadline its effective deadline, or null
     * @param remainingNanos time left until the deadline (negative once passed), or null
     * @param grace its grace period, or null when unbounded
     * @param running its subtasks running now
     * @param stragglersAtClose how many subtasks were still running when close() gave up, or null
     * @param tasks its running subtasks, in fork order
     * @param omittedTasks running subtasks not listed
     * @param parentId the id of the scope it hangs under, or null at the top
     * @param parentTask the index of the subtask of the parent scope that opened it, or null when
     *                   the parent scope's owner opened it (or it is at the top)
     * @param depth its depth below the top-level scope it is listed under (0 at the top)
     * @param indent its indentation level in the text dump: one more than its parent's when the
     *               parent's owner opened it, two more (below the task's line) when a subtask did
     */
    record ScopeView(long id, String name, String phase, boolean root, String cancelKind, String cancelReason,
                     String cancelCause, boolean leaked, boolean lingering, ThreadView owner, long ageNanos,
                     Instant deadline, Long remainingNanos, Duration grace, int running, Integer stragglersAtClose,
                     List<TaskView> tasks, int omittedTasks, Long parentId, Integer parentTask, int depth,
                     int indent) {
    }

    /**
     * A running subtask.
     *
     * @param index its index in its scope, from 1
     * @param name its name, or null
     * @param state its state
     * @param ageNanos time since it was forked
     * @param cancelRequested whether its cancellation was requested
     * @param criticalDepth its critical-section depth; 0 outside any section
     * @param section the name of its innermost critical section, or null
     * @param thread its thread
     * @param location the frame it is in, as {@code SimpleClass.method}, skipping the JDK's
     *                 scheduling frames (see {@link Stacks#stuckIn}); null when the stack was not taken
     * @param stack the top of its stack; empty when not taken
     * @param moreFrames frames below {@code stack} not included
     * @param stackOmitted whether the stack was not taken because of {@link #MAX_STACKS}
     */
    record TaskView(int index, String name, TaskScope.Subtask.State state, long ageNanos, boolean cancelRequested,
                    int criticalDepth, String section, ThreadView thread, String location, List<StackTraceElement> stack,
                    int moreFrames, boolean stackOmitted) {
    }

    /**
     * A thread.
     *
     * @param name its name
     * @param id its {@link Thread#threadId() id}
     * @param virtual whether it is virtual
     * @param state its state
     */
    record ThreadView(String name, long id, boolean virtual, Thread.State state) {

        static ThreadView of(Thread t) {
            return new ThreadView(t.getName().isEmpty() ? Names.thread(t) : t.getName(), t.threadId(), t.isVirtual(), t.getState());
        }
    }

    /** Takes a snapshot of the registry. */
    static Snapshot snapshot(int maxFrames) {
        return new Walker(maxFrames).snapshot();
    }

    private static final class Walker {
        private final int maxFrames;
        private final long now = System.nanoTime();
        private final Instant wallNow = Instant.now();
        private int stacksLeft = MAX_STACKS;
        private int running;

        Walker(int maxFrames) {
            this.maxFrames = maxFrames;
        }

        Snapshot snapshot() {
            List<ScopeView> r = new ArrayList<>();
            List<ScopeView> l = new ArrayList<>();
            boolean inLingering = false;
            java.util.Map<Long, Integer> indents = new java.util.HashMap<>();
            for (TreeWalk.Node n : TreeWalk.all()) {
                if (n.depth() == 0) {
                    inLingering = n.lingering();
                }
                int indent = n.parent() == null ? 0
                        : indents.getOrDefault(n.parent().id, 0) + (n.parentTask() != null ? 2 : 1);
                indents.put(n.flock().id, indent);
                (inLingering ? l : r).add(scope(n, indent));
            }
            return new Snapshot(wallNow, ProcessHandle.current().pid(), maxFrames, List.copyOf(r), List.copyOf(l),
                    running, List.copyOf(Reports.recent()));
        }

        private ScopeView scope(TreeWalk.Node n, int indent) {
            Flock f = n.flock();
            Reason reason = f.reason;
            Instant deadline = f.effectiveDeadline;
            Long remaining = deadline == null ? null : remainingNanos(deadline);
            List<GracePeriodExceededException.Straggler> stragglers = f.stragglers;
            int live = f.liveCount();
            running += live;
            List<Task> all = f.runningTasks();
            int listed = Math.min(all.size(), MAX_TASKS_PER_SCOPE);
            List<TaskView> tasks = new ArrayList<>(listed);
            for (int i = 0; i < listed; i++) {
                tasks.add(task(all.get(i)));
            }
            return new ScopeView(f.id, f.name, phase(f.phase), f.root,
                    reason == null ? null : reason.kind().name().toLowerCase(Locale.ROOT),
                    reason == null ? null : "scope '" + Names.escape(f.name) + "' " + reason.text(),
                    reason == null || reason.cause() == null ? null : reason.cause().toString(),
                    f.abandoned, f.lingering, ThreadView.of(f.owner), now - f.openedNanos, deadline, remaining,
                    f.grace, live, stragglers == null ? null : stragglers.size(), List.copyOf(tasks),
                    all.size() - listed, n.parent() == null ? null : n.parent().id,
                    n.parentTask() == null ? null : n.parentTask().index, n.depth(), indent);
        }

        private TaskView task(Task t) {
            Thread th = t.thread;
            List<StackTraceElement> stack = List.of();
            String location = null;
            int more = 0;
            boolean omitted = false;
            if (maxFrames > 0) {
                if (stacksLeft > 0) {
                    stacksLeft--;
                    StackTraceElement[] s = th.getStackTrace();
                    int n = Math.min(s.length, maxFrames);
                    stack = List.of(s).subList(0, n);
                    more = s.length - n;
                    location = s.length == 0 ? null : Stacks.stuckIn(List.of(s));
                } else {
                    omitted = true;
                }
            }
            int depth = t.criticalDepth();
            return new TaskView(t.index, t.nameOrNull(), t.state(), now - t.forkNanos, t.isCancelRequested(), depth,
                    depth > 0 ? t.sectionName() : null, ThreadView.of(th), location, List.copyOf(stack), more, omitted);
        }

        private long remainingNanos(Instant deadline) {
            try {
                return Duration.between(wallNow, deadline).toNanos();
            } catch (ArithmeticException e) {
                return deadline.isBefore(wallNow) ? Long.MIN_VALUE : Long.MAX_VALUE;
            }
        }
    }

    static String phase(int phase) {
        return switch (phase) {
            case Flock.OPEN -> "open";
            case Flock.JOINED -> "joined";
            default -> "closed";
        };
    }

    // ---------------------------------------------------------------------------------------
    // Text

    static String text(int maxFrames) {
        return text(snapshot(maxFrames));
    }

    static String text(Snapshot s) {
        StringBuilder sb = new StringBuilder(512);
        sb.append("Weft scope dump at ").append(s.at()).append(" (pid ").append(s.pid()).append("): ")
                .append(plural(s.roots().size(), "open root scope", "open root scopes")).append(", ")
                .append(plural(s.lingering().size(), "scope", "scopes")).append(" with stragglers, ")
                .append(plural(s.running(), "running subtask", "running subtasks")).append('\n');
        for (ScopeView v : s.roots()) {
            scope(sb, v, v.indent());
        }
        if (!s.lingering().isEmpty()) {
            sb.append("stragglers (scopes closed or leaked while subtasks still run; Java cannot stop threads, they are listed until they end):\n");
            for (ScopeView v : s.lingering()) {
                scope(sb, v, v.indent() + 1);
            }
        }
        if (!s.incidents().isEmpty()) {
            sb.append("recent incidents (at most ").append(Reports.RECENT_LIMIT).append(", oldest first):\n");
            for (Reports.Incident i : s.incidents()) {
                sb.append("  ").append(i.at()).append(' ').append(i.kind()).append(": ");
                appendIndented(sb, i.message(), "    ");
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    private static void scope(StringBuilder sb, ScopeView v, int depth) {
        indent(sb, depth).append("scope '").append(Names.escape(v.name())).append("' ").append(v.phase());
        if (v.cancelKind() != null) {
            sb.append(", cancelled (").append(v.cancelKind()).append(')');
        }
        if (v.leaked()) {
            sb.append(", LEAKED");
        }
        sb.append(", owner '").append(Names.escape(v.owner().name())).append("' ").append(v.owner().state())
                .append(", age ").append(human(v.ageNanos()));
        if (v.deadline() != null) {
            long left = v.remainingNanos();
            sb.append(", deadline ").append(v.deadline())
                    .append(left < 0 ? " (passed " + human(-left) + " ago)" : " (" + human(left) + " left)");
        }
        sb.append(", grace ").append(v.grace() == null ? "unbounded" : human(v.grace()));
        sb.append(", ").append(v.running()).append(" running");
        if (v.stragglersAtClose() != null) {
            sb.append(", ").append(plural(v.stragglersAtClose(), "straggler", "stragglers")).append(" at close");
        }
        sb.append(" [id ").append(v.id());
        if (v.parentTask() != null) {
            sb.append(", opened by task #").append(v.parentTask()).append(" of scope id ").append(v.parentId());
        } else if (v.parentId() != null) {
            sb.append(", inside scope id ").append(v.parentId());
        }
        sb.append("]\n");
        if (v.cancelReason() != null) {
            indent(sb, depth + 1).append("reason: ").append(Names.escape(v.cancelReason()));
            sb.append('\n');
        }
        for (TaskView t : v.tasks()) {
            task(sb, t, depth + 1);
        }
        if (v.omittedTasks() > 0) {
            indent(sb, depth + 1).append("... and ").append(v.omittedTasks()).append(" more running subtasks (at most ")
                    .append(MAX_TASKS_PER_SCOPE).append(" are listed per scope)\n");
        }
    }

    private static void task(StringBuilder sb, TaskView t, int depth) {
        indent(sb, depth).append("task #").append(t.index());
        if (t.name() != null) {
            sb.append(" '").append(Names.escape(t.name())).append('\'');
        }
        sb.append(' ').append(t.state()).append(", age ").append(human(t.ageNanos()));
        if (t.location() != null) {
            sb.append(", in ").append(t.location());
        }
        if (t.cancelRequested()) {
            sb.append(", cancel requested");
        }
        if (t.criticalDepth() > 0) {
            sb.append(", in critical section").append(t.section() == null ? "" : " '" + Names.escape(t.section()) + "'");
            if (t.criticalDepth() > 1) {
                sb.append(" (depth ").append(t.criticalDepth()).append(')');
            }
            if (t.cancelRequested()) {
                sb.append(", holding the cancellation back");
            }
        }
        ThreadView th = t.thread();
        sb.append(", thread '").append(Names.escape(th.name())).append("' ").append(th.state()).append('\n');
        for (StackTraceElement e : t.stack()) {
            indent(sb, depth + 2).append("at ").append(e).append('\n');
        }
        if (t.moreFrames() > 0) {
            indent(sb, depth + 2).append("... ").append(t.moreFrames()).append(" more\n");
        }
        if (t.stackOmitted()) {
            indent(sb, depth + 2).append("(stack not taken: at most ").append(MAX_STACKS).append(" per dump)\n");
        }
    }

    /** Indents by {@code depth}, at most {@link #MAX_INDENT} levels; deeper lines say their depth instead. */
    private static StringBuilder indent(StringBuilder sb, int depth) {
        for (int i = 0, n = Math.min(depth, MAX_INDENT); i < n; i++) {
            sb.append("  ");
        }
        if (depth > MAX_INDENT) {
            sb.append("[depth ").append(depth).append("] ");
        }
        return sb;
    }

    /** Appends {@code text}, indenting its continuation lines, so that a multi-line message keeps the tree readable. */
    private static void appendIndented(StringBuilder sb, String text, String indent) {
        sb.append(text.replace("\n", "\n" + indent));
    }

    private static String plural(int n, String one, String many) {
        return n + " " + (n == 1 ? one : many);
    }

    /** A duration for people: {@code 850 ms}, {@code 2.1 s}, {@code 75 s}, {@code 2 h 5 min}. */
    static String human(long nanos) {
        if (nanos < 0) {
            nanos = 0;
        }
        if (nanos < 1_000_000L) {
            return nanos == 0 ? "0 ms" : "<1 ms";
        }
        long millis = nanos / 1_000_000L;
        if (millis < 1000) {
            return millis + " ms";
        }
        if (millis < 3_600_000L) {
            return GracePeriodExceededException.Straggler.seconds(Duration.ofMillis(millis));
        }
        long minutes = millis / 60_000L;
        return (minutes / 60) + " h " + (minutes % 60) + " min";
    }

    static String human(Duration d) {
        long nanos;
        try {
            nanos = d.toNanos();
        } catch (ArithmeticException e) {
            nanos = Long.MAX_VALUE;
        }
        return human(nanos);
    }

    // ---------------------------------------------------------------------------------------
    // JSON

    static String json(int maxFrames) {
        return json(snapshot(maxFrames));
    }

    static String json(Snapshot s) {
        StringBuilder sb = new StringBuilder(1024);
        JsonWriter w = new JsonWriter(sb);
        w.beginObject()
                .field("format", JSON_FORMAT)
                .field("time", s.at().toString())
                .field("pid", s.pid())
                .field("maxFrames", s.maxFrames())
                .field("runningSubtasks", s.running());
        // Flat: one object per scope, with its parent's id, so that depth costs no nesting.
        w.name("scopes").beginArray();
        for (ScopeView v : s.roots()) {
            scope(w, v, v.depth() == 0 ? "root" : "nested");
        }
        for (ScopeView v : s.lingering()) {
            scope(w, v, v.depth() == 0 ? "lingering" : "nested");
        }
        w.endArray();
        w.name("incidents").beginArray();
        for (Reports.Incident i : s.incidents()) {
            w.beginObject()
                    .field("time", i.at().toString())
                    .field("kind", i.kind())
                    .field("message", i.message())
                    .field("error", i.error() == null ? null : i.error().toString())
                    .endObject();
        }
        w.endArray();
        w.endObject();
        return sb.append('\n').toString();
    }

    private static void scope(JsonWriter w, ScopeView v, String listedAs) {
        w.beginObject()
                .field("id", v.id())
                .field("listedAs", listedAs)
                .field("parent", v.parentId())
                .field("parentTask", v.parentTask() == null ? null : Long.valueOf(v.parentTask()))
                .field("depth", v.depth())
                .field("name", v.name())
                .field("phase", v.phase())
                .field("root", v.root())
                .field("cancelled", v.cancelKind() != null);
        w.name("cancellation");
        if (v.cancelKind() == null) {
            w.nullValue();
        } else {
            w.beginObject()
                    .field("kind", v.cancelKind())
                    .field("reason", v.cancelReason())
                    .field("cause", v.cancelCause())
                    .endObject();
        }
        w.field("leaked", v.leaked())
                .field("lingering", v.lingering());
        w.name("owner");
        thread(w, v.owner());
        w.field("ageMillis", v.ageNanos() / 1_000_000L)
                .field("deadline", v.deadline() == null ? null : v.deadline().toString())
                .field("remainingMillis", v.remainingNanos() == null ? null : v.remainingNanos() / 1_000_000L)
                .field("graceMillis", v.grace() == null ? null : millis(v.grace()))
                .field("running", v.running())
                .field("stragglersAtClose", v.stragglersAtClose() == null ? null : Long.valueOf(v.stragglersAtClose()));
        w.name("tasks").beginArray();
        for (TaskView t : v.tasks()) {
            task(w, t);
        }
        w.endArray();
        w.field("omittedTasks", v.omittedTasks());
        w.endObject();
    }

    private static void task(JsonWriter w, TaskView t) {
        w.beginObject()
                .field("index", t.index())
                .field("name", t.name())
                .field("state", t.state().name())
                .field("ageMillis", t.ageNanos() / 1_000_000L)
                .field("cancelRequested", t.cancelRequested());
        w.name("criticalSection");
        if (t.criticalDepth() == 0) {
            w.nullValue();
        } else {
            w.beginObject()
                    .field("name", t.section())
                    .field("depth", t.criticalDepth())
                    .field("holdingCancellation", t.cancelRequested())
                    .endObject();
        }
        w.name("thread");
        thread(w, t.thread());
        w.field("location", t.location());
        w.name("stack").beginArray();
        for (StackTraceElement e : t.stack()) {
            w.value(e.toString());
        }
        w.endArray();
        w.field("moreFrames", t.moreFrames())
                .field("stackOmitted", t.stackOmitted());
        w.endObject();
    }

    private static void thread(JsonWriter w, ThreadView t) {
        w.beginObject()
                .field("name", t.name())
                .field("tid", t.id())
                .field("virtual", t.virtual())
                .field("state", t.state().name())
                .endObject();
    }

    private static long millis(Duration d) {
        try {
            return d.toMillis();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    // ---------------------------------------------------------------------------------------
    // toString

    /**
     * {@code TaskScope['ingest' open, 3 running, owner 'main', age 1.2 s, deadline ... (0.8 s left),
     * grace 2 s; scope 'ingest' was cancelled: java.io.IOException: disk full]}.
     */
    static String describe(Flock f) {
        StringBuilder sb = new StringBuilder(96).append("TaskScope['").append(Names.escape(f.name)).append("' ").append(phase(f.phase));
        if (f.abandoned) {
            sb.append(", LEAKED");
        }
        sb.append(", ").append(f.liveCount()).append(" running, owner '").append(f.owner.getName())
                .append("', age ").append(human(System.nanoTime() - f.openedNanos));
        Instant deadline = f.effectiveDeadline;
        if (deadline != null) {
            Instant now = Instant.now();
            sb.append(", deadline ").append(deadline);
            if (deadline.isBefore(now)) {
                sb.append(" (passed)");
            } else {
                sb.append(" (").append(human(Duration.between(now, deadline))).append(" left)");
            }
        }
        sb.append(", grace ").append(f.grace == null ? "unbounded" : human(f.grace));
        Reason r = f.reason;
        if (r != null) {
            sb.append("; cancelled: ").append(r.text());
        }
        return sb.append(']').toString();
    }

    /**
     * {@code Subtask[ingest#3 'reader' RUNNING, cancel requested, in critical section 'flush', thread
     * 'ingest#3:reader']}, {@code Subtask[ingest#2 FAILED: java.io.IOException: disk full]}.
     */
    static String describe(Task t) {
        StringBuilder sb = new StringBuilder(64).append("Subtask[").append(Names.escape(t.flock.name)).append('#').append(t.index);
        String name = t.nameOrNull();
        if (name != null) {
            sb.append(" '").append(Names.escape(name)).append('\'');
        }
        TaskScope.Subtask.State state = t.state();
        sb.append(' ').append(state);
        switch (state) {
            case RUNNING -> {
                if (t.isCancelRequested()) {
                    sb.append(", cancel requested");
                }
                if (t.criticalDepth() > 0) {
                    String section = t.sectionName();
                    sb.append(", in critical section").append(section == null ? "" : " '" + Names.escape(section) + "'");
                }
                Thread th = t.thread;
                if (th != null) {
                    sb.append(", thread '").append(Names.thread(th)).append('\'');
                }
            }
            case FAILED -> sb.append(": ").append(t.failure());
            default -> {
            }
        }
        return sb.append(']').toString();
    }
}

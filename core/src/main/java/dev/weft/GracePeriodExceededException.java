package dev.weft;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Thrown by {@link TaskScope#close()} when subtasks were still running at the end of the grace
 * period. The message has one line per straggler, readable on its own:
 * <pre>
 * scope 'ingest' closed with 1 straggler after a grace period of 2 s:
 *   scope 'ingest' task #3 'reader' stuck in FileInputStream.read, running 8.3 s since fork, 2.1 s since cancelled (not in a critical section) [thread 'ingest#3:reader' RUNNABLE]
 * </pre>
 * The message lists at most the first 50 stragglers, then says how many more there are;
 * {@link #stragglers()} is always complete and gives the details, including each straggler's stack
 * trace at the time of the report (collected for the first 256).
 *
 * <p>The stragglers keep running: Java cannot kill threads. They stay listed by
 * {@link Scopes#dump()} until they end, and a failure they end with is reported through
 * {@code System.Logger} {@code "dev.weft"}.
 */
public final class GracePeriodExceededException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Most lines in the message; the list itself is complete. */
    static final int MAX_MESSAGE_LINES = 50;

    /** The stragglers, unmodifiable. */
    private final transient List<Straggler> stragglers;

    /** The grace period that ran out. */
    private final Duration grace;

    GracePeriodExceededException(String scopeName, Duration grace, List<Straggler> stragglers) {
        super(message(scopeName, grace, stragglers));
        this.grace = grace;
        this.stragglers = List.copyOf(stragglers);
    }

    /**
     * Returns the subtasks still running when the grace period ended, in fork order.
     *
     * @return the stragglers; never empty
     */
    public List<Straggler> stragglers() {
        return stragglers;
    }

    /**
     * Returns the grace period that ran out.
     *
     * @return the grace period, or {@code null} if the scope had none (unbounded)
     */
    public Duration grace() {
        return grace;
    }

    /**
     * Finds the straggler report in an outcome: {@code outcome} itself if it is one, else the first
     * one attached to it as {@linkplain Throwable#getSuppressed() suppressed}, at any depth. When
     * the body of a {@code try}-with-resources throws (for example {@link TaskScope#join()} with a
     * {@link DeadlineExceededException}) and {@link TaskScope#close()} then reports stragglers, the
     * report is attached to the body's exception; this is the one call that finds it, whichever
     * exception the {@code catch} received:
     * {@snippet :
     * } catch (DeadlineExceededException | GracePeriodExceededException e) {
     *     GracePeriodExceededException.in(e).ifPresent(g -> log.warn(g.getMessage()));
     * }
     * }
     *
     * @param outcome the exception caught
     * @return the straggler report, if there is one
     * @throws NullPointerException if {@code outcome} is null
     */
    public static java.util.Optional<GracePeriodExceededException> in(Throwable outcome) {
        Objects.requireNonNull(outcome, "outcome");
        java.util.ArrayDeque<Throwable> work = new java.util.ArrayDeque<>();
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        work.add(outcome);
        while (!work.isEmpty()) {
            Throwable t = work.poll();
            if (!seen.add(t)) {
                continue;
            }
            if (t instanceof GracePeriodExceededException g) {
                return java.util.Optional.of(g);
            }
            work.addAll(List.of(t.getSuppressed()));
            if (t.getCause() != null) {
                work.add(t.getCause());
            }
        }
        return java.util.Optional.empty();
    }

    private static String message(String scopeName, Duration grace, List<Straggler> stragglers) {
        StringBuilder sb = new StringBuilder(64 + 96 * Math.min(stragglers.size(), MAX_MESSAGE_LINES));
        sb.append("scope '").append(Names.escape(scopeName)).append("' closed with ").append(stragglers.size())
                .append(stragglers.size() == 1 ? " straggler" : " stragglers")
                .append(grace == null ? " (no grace period)" : " after a grace period of " + Straggler.seconds(grace))
                .append(':');
        int n = 0;
        for (Straggler s : stragglers) {
            if (n++ == MAX_MESSAGE_LINES) {
                sb.append("\n  ... and ").append(stragglers.size() - MAX_MESSAGE_LINES).append(" more");
                break;
            }
            sb.append("\n  ").append(s.describe());
        }
        return sb.toString();
    }

    /**
     * Something still running when a grace period ended: a subtask's body, a joiner's
     * {@code onComplete} that the subtask's thread is running, or an {@code onCancel} resource's
     * {@code close()} on a Weft closer thread.
     *
     * @param scope the name of the scope the subtask belongs to
     * @param index the subtask's index in its scope, counting from 1
     * @param task the subtask's {@linkplain TaskScope.Subtask#name() name}
     * @param thread the thread that is still running
     * @param threadState the thread's state when the report was made
     * @param age how long it has been running: since the fork for a subtask or a joiner callback,
     *            since the close began for an {@code onCancel} close
     * @param sinceCancel how long ago the cancellation reached the subtask, or {@code null} if it
     *                    was not cancelled
     * @param criticalSection whether the subtask was inside a critical section
     * @param criticalSectionName the name of the innermost critical section, or {@code null}
     * @param activity what is still running: {@code "task"}, {@code "joiner onComplete"}, or
     *                 {@code "onCancel close of <resource>"}
     * @param stackTrace the thread's stack trace when the report was made; empty when the JVM
     *                   could not provide it
     */
    public record Straggler(String scope, int index, String task, Thread thread, Thread.State threadState,
                            Duration age, Duration sinceCancel, boolean criticalSection, String criticalSectionName,
                            String activity, List<StackTraceElement> stackTrace) {

        /**
         * Validates and copies the components.
         *
         * @throws NullPointerException if a component other than {@code sinceCancel} and
         *         {@code criticalSectionName} is null
         */
        public Straggler {
            Objects.requireNonNull(scope, "scope");
            Objects.requireNonNull(task, "task");
            Objects.requireNonNull(thread, "thread");
            Objects.requireNonNull(threadState, "threadState");
            Objects.requireNonNull(age, "age");
            Objects.requireNonNull(activity, "activity");
            stackTrace = List.copyOf(stackTrace);
        }

        /**
         * Returns the frame the thread is stuck in, as {@code SimpleClass.method}: the first frame
         * of the stack trace outside the JDK's thread and scheduling internals.
         *
         * @return the frame, or {@code "an unknown frame"} if there is no stack trace
         */
        public String stuckIn() {
            return Stacks.stuckIn(stackTrace);
        }

        /**
         * Returns a one-line description (names are escaped, so it never spans lines), for example
         * {@code scope 'ingest' task #3 'reader' stuck in FileInputStream.read, running 8.3 s since
         * fork, 2.1 s since cancelled (not in a critical section) [thread 'ingest#3:reader' RUNNABLE]}
         * or {@code scope 'ingest' onCancel close of java.io.BufferedReader@1b6d3586 for task #3
         * 'reader' stuck 1.0 s in BufferedReader.close [thread 'weft-oncancel-1' WAITING]}.
         *
         * @return the description
         */
        public String describe() {
            StringBuilder sb = new StringBuilder(128);
            sb.append("scope '").append(Names.escape(scope)).append("' ");
            String t = "task #" + index + (task.equals("#" + index) ? "" : " '" + Names.escape(task) + "'");
            if (activity.startsWith("onCancel")) {
                sb.append(Names.escape(activity)).append(" for ").append(t)
                        .append(" stuck ").append(seconds(age)).append(" in ").append(stuckIn());
            } else {
                sb.append(t);
                if (!activity.equals("task")) {
                    sb.append(" in ").append(Names.escape(activity));
                }
                sb.append(" stuck in ").append(stuckIn()).append(", running ").append(seconds(age)).append(" since fork");
                if (sinceCancel != null) {
                    sb.append(", ").append(seconds(sinceCancel)).append(" since cancelled");
                }
                if (!criticalSection) {
                    sb.append(" (not in a critical section)");
                } else if (criticalSectionName != null) {
                    sb.append(" (in critical section '").append(Names.escape(criticalSectionName)).append("')");
                } else {
                    sb.append(" (in a critical section)");
                }
            }
            sb.append(" [thread '").append(Names.thread(thread)).append("' ").append(threadState).append(']');
            return sb.toString();
        }

        static String seconds(Duration d) {
            long millis = d.toMillis();
            if (millis % 1000 == 0) {
                return (millis / 1000) + " s";
            }
            if (millis < 10_000) {
                return String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
            }
            return (millis / 1000) + " s";
        }
    }
}

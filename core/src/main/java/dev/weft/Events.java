package dev.weft;

import java.util.List;

/**
 * Observability hooks: where the scope lifecycle reports to JFR (and anything else that observes
 * it). Each method is called off the fast paths (never per fork or per check), and must be cheap
 * when nothing is recording, and never throw.
 */
final class Events {

    private Events() {
    }

    /**
     * A cancelled scope has no running subtask any more: the cancellation latency observed in
     * production. Called once per cancelled scope.
     *
     * @param flock the scope
     * @param tasks the number of subtasks that were running when it was cancelled
     * @param nanos time from the cancellation until the last subtask ended
     */
    static void scopeCancelled(Flock flock, int tasks, long nanos) {
    }

    /** {@code close()} found stragglers after the grace period. */
    static void gracePeriodExceeded(Flock flock, List<GracePeriodExceededException.Straggler> stragglers) {
    }

    /**
     * A critical section held back a cancellation of its scope and has just delivered it.
     *
     * @param task the subtask
     * @param section the section's name, or null
     * @param heldNanos how long the cancellation was held back
     */
    static void criticalSectionHeld(Task task, String section, long heldNanos) {
    }

    /** A scope became unreachable while open. */
    static void scopeLeaked(Flock flock) {
    }
}

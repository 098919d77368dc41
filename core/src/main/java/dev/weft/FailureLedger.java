package dev.weft;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The failures of one scope's user code, each delivered to exactly one place. User code is the
 * subtasks' bodies, the joiner's {@code onComplete}, the {@code onCancel} resources' {@code close()}
 * and the thread factory's threads. (A failure of {@code onFork} or of the thread factory itself is
 * thrown by {@code fork} and never reaches the ledger.)
 *
 * <h2>Where a failure goes</h2>
 * <ul>
 *   <li>{@code join()} throws: every failure recorded so far is attached to its exception (the cause
 *       itself is not attached twice).</li>
 *   <li>{@code join()} returns normally: the subtasks' failures recorded so far are delivered by the
 *       subtasks themselves ({@link TaskScope.Subtask#exception()}, as with a supervisor joiner);
 *       other failures recorded so far (an {@code onCancel} close) are logged.</li>
 *   <li>{@code close()}: what is left is attached to the exception {@code close()} throws, if it
 *       throws; otherwise each is logged.</li>
 *   <li>After {@code close()} (a straggler that fails later, a leaked scope): each failure is
 *       logged as it happens.</li>
 * </ul>
 * "Logged" means one {@code System.Logger} {@code "dev.weft"} record per failure, whose thrown
 * exception is the failure.
 *
 * <h2>Exactly once</h2>
 * Each {@link Entry} is claimed by one CAS on {@link Entry#claimed}. The owner claims the entries it
 * delivers. A recorder adds its entry and then reads {@link #logMode}; the owner sets
 * {@link #logMode} before its last drain. So an entry added concurrently with the last drain is
 * either drained by the owner or seen by its recorder in log mode, and whichever of the two claims
 * it first delivers it; the other skips it.
 *
 * <p>At most {@link #MAX_KEPT} entries are kept for attachment; a failure beyond that is logged at
 * once by its recorder, so memory is bounded and still nothing is dropped.
 */
final class FailureLedger {

    /** Most failures kept for attachment to {@code join}'s or {@code close}'s exception. */
    static final int MAX_KEPT = 1024;

    /** Where a failure came from. */
    enum Source { TASK, JOINER, ON_CANCEL_CLOSE }

    /** One failure. {@link #claimed} is CAS from false to true by its deliverer. */
    static final class Entry {
        final Throwable failure;
        final Source source;
        final String context;
        volatile boolean claimed;

        Entry(Throwable failure, Source source, String context) {
            this.failure = failure;
            this.source = source;
            this.context = context;
        }

        boolean claim() {
            return !claimed && CLAIMED.compareAndSet(this, false, true);
        }
    }

    /** The scope, for messages. Final. */
    private final String scopeName;

    /** Entries, in order of recording; created on the first. Any thread adds; the owner drains. */
    private volatile ConcurrentLinkedQueue<Entry> entries;

    /** Entries added, for the cap; approximate under races, which only affects the cap. */
    private volatile int count;

    /** Set by the owner before its last drain: from then on, recorders log their failures themselves. */
    private volatile boolean logMode;

    FailureLedger(String scopeName) {
        this.scopeName = scopeName;
    }

    /** Records a failure. Any thread. {@code context} completes a log message, e.g. "subtask #3 of scope 'x' failed". */
    void record(Throwable failure, Source source, String context) {
        Entry e = new Entry(failure, source, context);
        if (count >= MAX_KEPT) {
            if (e.claim()) {
                log(e, " (more than " + MAX_KEPT + " failures in this scope: logged instead of attached)");
            }
            return;
        }
        COUNT.getAndAdd(this, 1);
        ConcurrentLinkedQueue<Entry> q = entries;
        if (q == null) {
            q = new ConcurrentLinkedQueue<>();
            if (!ENTRIES.compareAndSet(this, null, q)) {
                q = entries;
            }
        }
        q.add(e);
        if (logMode && e.claim()) {
            q.remove(e);
            log(e, " after its scope was closed (logged: nothing else can report it)");
        }
    }

    /** The first failure of the given source not yet delivered, or null. Owner. */
    Throwable first(Source source) {
        ConcurrentLinkedQueue<Entry> q = entries;
        if (q != null) {
            for (Entry e : q) {
                if (e.source == source && !e.claimed) {
                    return e.failure;
                }
            }
        }
        return null;
    }

    /**
     * Attaches every undelivered failure to {@code outcome} as suppressed, except {@code cause}
     * (already its cause) and {@code outcome} itself. Owner.
     */
    void attachTo(Throwable outcome, Throwable cause) {
        ConcurrentLinkedQueue<Entry> q = entries;
        if (q == null) {
            return;
        }
        for (Entry e; (e = q.poll()) != null; ) {
            if (e.claim() && e.failure != cause && e.failure != outcome) {
                outcome.addSuppressed(e.failure);
            }
        }
    }

    /**
     * {@code join()} returned normally: the subtasks' failures are delivered by the subtasks; the
     * others are logged. Owner.
     */
    void joinReturned() {
        ConcurrentLinkedQueue<Entry> q = entries;
        if (q == null) {
            return;
        }
        for (Entry e; (e = q.poll()) != null; ) {
            if (e.claim() && e.source != Source.TASK) {
                log(e, " (join() returned normally, so it is logged)");
            }
        }
    }

    /**
     * The owner's last delivery: from now on recorders log; what is left is attached to
     * {@code outcome} if it is not null, else logged. Owner, once.
     */
    void closeOut(Throwable outcome) {
        logMode = true;
        ConcurrentLinkedQueue<Entry> q = entries;
        if (q == null) {
            return;
        }
        for (Entry e; (e = q.poll()) != null; ) {
            if (e.claim()) {
                if (outcome != null) {
                    outcome.addSuppressed(e.failure);
                } else {
                    log(e, " and was not reported by join() (logged at close(), which had nothing to throw)");
                }
            }
        }
    }

    private void log(Entry e, String note) {
        Reports.failure(e.context + note + ": " + e.failure, e.failure);
    }

    @Override
    public String toString() {
        return "FailureLedger[" + scopeName + ", " + count + " recorded]";
    }

    // VarHandle mechanics
    private static final VarHandle ENTRIES;
    private static final VarHandle COUNT;
    private static final VarHandle CLAIMED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            ENTRIES = l.findVarHandle(FailureLedger.class, "entries", ConcurrentLinkedQueue.class);
            COUNT = l.findVarHandle(FailureLedger.class, "count", int.class);
            CLAIMED = l.findVarHandle(Entry.class, "claimed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}

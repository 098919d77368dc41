package dev.weft;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JVM-wide registry: the open root scopes (for {@link Scopes#cancelAll()}, the shutdown hook
 * and dumps), and the <em>lingering</em> scopes: closed or leaked with subtasks still running,
 * kept until those subtasks end so that no straggler is forgotten. Nested scopes are reached
 * through the tree ({@link TreeWalk}). A root costs one concurrent-set insertion at open and one
 * removal at close.
 *
 * <p>The registry sees the whole tree through leaks: a leaked root stays registered while a scope
 * its owner opened inside it is open (until the owner thread unlinks it), so that scope stays
 * reachable. Once shutdown has begun, a new root scope is born cancelled: {@link #addRoot} adds,
 * then reads {@link #shuttingDown}; the hook sets it, then cancels the registered roots; either the
 * new scope is among them or it sees the flag.
 */
final class Registry {

    private Registry() {
    }

    private static final Set<Flock> ROOTS = ConcurrentHashMap.newKeySet();
    private static final Set<Flock> LINGERING = ConcurrentHashMap.newKeySet();

    /** Set once, when the shutdown hook starts. */
    private static volatile boolean shuttingDown;

    static {
        Jmx.registerIfRequested();      // -Ddev.weft.jmx=true: once, when the first scope opens
    }

    /** Registers a new root scope; cancels it if shutdown has begun. Owner thread, at open. */
    static void addRoot(Flock f) {
        ROOTS.add(f);
        if (shuttingDown) {
            f.cancel(Reason.global("the JVM shutdown hook (the scope was opened after shutdown began)"));
        }
    }

    static void removeRoot(Flock f) {
        ROOTS.remove(f);
    }

    /** Keeps {@code f} listed until its running subtasks end. */
    static void linger(Flock f) {
        f.lingering = true;
        LINGERING.add(f);
        if (f.liveCount() == 0) {       // the last subtask may have ended before it saw lingering
            drained(f);
        }
    }

    /** The last subtask of a lingering scope ended. */
    static void drained(Flock f) {
        LINGERING.remove(f);
    }

    static List<Flock> roots() {
        return new ArrayList<>(ROOTS);
    }

    static List<Flock> lingering() {
        return new ArrayList<>(LINGERING);
    }

    /** Cancels every open root scope and what is below it; returns how many roots this call cancelled. */
    static int cancelAll(Reason reason) {
        int n = 0;
        for (Flock f : ROOTS) {
            if (f.cancel(reason)) {
                n++;
            }
        }
        return n;
    }

    /** Shutdown began: from now on, new root scopes are born cancelled; then every root is cancelled. */
    static void beginShutdown(Reason reason) {
        shuttingDown = true;
        cancelAll(reason);
    }
}

package dev.weft;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JVM-wide registry: the open root scopes (for {@link Scopes#cancelAll()}, the shutdown hook
 * and dumps), and the <em>lingering</em> scopes: closed or leaked with subtasks still running,
 * kept until those subtasks end so that no straggler is forgotten. Nested scopes are reached
 * through the tree. A root costs one concurrent-set insertion at open and one removal at close.
 */
final class Registry {

    private Registry() {
    }

    private static final Set<Flock> ROOTS = ConcurrentHashMap.newKeySet();
    private static final Set<Flock> LINGERING = ConcurrentHashMap.newKeySet();

    static {
        Jmx.registerIfRequested();      // -Ddev.weft.jmx=true: once, when the first scope opens
    }

    static void addRoot(Flock f) {
        ROOTS.add(f);
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

    /** Cancels every open root scope; returns how many this call cancelled. */
    static int cancelAll(Flock.Reason reason) {
        int n = 0;
        for (Flock f : ROOTS) {
            if (f.cancel(reason)) {
                n++;
            }
        }
        return n;
    }
}

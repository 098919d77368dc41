package dev.weft;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The one walk over the live scope tree, for everything that needs the whole tree: dumps, the
 * shutdown hook, and finding the task of a thread whose uncaught-exception handler was replaced.
 * It starts at the registry's root and lingering scopes and follows, from each scope, the scope its
 * owner opened inside it ({@link Flock#inner}) and the scopes its unfinished subtasks opened
 * ({@link Context#outermost}). It is a loop over a work list, not a recursion, so depth is not a
 * limit; scopes reachable twice (a lingering scope is also a root) are visited once.
 */
final class TreeWalk {

    private TreeWalk() {
    }

    /**
     * A scope reached by the walk.
     *
     * @param flock the scope
     * @param parent the scope it hangs under, or null for a root or lingering scope
     * @param parentTask the subtask of {@code parent} that opened it, or null if the owner of
     *                   {@code parent} opened it (or it has no parent)
     * @param depth 0 for roots and lingering scopes, parent's depth + 1 otherwise
     * @param lingering whether the walk reached it as a lingering scope
     */
    record Node(Flock flock, Flock parent, Task parentTask, int depth, boolean lingering) {
    }

    /** Every scope reachable from the registry, parents before children (depth-first, in fork order). */
    static List<Node> all() {
        List<Node> out = new ArrayList<>();
        Set<Flock> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Node> stack = new ArrayDeque<>();
        List<Flock> roots = Registry.roots();
        List<Flock> lingering = Registry.lingering();
        roots.sort(java.util.Comparator.comparingLong(f -> f.id));
        lingering.sort(java.util.Comparator.comparingLong(f -> f.id));
        for (int i = lingering.size() - 1; i >= 0; i--) {
            stack.push(new Node(lingering.get(i), null, null, 0, true));
        }
        for (int i = roots.size() - 1; i >= 0; i--) {
            stack.push(new Node(roots.get(i), null, null, 0, false));
        }
        while (!stack.isEmpty()) {
            Node n = stack.pop();
            Flock f = n.flock();
            if (!seen.add(f)) {
                continue;
            }
            out.add(n);
            // Push in reverse so that children come out in order: tasks' scopes, then the inner scope.
            Flock in = f.inner;
            if (in != null) {
                stack.push(new Node(in, f, null, n.depth() + 1, false));
            }
            List<Task> running = f.runningTasks();
            for (int i = running.size() - 1; i >= 0; i--) {
                Task t = running.get(i);
                Flock owned = t.outermost;
                if (owned != null) {
                    stack.push(new Node(owned, f, t, n.depth() + 1, false));
                }
            }
        }
        return out;
    }

    /** The unfinished task whose thread is {@code t}, or null. Walks the whole tree: use sparingly. */
    static Task taskOf(Thread t) {
        for (Node n : all()) {
            for (Task task : n.flock().runningTasks()) {
                if (task.thread == t) {
                    return task;
                }
            }
        }
        return null;
    }

    /** What is live in the whole tree: subtasks and onCancel closes not yet finished. */
    static int live() {
        int n = 0;
        for (Node node : all()) {
            n += node.flock().liveCount();
        }
        return n;
    }
}

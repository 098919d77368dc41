package dev.weft;

import java.util.List;

/** Helpers to describe where a thread is. */
final class Stacks {

    private Stacks() {
    }

    /**
     * The frame a thread is "stuck in", as {@code SimpleClass.method}: the first frame outside the
     * JDK's scheduling internals; if the following frames are in the same class (a public method
     * over its private helpers, as {@code Thread.sleep} over {@code Thread.sleepNanos}), the last
     * of those.
     */
    static String stuckIn(List<StackTraceElement> stack) {
        int i = 0;
        while (i < stack.size() && internal(stack.get(i))) {
            i++;
        }
        if (i == stack.size()) {
            return stack.isEmpty() ? "an unknown frame" : simple(stack.get(0));
        }
        String cls = stack.get(i).getClassName();
        while (i + 1 < stack.size() && stack.get(i + 1).getClassName().equals(cls)) {
            i++;
        }
        return simple(stack.get(i));
    }

    private static boolean internal(StackTraceElement e) {
        String c = e.getClassName();
        return c.startsWith("jdk.internal.")
                || c.startsWith("sun.nio.ch.")
                || c.startsWith("sun.")
                || c.equals("java.lang.VirtualThread")
                || c.startsWith("java.lang.VirtualThread$")
                || c.equals("java.util.concurrent.locks.LockSupport")
                || c.startsWith("java.util.concurrent.locks.AbstractQueued")    // AQS and its ConditionObject
                || c.startsWith("java.lang.System$")                            // JavaLangAccess.parkVirtualThread (JDK 21+)
                || c.startsWith("java.lang.invoke.")
                || c.equals("java.lang.Object") && e.getMethodName().startsWith("wait");
    }

    private static String simple(StackTraceElement e) {
        String c = e.getClassName();
        int dot = c.lastIndexOf('.');
        return (dot < 0 ? c : c.substring(dot + 1)) + "." + e.getMethodName();
    }
}

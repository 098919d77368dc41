package dev.weft;

/**
 * {@link ContextPropagator#ofThreadLocals}: carries the values of fixed thread-locals. Per capture,
 * an array of values; per install, an array of previous values only if the thread had any (a new
 * subtask thread has none, and shares one restorer that removes them).
 */
final class ThreadLocalPropagator implements ContextPropagator {

    private final ThreadLocal<?>[] locals;

    /** The restorer of a thread that had none of the values (a new thread, the usual case): removes them all. */
    private final Restorer removeAll;

    ThreadLocalPropagator(ThreadLocal<?>[] locals) {
        this.locals = locals;
        this.removeAll = () -> {
            for (int i = locals.length - 1; i >= 0; i--) {
                locals[i].remove();
            }
        };
    }

    @Override
    public Snapshot capture() {
        ThreadLocal<?>[] ls = locals;
        Object[] values = new Object[ls.length];
        for (int i = 0; i < ls.length; i++) {
            values[i] = ls[i].get();
        }
        return () -> install(values);
    }

    /** Sets {@code values} on the current thread; the restorer puts back (or removes) what was there. */
    private Restorer install(Object[] values) {
        ThreadLocal<?>[] ls = locals;
        Object[] previous = null;              // allocated only if the thread had a value
        for (int i = 0; i < ls.length; i++) {
            Object p = ls[i].get();
            if (p != null) {
                if (previous == null) {
                    previous = new Object[ls.length];
                }
                previous[i] = p;
            }
            put(ls[i], values[i]);
        }
        if (previous == null) {
            return removeAll;
        }
        Object[] prev = previous;
        return () -> {
            for (int i = ls.length - 1; i >= 0; i--) {
                put(ls[i], prev[i]);
            }
        };
    }

    @SuppressWarnings("unchecked")
    private static void put(ThreadLocal<?> local, Object value) {
        if (value == null) {
            local.remove();
        } else {
            ((ThreadLocal<Object>) local).set(value);
        }
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("ContextPropagator.ofThreadLocals(");
        for (int i = 0; i < locals.length; i++) {
            b.append(i == 0 ? "" : ", ").append(locals[i]);
        }
        return b.append(')').toString();
    }
}

package dev.weft;

/**
 * {@link ContextPropagator#ofThreadLocals}: carries the values of fixed thread-locals. One array of
 * values per capture, one of previous values per install.
 */
final class ThreadLocalPropagator implements ContextPropagator {

    private final ThreadLocal<?>[] locals;

    ThreadLocalPropagator(ThreadLocal<?>[] locals) {
        this.locals = locals;
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
        Object[] previous = new Object[ls.length];
        for (int i = 0; i < ls.length; i++) {
            previous[i] = ls[i].get();
            put(ls[i], values[i]);
        }
        return () -> {
            for (int i = ls.length - 1; i >= 0; i--) {
                put(ls[i], previous[i]);
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

package dev.weft;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;

/**
 * The immutable configuration of a scope.
 *
 * @param name the scope name, or {@code null} for a generated one
 * @param threadFactory the thread factory, or {@code null} for named virtual threads
 * @param timeout the timeout, or {@code null}; exclusive with {@code deadline}
 * @param deadline the deadline, or {@code null}; exclusive with {@code timeout}
 * @param grace the grace period, or {@code null} for unbounded
 * @param interrupts whether cancellation interrupts, or {@code null} to inherit (default {@code true})
 * @param context the context propagators this configuration adds ({@code withContext}), or the whole
 *        list when {@code contextReplaced}; immutable, never null
 * @param contextReplaced whether {@code withContextPropagators} replaced the inherited list
 */
record Config(String name, ThreadFactory threadFactory, Duration timeout, Instant deadline, Duration grace,
              Boolean interrupts, List<ContextPropagator> context, boolean contextReplaced)
        implements TaskScope.Configuration {

    static final Config DEFAULT = new Config(null, null, null, null, null, null, List.of(), false);

    @Override
    public Config withName(String name) {
        return new Config(Objects.requireNonNull(name, "name"), threadFactory, timeout, deadline, grace, interrupts, context, contextReplaced);
    }

    @Override
    public Config withThreadFactory(ThreadFactory threadFactory) {
        return new Config(name, Objects.requireNonNull(threadFactory, "threadFactory"), timeout, deadline, grace, interrupts, context, contextReplaced);
    }

    @Override
    public Config withTimeout(Duration timeout) {
        return new Config(name, threadFactory, Objects.requireNonNull(timeout, "timeout"), null, grace, interrupts, context, contextReplaced);
    }

    @Override
    public Config withDeadline(Instant deadline) {
        return new Config(name, threadFactory, null, Objects.requireNonNull(deadline, "deadline"), grace, interrupts, context, contextReplaced);
    }

    @Override
    public Config withGrace(Duration grace) {
        Objects.requireNonNull(grace, "grace");
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace must not be negative: " + grace);
        }
        return new Config(name, threadFactory, timeout, deadline, grace, interrupts, context, contextReplaced);
    }

    @Override
    public Config withInterrupts(boolean interrupts) {
        return new Config(name, threadFactory, timeout, deadline, grace, interrupts, context, contextReplaced);
    }

    @Override
    public Config withContext(ContextPropagator propagator) {
        Objects.requireNonNull(propagator, "propagator");
        List<ContextPropagator> list = new ArrayList<>(context.size() + 1);
        list.addAll(context);
        list.add(propagator);
        return new Config(name, threadFactory, timeout, deadline, grace, interrupts, List.copyOf(list), contextReplaced);
    }

    @Override
    public Config withContextPropagators(List<ContextPropagator> propagators) {
        Objects.requireNonNull(propagators, "propagators");
        List<ContextPropagator> list = List.copyOf(propagators);     // throws NullPointerException on a null element
        return new Config(name, threadFactory, timeout, deadline, grace, interrupts, list, true);
    }

    /**
     * The propagators of a scope with this configuration, given those it inherits ({@code null}:
     * none): the inherited ones followed by the added ones, or the replacing list. {@code null}
     * when there are none, so that {@code fork} pays a null check only.
     */
    ContextPropagator[] propagators(ContextPropagator[] inherited) {
        if (contextReplaced || inherited == null) {
            return context.isEmpty() ? null : context.toArray(new ContextPropagator[0]);
        }
        if (context.isEmpty()) {
            return inherited;          // shared: never modified
        }
        ContextPropagator[] all = new ContextPropagator[inherited.length + context.size()];
        System.arraycopy(inherited, 0, all, 0, inherited.length);
        for (int i = 0; i < context.size(); i++) {
            all[inherited.length + i] = context.get(i);
        }
        return all;
    }

    /** Returns the grace period in nanoseconds, saturated; {@link Long#MAX_VALUE} when unbounded. */
    long graceNanos() {
        if (grace == null) {
            return Long.MAX_VALUE;
        }
        try {
            return grace.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public String toString() {
        return "Configuration[name=" + name
                + ", threadFactory=" + (threadFactory == null ? "virtual" : threadFactory)
                + (timeout != null ? ", timeout=" + timeout : "")
                + (deadline != null ? ", deadline=" + deadline : "")
                + ", grace=" + (grace == null ? "unbounded" : grace)
                + (interrupts != null ? ", interrupts=" + interrupts : "")
                + (contextReplaced ? ", context=" + context : context.isEmpty() ? "" : ", context=inherited+" + context)
                + "]";
    }
}

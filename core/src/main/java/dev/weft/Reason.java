package dev.weft;

/**
 * Why a scope was cancelled. Immutable.
 *
 * <p>A cancellation that flows down the tree is <em>linked</em> to the reason above it through
 * {@link #upstream}, never concatenated: a scope 10 000 levels down holds one small object that
 * points at its parent's reason, so memory grows linearly with depth, and {@link #text()} stays
 * short (it names the immediate cause and the origin, and counts the levels between them).
 *
 * <p>The words are composed when someone reads them ({@link #text()}, for an exception's message or
 * a dump), not when the reason is made: a reason is made on the canceller's path, before the
 * interrupts, and it keeps only what the words will name ({@link #detail}).
 *
 * @param kind the kind, which decides what {@code join} throws
 * @param cause the reason given to {@code cancel(Throwable)}, inherited unchanged down the tree, or null
 * @param scopeName the name of the scope this reason was made for (its origin, for upstream reasons)
 * @param detail what {@link #what()} names besides the kind and the cause: the deadline (an
 *        {@link java.time.Instant}) for {@link Kind#DEADLINE}; who cancelled (a String) for
 *        {@link Kind#GLOBAL}; for {@link Kind#UPSTREAM}, the subtask that opened the scope (a
 *        {@link Task}) or the name of the enclosing scope (a String); else null
 * @param upstream the reason this one was derived from, or null at the origin
 * @param levels how many links lead from here to the origin (0 at the origin)
 * @param nanos {@link System#nanoTime()} when the reason was made
 */
record Reason(Kind kind, Throwable cause, String scopeName, Object detail, Reason upstream, int levels, long nanos) {

    /** What started a cancellation. */
    enum Kind { JOINER, DEADLINE, EXPLICIT, UPSTREAM, GLOBAL, CLOSE, LEAK }

    private static Reason origin(Kind kind, Throwable cause, String scope, Object detail) {
        return new Reason(kind, cause, scope, detail, null, 0, System.nanoTime());
    }

    static Reason joiner(String scope) {
        return origin(Kind.JOINER, null, scope, null);
    }

    static Reason deadline(String scope, java.time.Instant deadline) {
        return origin(Kind.DEADLINE, null, scope, deadline);
    }

    static Reason explicit(String scope, Throwable cause) {
        return origin(Kind.EXPLICIT, cause, scope, null);
    }

    static Reason global(String by) {
        return origin(Kind.GLOBAL, null, null, by);
    }

    static Reason closed(String scope) {
        return origin(Kind.CLOSE, null, scope, null);
    }

    static Reason leaked(String scope) {
        return origin(Kind.LEAK, null, scope, null);
    }

    /** The reason of a scope whose enclosing scope {@code parent} was cancelled for {@code r}. */
    static Reason enclosing(String parent, Reason r) {
        return link(r, parent);
    }

    /** The reason of a scope that subtask {@code t} opened, cancelled for {@code r} (null: {@code t.cancel()}). */
    static Reason fromTask(Task t, Reason r) {
        return r == null ? origin(Kind.UPSTREAM, null, null, t) : link(r, t);
    }

    private static Reason link(Reason r, Object detail) {
        return new Reason(Kind.UPSTREAM, r.cause, r.scopeName, detail, r, r.levels + 1, System.nanoTime());
    }

    /**
     * Completes "scope 'x' ..." for the scope this reason was made for, e.g. "exceeded its deadline
     * ..."; for {@link Kind#UPSTREAM} the link, e.g. "was cancelled because subtask #3 'fetch',
     * which opened it, was cancelled".
     */
    String what() {
        return switch (kind) {
            case JOINER -> "was cancelled by its joiner";
            case DEADLINE -> "exceeded its deadline " + detail;
            case EXPLICIT -> cause == null ? "was cancelled" : "was cancelled: " + describe(cause);
            case GLOBAL -> "was cancelled by " + detail;
            case CLOSE -> "was closed";
            case LEAK -> "was leaked: it became unreachable while open, and was never closed";
            case UPSTREAM -> detail instanceof Task t
                    ? "was cancelled because subtask " + t.label() + ", which opened it, was cancelled"
                            + (upstream == null ? " by Subtask.cancel()" : "")
                    : "was cancelled because the scope enclosing it, '" + Names.escape((String) detail) + "', was cancelled";
        };
    }

    /**
     * The cause as {@code cancel(Throwable)}'s words name it: its {@code toString()}, or, if that
     * throws, its class and what it threw, so that a broken cause cannot break the message of the
     * exception that reports it.
     */
    private static String describe(Throwable cause) {
        try {
            return String.valueOf(cause);
        } catch (RuntimeException | StackOverflowError e) {
            return cause.getClass().getName() + " (whose toString() threw " + e.getClass().getName() + ")";
        }
    }

    /** The reason at the origin of the chain. Iterative: chains may be 10 000 long. */
    Reason origin() {
        Reason r = this;
        while (r.upstream != null) {
            r = r.upstream;
        }
        return r;
    }

    /**
     * Completes "scope 'x' ...": the immediate link, then the origin, with the number of levels
     * between them. Its length does not depend on the depth.
     */
    String text() {
        String what = what();
        if (upstream == null) {
            return what;
        }
        Reason o = origin();
        StringBuilder sb = new StringBuilder(what.length() + 96).append(what).append("; it started ");
        if (levels > 1) {
            sb.append(levels).append(" levels up, where ");
        } else {
            sb.append("one level up, where ");
        }
        if (o.scopeName != null) {
            sb.append("scope '").append(Names.escape(o.scopeName)).append("' ");
        } else if (o.kind == Kind.GLOBAL) {
            sb.append("every scope ");
        }
        return sb.append(o.what()).toString();
    }
}

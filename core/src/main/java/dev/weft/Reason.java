package dev.weft;

/**
 * Why a scope was cancelled. Immutable.
 *
 * <p>A cancellation that flows down the tree is <em>linked</em> to the reason above it through
 * {@link #upstream}, never concatenated: a scope 10 000 levels down holds one small object that
 * points at its parent's reason, so memory grows linearly with depth, and {@link #text()} stays
 * short (it names the immediate cause and the origin, and counts the levels between them).
 *
 * @param kind the kind, which decides what {@code join} throws
 * @param cause the reason given to {@code cancel(Throwable)}, inherited unchanged down the tree, or null
 * @param scopeName the name of the scope this reason was made for (its origin, for upstream reasons)
 * @param what completes "scope 'x' ..." for the scope this reason was made for, e.g.
 *        "exceeded its deadline ..."; for {@link Kind#UPSTREAM} the link, e.g. "was cancelled
 *        because subtask #3 of scope 'y', which opened it, was cancelled"
 * @param upstream the reason this one was derived from, or null at the origin
 * @param levels how many links lead from here to the origin (0 at the origin)
 * @param nanos {@link System#nanoTime()} when the reason was made
 */
record Reason(Kind kind, Throwable cause, String scopeName, String what, Reason upstream, int levels, long nanos) {

    /** What a cancellation came from. */
    enum Kind { JOINER, DEADLINE, EXPLICIT, UPSTREAM, GLOBAL, CLOSE, LEAK }

    private static Reason origin(Kind kind, Throwable cause, String scope, String what) {
        return new Reason(kind, cause, scope, what, null, 0, System.nanoTime());
    }

    static Reason joiner(String scope) {
        return origin(Kind.JOINER, null, scope, "was cancelled by its joiner");
    }

    static Reason deadline(String scope, java.time.Instant deadline) {
        return origin(Kind.DEADLINE, null, scope, "exceeded its deadline " + deadline);
    }

    static Reason explicit(String scope, Throwable cause) {
        return origin(Kind.EXPLICIT, cause, scope, cause == null ? "was cancelled" : "was cancelled: " + cause);
    }

    static Reason global(String by) {
        return origin(Kind.GLOBAL, null, null, "was cancelled by " + by);
    }

    static Reason closed(String scope) {
        return origin(Kind.CLOSE, null, scope, "was closed");
    }

    static Reason leaked(String scope) {
        return origin(Kind.LEAK, null, scope, "was leaked: it became unreachable while open, and was never closed");
    }

    /** For a scope nested, on the same owner thread, inside the scope {@code parent}, cancelled for {@code r}. */
    static Reason enclosing(String parent, Reason r) {
        return link(r, "was cancelled because the scope enclosing it, '" + Names.escape(parent) + "', was cancelled");
    }

    /** For a scope opened by subtask {@code t}, which was cancelled; {@code r} is its scope's reason, or null. */
    static Reason fromTask(Task t, Reason r) {
        String what = "was cancelled because subtask " + t.label() + ", which opened it, was cancelled";
        return r == null ? origin(Kind.UPSTREAM, null, null, what + " by Subtask.cancel()") : link(r, what);
    }

    private static Reason link(Reason r, String what) {
        return new Reason(Kind.UPSTREAM, r.cause, r.scopeName, what, r, r.levels + 1, System.nanoTime());
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
        return sb.append(o.what).toString();
    }
}

package dev.weft.grpc;

import dev.weft.Cancellation;
import dev.weft.CancelledException;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Instant;

/** gRPC statuses to Weft's exceptions and back. */
final class StatusMapping {

    private StatusMapping() {
    }

    /** The start of the description of a call that Weft cancelled. */
    static final String CANCELLED_BY_WEFT = "cancelled by Weft";

    /** See {@link WeftGrpc#translate}. */
    static RuntimeException translate(StatusRuntimeException e) {
        Status s = e.getStatus();
        return switch (s.getCode()) {
            case CANCELLED -> new CancelledException("gRPC call cancelled (" + describe(s) + ")" + weftReason(), e);
            case DEADLINE_EXCEEDED -> deadlineExceeded(e);
            default -> e;
        };
    }

    /**
     * Why the current task was cancelled, as {@code ", because ..."}, or "" if it was not (or is
     * inside a critical section, where cancellation is hidden). The call's status cannot say it:
     * gRPC cancels the call from whichever thread Weft closes it on, which does not know the reason.
     */
    private static String weftReason() {
        if (!Cancellation.isRequested()) {
            return "";
        }
        try {
            Cancellation.check();
            return "";
        } catch (CancelledException why) {
            return ", because " + why.getMessage();
        }
    }

    /** "CODE: description", or "CODE" without a description. */
    static String describe(Status s) {
        String d = s.getDescription();
        return d == null || d.isEmpty() ? s.getCode().toString() : s.getCode() + ": " + d;
    }

    /**
     * A {@code DeadlineExceededException} whose cause is {@code e}.
     *
     * <p>Core has no public constructor for it (it is sealed and built by a scope's
     * {@code join()}), so this asks core for one the only public way: a scope whose deadline has
     * passed when it opens, joined at once. Opened inside a critical section, it is shielded from
     * a cancellation of the current task, which would otherwise give it an "enclosing scope was
     * cancelled" reason instead of its deadline; the section clears and then restores the
     * interrupt status. If core ever answers with another kind of {@link CancelledException} (a
     * JVM shutting down makes new scopes born cancelled), that one is used, with {@code e} as its
     * cause when it has none. Replace this with a constructor call once core has a public one.
     */
    @SuppressWarnings("try")
    static CancelledException deadlineExceeded(StatusRuntimeException e) {
        Instant now = Instant.now();
        Instant weft = Cancellation.deadline().orElse(null);
        Instant deadline = weft != null && !weft.isAfter(now) ? weft : now;
        CancelledException built = null;
        try (var section = Cancellation.critical("weft-grpc: DEADLINE_EXCEEDED to DeadlineExceededException");
             var scope = TaskScope.open(Joiner.awaitAll(),
                     cfg -> cfg.withName("gRPC call (" + describe(e.getStatus()) + ")").withDeadline(deadline))) {
            scope.join();
        } catch (CancelledException c) {
            built = c;
        } catch (Exception unexpected) {
            built = new CancelledException("gRPC call exceeded its deadline (" + describe(e.getStatus()) + ")", e);
            built.addSuppressed(unexpected);
            return built;
        }
        if (built == null) {
            return new CancelledException("gRPC call exceeded its deadline (" + describe(e.getStatus()) + ")", e);
        }
        if (built.getCause() == null) {
            built.initCause(e);
        } else {
            built.addSuppressed(e);
        }
        return built;
    }
}

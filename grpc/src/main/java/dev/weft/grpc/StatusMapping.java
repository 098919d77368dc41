package dev.weft.grpc;

import dev.weft.Cancellation;
import dev.weft.DeadlineExceededException;
import dev.weft.CancelledException;
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

    /** A {@code DeadlineExceededException} whose cause is {@code e}, at the task's deadline if it passed, else now. */
    static CancelledException deadlineExceeded(StatusRuntimeException e) {
        Instant now = Instant.now();
        Instant weft = Cancellation.deadline().orElse(null);
        Instant deadline = weft != null && !weft.isAfter(now) ? weft : now;
        return new DeadlineExceededException("gRPC call exceeded its deadline (" + describe(e.getStatus()) + ")",
                deadline, e);
    }
}

package dev.weft;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * A resource registered with {@link Cancellation#onCancel(AutoCloseable)}.
 *
 * <p>State transitions (one CAS each, so the resource is closed at most once):
 * <pre>
 * ACTIVE  -> CLOSING   cancellation claims the resource (any cancelling thread, or the task itself)
 * CLOSING -> CLOSED    the claimant's resource.close() returned or threw
 * ACTIVE  -> REMOVED   Registration.close() unregistered it (any thread)
 * </pre>
 */
final class CancelRegistration implements Cancellation.Registration {

    static final int ACTIVE = 0;
    static final int CLOSING = 1;
    static final int CLOSED = 2;
    static final int REMOVED = 3;

    /** The task the resource belongs to. */
    private final Task task;

    /** The resource. */
    private final AutoCloseable resource;

    /** See the transitions above. Written by CAS (claimants, unregistering thread) and read by any thread. */
    private volatile int state;

    CancelRegistration(Task task, AutoCloseable resource) {
        this.task = task;
        this.resource = resource;
    }

    @Override
    public boolean isClosedByCancellation() {
        int s = state;
        return s == CLOSING || s == CLOSED;
    }

    @Override
    public void close() {
        if (STATE.compareAndSet(this, ACTIVE, REMOVED)) {
            task.unregister(this);
            return;
        }
        // A close by cancellation may be under way: wait for it, so that the caller may then use or
        // close the resource itself. resource.close() is expected to be quick.
        int spins = 0;
        while (state == CLOSING) {
            if (++spins < 100) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, 100_000);
            }
        }
    }

    /** Claims and closes the resource, if no one else did; a failure goes to the task's report. */
    void closeByCancellation() {
        if (!STATE.compareAndSet(this, ACTIVE, CLOSING)) {
            return;
        }
        task.markResourceClosed();
        try {
            resource.close();
        } catch (Throwable t) {
            task.recordCloseFailure(resource, t);
        } finally {
            state = CLOSED;
        }
    }

    @Override
    public String toString() {
        String s = switch (state) {
            case ACTIVE -> "active";
            case CLOSING -> "closing";
            case CLOSED -> "closed by cancellation";
            default -> "unregistered";
        };
        return "Registration[" + resource + ", " + s + "]";
    }

    // VarHandle mechanics
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CancelRegistration.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}

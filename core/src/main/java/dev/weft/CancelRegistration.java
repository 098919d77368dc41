package dev.weft;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * A resource registered with {@link Cancellation#onCancel(AutoCloseable)}.
 *
 * <p>State transitions (one CAS each, so the resource is closed at most once):
 * <pre>
 * ACTIVE  -> CLOSING   a closer claims the resource: a Weft closer thread after a cancellation, or
 *                      the task's own thread when it registers after it was cancelled
 * CLOSING -> CLOSED    the closer's resource.close() returned or threw
 * ACTIVE  -> REMOVED   Registration.close() unregistered it (any thread), before the task's
 *                      cancellation was delivered; after it, Registration.close() claims and closes
 *                      the resource itself (ACTIVE -> CLOSING -> CLOSED) unless a closer did
 * </pre>
 * Why it is race-free: the claim and the removal are CASes from ACTIVE, so exactly one wins. A
 * thread that unregisters while a close is in flight waits for CLOSED (see {@link #close()}),
 * except the closer itself, whose {@code close()} may re-enter: it returns at once.
 */
final class CancelRegistration implements Cancellation.Registration {

    static final int ACTIVE = 0;
    static final int CLOSING = 1;
    static final int CLOSED = 2;
    static final int REMOVED = 3;

    /** The task the resource belongs to. Final. */
    private final Task task;

    /** The resource. Final. */
    private final AutoCloseable resource;

    /** See the transitions above. CAS by closers and unregistering threads; read by any thread. */
    private volatile int state;

    /** The thread running resource.close(), while CLOSING. Written by the closer before close(); read by unregistering threads. */
    private volatile Thread closer;

    /** A thread waiting in {@link #close()} for CLOSED, or null. Written by that thread; read by the closer. */
    private volatile Thread waiter;

    CancelRegistration(Task task, AutoCloseable resource) {
        this.task = task;
        this.resource = resource;
    }

    AutoCloseable resource() {
        return resource;
    }

    @Override
    public boolean isClosedByCancellation() {
        int s = state;
        return s == CLOSING || s == CLOSED;
    }

    @Override
    public void close() {
        if (state == ACTIVE && task.cancellationRequested()) {
            // The task counts as cancelled (marked, or its scope cancelled: what isRequested()
            // reads) outside a section. The canceller interrupts first and hands the close off
            // next, so the task may wake and unregister (try-with-resources) before a closer got
            // here: cancellation still closes the resource, here, once.
            task.closeGuarded(this);
            task.unregister(this);
        }
        if (STATE.compareAndSet(this, ACTIVE, REMOVED)) {
            task.unregister(this);
            return;
        }
        if (state != CLOSING || Thread.currentThread() == closer) {
            return;     // already closed or removed; or re-entered from the resource's own close()
        }
        // A close by cancellation is under way: wait for it to end, so that the caller may then use
        // or close the resource itself. If that close blocks, this thread is reported with it.
        Thread me = Thread.currentThread();
        waiter = me;
        boolean interrupted = false;
        while (state == CLOSING) {
            // Timed: with two threads unregistering at once, only the last one is unparked; the
            // other notices CLOSED at its next wake-up.
            LockSupport.parkNanos(this, Closers.STALL_NANOS);
            waiter = me;
            if (Thread.interrupted()) {
                interrupted = true;
            }
        }
        waiter = null;
        if (interrupted) {
            me.interrupt();
        }
    }

    /**
     * Claims and closes the resource, if no one else did. A failure of {@code close()} goes to the
     * scope's failure ledger. Called by a closer thread, or by the task thread itself.
     */
    void closeByCancellation() {
        if (!STATE.compareAndSet(this, ACTIVE, CLOSING)) {
            return;
        }
        closer = Thread.currentThread();
        task.markResourceClosed();
        try {
            resource.close();
        } catch (Throwable t) {
            task.flock.ledger.record(t, FailureLedger.Source.ON_CANCEL_CLOSE,
                    "closing onCancel resource " + Names.escape(String.valueOf(resource)) + " of subtask " + task.label() + " failed");
        } finally {
            state = CLOSED;
            closer = null;
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
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

package dev.weft;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The threads that close {@link Cancellation#onCancel onCancel} resources. A canceller only hands a
 * {@link CloseJob} over ({@link #submit}); it never runs a resource's {@code close()} itself.
 *
 * <h2>Which threads, and why</h2>
 *
 * Closes run on <em>platform</em> daemon threads named {@code weft-oncancel-n}. Virtual threads would
 * share the carriers with the subtasks, and a cancellation must still close a socket when every
 * carrier is busy with CPU-bound subtasks that ignore it. A close is normally quick (closing a
 * socket, a stream or a statement takes microseconds), but it may block: a
 * {@code BufferedReader.close()} waits for the lock its {@code readLine()} holds until the interrupt
 * releases it, or user code may block for ever. So the pool is elastic:
 * <ul>
 *   <li>A job goes to an idle worker if there is one.</li>
 *   <li>Otherwise, while fewer than {@link #EAGER_WORKERS} workers exist, the submitting thread
 *       starts one (one {@code Thread.start()}, bounded work, no waiting).</li>
 *   <li>Otherwise a job that no worker took within {@link #STALL_NANOS} makes the timer thread
 *       start another worker, and so on while jobs keep waiting: a close blocked for ever costs one
 *       thread, never the closes queued behind it. A burst of quick closes is drained by the eager
 *       workers without starting a thread per close.</li>
 *   <li>A worker idle for {@link #KEEP_ALIVE_NANOS} ends. A JVM whose scopes register no
 *       {@code onCancel} resource starts no worker at all.</li>
 * </ul>
 */
final class Closers {

    private Closers() {
    }

    /**
     * Workers the submitting thread may start itself: one per core, enough to drain bursts of quick
     * closes (about 1 µs each for a socket close) without a thread per close.
     */
    static final int EAGER_WORKERS = Math.max(2, Runtime.getRuntime().availableProcessors());

    /**
     * How long queued jobs may wait before another worker is started. A close that takes longer
     * than this is treated as blocked. 10 ms is three orders of magnitude above a socket or stream
     * close, and well below the grace periods users set (hundreds of milliseconds and up).
     */
    static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /** How long an idle worker stays before it ends. */
    static final long KEEP_ALIVE_NANOS = TimeUnit.SECONDS.toNanos(30);

    /** Jobs not yet taken. Any thread adds; workers take. */
    private static final ConcurrentLinkedQueue<CloseJob> QUEUE = new ConcurrentLinkedQueue<>();

    /** Idle workers, parked. Workers push themselves; submitters pop one to wake it. */
    private static final ConcurrentLinkedDeque<Thread> IDLE = new ConcurrentLinkedDeque<>();

    /** Workers alive. */
    private static final AtomicInteger WORKERS = new AtomicInteger();

    /** For worker names. */
    private static final AtomicInteger NAMES = new AtomicInteger();

    /** Whether a stall check is scheduled on the timer thread. */
    private static final AtomicBoolean CHECK_SCHEDULED = new AtomicBoolean();

    /** Hands {@code job} over to a closer thread. Never runs user code, never waits. */
    static void submit(CloseJob job) {
        QUEUE.add(job);
        Thread idle = IDLE.poll();
        if (idle != null) {
            LockSupport.unpark(idle);
            return;
        }
        int w = WORKERS.get();
        if (w < EAGER_WORKERS && WORKERS.compareAndSet(w, w + 1)) {
            start();
            return;
        }
        scheduleCheck();
    }

    private static void scheduleCheck() {
        if (CHECK_SCHEDULED.compareAndSet(false, true)) {
            Timers.schedule(Closers::checkStalled, STALL_NANOS);
        }
    }

    /** On the timer thread: jobs still waiting and no idle worker mean the workers are blocked. */
    private static void checkStalled() {
        CHECK_SCHEDULED.set(false);
        if (QUEUE.isEmpty()) {
            return;
        }
        Thread idle = IDLE.poll();
        if (idle != null) {
            LockSupport.unpark(idle);
        } else {
            WORKERS.incrementAndGet();
            start();
        }
        scheduleCheck();        // and again, while jobs keep waiting
    }

    private static void start() {
        try {
            Thread t = new Thread(Closers::work, "weft-oncancel-" + NAMES.incrementAndGet());
            t.setDaemon(true);
            t.start();
        } catch (Throwable e) {         // OutOfMemoryError: unable to create native thread
            WORKERS.decrementAndGet();
            scheduleCheck();            // try again later; the jobs stay queued, never dropped
            Reports.internalError("could not start a thread to close onCancel resources; retrying", e);
        }
    }

    private static void work() {
        Thread me = Thread.currentThread();
        long idleSince = System.nanoTime();
        for (;;) {
            CloseJob job = QUEUE.poll();
            if (job != null) {
                job.run();
                Thread.interrupted();   // a close may interrupt its own thread; it must not reach the next job
                idleSince = System.nanoTime();
                continue;
            }
            IDLE.push(me);
            if (!QUEUE.isEmpty()) {      // a submit between the poll and the push found no idle worker
                IDLE.remove(me);
                continue;
            }
            LockSupport.parkNanos(Closers.class, KEEP_ALIVE_NANOS);
            Thread.interrupted();       // a close may have interrupted this thread; it must not leak into the next
            if (IDLE.remove(me)                       // not woken by a submit
                    && System.nanoTime() - idleSince >= KEEP_ALIVE_NANOS
                    && QUEUE.isEmpty()) {
                WORKERS.decrementAndGet();
                if (!QUEUE.isEmpty()) {               // a submit raced with the exit: make sure someone runs it
                    scheduleCheck();
                }
                return;
            }
        }
    }
}

package dev.weft;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * The cancellation state of the current task, for code running inside a subtask of a
 * {@link TaskScope}, at any depth, without passing anything around.
 *
 * <h2>Polling instead of a stop flag</h2>
 *
 * Cancellation is a state that Weft owns; interruption is only how it reaches blocking calls. A
 * loop that used to poll a hand-made {@code volatile boolean running} asks the state instead:
 * {@snippet :
 * scope.fork(() -> {
 *     while (!Cancellation.isRequested()) {      // a field read and two volatile reads
 *         step();                                // CPU work: no blocking call inside
 *     }
 *     return summary();                          // runs: the loop ends cleanly
 * });
 * }
 * A loop that waits between steps waits with {@link #await(Duration)}, which returns {@code true}
 * on cancellation instead of throwing, so the code after the loop still runs (a
 * {@code Thread.sleep} there would end the task with {@code InterruptedException} instead):
 * {@snippet :
 * scope.fork(() -> {
 *     while (!Cancellation.await(Duration.ofSeconds(1))) {   // TensorFlow's coord.wait_for_stop(1)
 *         checkpoint();
 *     }
 *     return summary();
 * });
 * }
 * or lets a check throw at safe points, so that {@code finally} blocks run on the way out:
 * {@snippet :
 * for (var item : batch) {
 *     Cancellation.check();                      // throws CancelledException once cancelled
 *     process(item);
 * }
 * }
 * The state stays set even if some library swallowed the interrupt.
 *
 * <h2>Critical sections</h2>
 *
 * A critical section holds cancellation back, so that a write or a commit is never torn:
 * {@snippet :
 * try (var cs = Cancellation.critical("checkpoint")) {
 *     channel.write(buffer);                     // no interrupt from Weft can close the channel here
 *     channel.force(true);
 * }                                              // a cancellation that arrived meanwhile lands here
 * Cancellation.check();
 * }
 * See {@link #critical()} for the exact guarantees.
 *
 * <h2>Unblocking I/O that ignores interrupts</h2>
 *
 * Some blocking calls ignore interrupts: a socket read on a platform thread, a read from a child
 * process's pipe, a JDBC statement. Register the resource and cancellation closes it:
 * {@snippet :
 * try (var reg = Cancellation.onCancel(socket)) {
 *     return in.read(buffer);                    // cancellation closes the socket: read fails at once
 * }
 * }
 *
 * <h2>Outside a task</h2>
 *
 * On a thread that is not a subtask of a scope (for example {@code main}), {@link #isRequested()}
 * and {@link #check()} reflect the thread's interrupt status, there is no deadline, and
 * {@link #onCancel} throws {@link IllegalStateException} because nothing would ever cancel it.
 *
 * <p><b>Implementation note.</b> Weft finds the current subtask through its thread's
 * {@linkplain Thread#setUncaughtExceptionHandler uncaught-exception-handler} slot, which holds the
 * subtask (delegating to the handler the thread factory installed): a field read, with no
 * thread-local map per subtask. Code that replaces that handler from inside a subtask still runs
 * as that subtask, but the thread's next lookup searches the live scopes for its task once (and
 * keeps the answer in a thread-local); to avoid that, leave the handler alone, or set a
 * {@linkplain Thread#setDefaultUncaughtExceptionHandler default handler} instead, which Weft
 * delegates to.
 */
public final class Cancellation {

    private Cancellation() {
    }

    /**
     * Returns {@code true} if the current task should stop: it was cancelled on its own, or its
     * scope or any enclosing scope or task was cancelled. Inside a critical section it returns
     * {@code false}. Outside any task, it returns the thread's interrupt status (without clearing
     * it).
     *
     * <p>It reads {@code true} as soon as the task's own scope is cancelled, before the
     * cancellation has interrupted the task. A cancellation of a scope further up reaches the
     * scopes below it subtask by subtask (it only marks and interrupts on the way), so it is seen
     * there a moment later.
     *
     * <p>Costs a lookup of the current task and two volatile reads; cheap enough for a tight loop.
     *
     * @return whether cancellation was requested
     */
    public static boolean isRequested() {
        Task t = Task.of(Thread.currentThread());
        return t != null ? t.cancellationRequested() : Context.current().cancellationRequested();
    }

    /**
     * Throws {@link CancelledException} if {@link #isRequested()} is {@code true}; otherwise does
     * nothing. A subtask that lets it propagate ends {@link TaskScope.Subtask.State#CANCELLED
     * CANCELLED}. Does not change the interrupt status.
     *
     * @throws CancelledException if cancellation was requested
     */
    public static void check() {
        Context c = Context.current();
        if (c.cancellationRequested()) {
            throw c.newCancelledException();
        }
    }

    /**
     * Waits until a cancellation is requested or {@code timeout} passes: returns {@code true} as
     * soon as {@link #isRequested()} is true, {@code false} when the time is up. It never throws on
     * cancellation, and it works in both modes: a cancellation wakes it whether the scope
     * interrupts or is {@linkplain TaskScope.Configuration#withInterrupts cooperative}. It is
     * TensorFlow's {@code coord.wait_for_stop(timeout)} and Python's {@code Event.wait(timeout)}:
     * {@snippet :
     * while (!Cancellation.await(interval)) {    // a periodic worker that stops cleanly
     *     work();
     * }
     * }
     * <ul>
     *   <li>Inside a critical section it is shielded, like {@link #isRequested()}: it waits for the
     *       whole timeout.</li>
     *   <li>Outside any task it waits for the thread to be interrupted (then returns {@code true}).</li>
     *   <li>It does not clear the interrupt status. An interrupt that is not a cancellation (from
     *       code other than Weft, inside a task) does not end the wait; the status is kept and is
     *       set again when it returns.</li>
     *   <li>A zero or negative timeout only checks, like {@link #isRequested()}.</li>
     * </ul>
     *
     * @param timeout the longest time to wait
     * @return {@code true} if a cancellation was requested, {@code false} if the time ran out
     * @throws NullPointerException if {@code timeout} is null
     */
    public static boolean await(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        Context c = Context.current();
        if (c.cancellationRequested()) {
            return true;
        }
        long nanos;
        try {
            nanos = timeout.toNanos();
        } catch (ArithmeticException e) {
            nanos = timeout.isNegative() ? 0 : Long.MAX_VALUE;
        }
        if (nanos <= 0) {
            return false;
        }
        long end = System.nanoTime() + Math.min(nanos, Long.MAX_VALUE / 4);
        boolean foreignInterrupt = false;
        try {
            for (;;) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return c.cancellationRequested();
                }
                java.util.concurrent.locks.LockSupport.parkNanos(Cancellation.class, left);
                if (c.cancellationRequested()) {
                    return true;
                }
                if (Thread.interrupted()) {
                    // Not a cancellation (or a shielded one): keep it for later, and do not spin on it.
                    foreignInterrupt = true;
                }
            }
        } finally {
            if (foreignInterrupt) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Returns the current task's effective deadline: the earliest deadline of its scope and the
     * scopes enclosing it. Empty outside a task, or if no scope has a deadline.
     *
     * @return the deadline, if any
     */
    public static Optional<Instant> deadline() {
        return Optional.ofNullable(Context.current().deadline());
    }

    /**
     * Returns the time left until {@link #deadline()}, never negative, for passing to I/O
     * timeouts:
     * {@snippet :
     * long millis = Cancellation.remaining().map(Duration::toMillis).orElse(0L);
     * socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, millis)));
     * }
     *
     * @return the time left, if there is a deadline
     */
    public static Optional<Duration> remaining() {
        Instant deadline = Context.current().deadline();
        if (deadline == null) {
            return Optional.empty();
        }
        Duration left = Duration.between(Instant.now(), deadline);
        return Optional.of(left.isNegative() ? Duration.ZERO : left);
    }

    /**
     * Registers a resource to close when the current task is cancelled, to unblock a call that
     * ignores interrupts.
     *
     * <p>Guarantees:
     * <ul>
     *   <li>When the task is cancelled, the resource is closed exactly once, unless it was
     *       unregistered first; also when the task saw its scope cancelled and ended before the
     *       canceller reached it, leaving the resource registered. The canceller interrupts the task first, then hands the close over
     *       to a Weft closer thread (a platform daemon thread named {@code weft-oncancel-n}); the
     *       canceller itself never runs {@code close()}, so a slow or blocking {@code close()}
     *       delays nothing but itself. {@link TaskScope#close()} waits for the close within the
     *       scope's grace period; a close still running when it ends is named in the
     *       {@link GracePeriodExceededException} ("onCancel close of ...").</li>
     *   <li>If the task is already cancelled, the resource is closed before this method returns,
     *       on the calling thread (unless the task is inside a critical section; see below).</li>
     *   <li>Inside a critical section, closing is deferred, like interrupts: the resource is
     *       closed when the outermost section ends, if the task was cancelled meanwhile.</li>
     *   <li>{@link Registration#close()} unregisters the resource. Before the task's cancellation,
     *       it does not close it, and cancellation will not close it afterwards. After the
     *       cancellation (outside a critical section), it closes the resource first if no closer
     *       thread has yet: the task, woken by the interrupt, often unregisters (at the end of its
     *       {@code try}-with-resources) before a closer thread gets to the resource, and the
     *       cancellation must still close it, once. If a close by cancellation had already begun on
     *       another thread, it waits for that close to finish. Called from the resource's own
     *       {@code close()}, it returns at once.</li>
     *   <li>{@code resource.close()} may re-enter Weft: unregister itself, enter a critical
     *       section, cancel its own scope.</li>
     *   <li>An exception thrown by {@code resource.close()} is never thrown into the canceller. It
     *       joins the scope's failures: it is attached as suppressed to the exception
     *       {@link TaskScope#join()} or {@link TaskScope#close()} throws, or, if neither throws,
     *       reported through {@code System.Logger} {@code "dev.weft"}; never dropped, even when the
     *       task succeeds.</li>
     *   <li>After the cancellation closed a resource, an {@link java.io.IOException} the task ends
     *       with counts as caused by the cancellation: the subtask is
     *       {@link TaskScope.Subtask.State#CANCELLED CANCELLED}.</li>
     * </ul>
     *
     * @param resource the resource to close on cancellation
     * @return a registration; closing it unregisters the resource
     * @throws NullPointerException if {@code resource} is null
     * @throws IllegalStateException if the current thread is not running a subtask of a scope
     */
    public static Registration onCancel(AutoCloseable resource) {
        Objects.requireNonNull(resource, "resource");
        Context c = Context.current();
        if (!(c instanceof Task task)) {
            throw new IllegalStateException("Cancellation.onCancel must be called from a subtask of a TaskScope; "
                    + "thread '" + Thread.currentThread().getName() + "' is not one, so nothing would cancel it");
        }
        return task.registerOnCancel(resource);
    }

    /**
     * Enters an unnamed critical section. Same as {@code critical((String) null)}.
     *
     * @return the section, to close on the same thread
     * @see #critical(String)
     */
    public static Section critical() {
        return Context.current().enterCritical(null);
    }

    /**
     * Enters a critical section: a region that cancellation must not tear, such as a checkpoint
     * write or a commit. Use it with {@code try}-with-resources.
     *
     * <p>Guarantees, for the current thread:
     * <ul>
     *   <li>From the moment this method returns until the section is closed, Weft delivers no
     *       interrupt to this thread, closes none of its {@link #onCancel onCancel} resources,
     *       {@link #check()} does not throw and {@link #isRequested()} reads {@code false}. This
     *       holds even when the cancellation races with the entry.</li>
     *   <li>If the task was already cancelled when the section is entered, the body still runs:
     *       this method clears the interrupt status before returning.</li>
     *   <li>Scopes opened inside the section are shielded from cancellation coming from outside
     *       it (from this task's scope and above); their own deadlines, failures and
     *       {@code cancel()} still apply.</li>
     *   <li>When the outermost section closes, a cancellation that arrived meanwhile is delivered:
     *       the interrupt status is set, {@code onCancel} resources are closed, shielded scopes
     *       are cancelled, and {@link #check()} throws. No cancellation is lost across the
     *       exit.</li>
     *   <li>Sections nest, and must be closed in reverse order, on the thread that opened them.</li>
     * </ul>
     * Interrupts from code other than Weft are not blocked. On a thread that is not a subtask,
     * the section still nests and still makes {@link #isRequested()} read {@code false}.
     *
     * @param name a name for diagnostics (straggler reports, dumps), or {@code null}
     * @return the section, to close on the same thread
     */
    public static Section critical(String name) {
        return Context.current().enterCritical(name);
    }

    /**
     * Runs {@code body} inside an unnamed critical section and returns its result. See
     * {@link #critical(String)} for the guarantees.
     *
     * @param body the code to run
     * @param <V> the result type
     * @return what {@code body} returned
     * @throws Exception what {@code body} threw
     * @throws NullPointerException if {@code body} is null
     */
    @SuppressWarnings("try")        // the section is used for its scope, not referenced
    public static <V> V critical(Callable<V> body) throws Exception {
        Objects.requireNonNull(body, "body");
        try (Section ignored = critical()) {
            return body.call();
        }
    }

    /**
     * An open critical section, returned by {@link Cancellation#critical(String)}. It is used for
     * its extent, so {@code javac -Xlint:try} warns that the resource variable is never referenced;
     * annotate the method with {@code @SuppressWarnings("try")}, or use
     * {@link Cancellation#critical(Callable)}.
     */
    public sealed interface Section extends AutoCloseable permits CriticalSection {

        /**
         * Returns the section's name, or {@code null} if it has none.
         *
         * @return the name
         */
        String name();

        /**
         * Closes the section. When the outermost section closes, a cancellation that arrived
         * meanwhile is delivered to the current thread.
         *
         * @throws WrongThreadException if called from a thread other than the one that opened it
         * @throws IllegalStateException if the section is already closed, or an inner section is
         *         still open
         */
        @Override
        void close();
    }

    /**
     * A resource registered with {@link Cancellation#onCancel(AutoCloseable)}.
     */
    public sealed interface Registration extends AutoCloseable permits CancelRegistration {

        /**
         * Returns {@code true} if cancellation closed (or is closing) the resource.
         *
         * @return whether the resource was closed by cancellation
         */
        boolean isClosedByCancellation();

        /**
         * Unregisters the resource. It does not close it, unless the task's cancellation was
         * already delivered and no closer thread has closed it yet: then it closes it first, once
         * (see {@link Cancellation#onCancel}). Idempotent; may be called from any thread.
         */
        @Override
        void close();
    }
}

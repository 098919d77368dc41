package dev.weft;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * A scope that owns a group of concurrent <em>subtasks</em>: it forks them, joins them as a
 * unit, cancels them as a unit, and does not let any of them outlive it unnoticed.
 *
 * <h2>Basic use</h2>
 *
 * A scope is opened with one of the static {@code open} methods, in a
 * {@code try}-with-resources statement. The thread that opens it is its <em>owner</em>. The owner
 * forks subtasks, each running in its own thread (a virtual thread unless a
 * {@linkplain Configuration#withThreadFactory thread factory} is configured), then calls
 * {@link #join()} to wait for them, then uses their results:
 *
 * {@snippet :
 * try (var scope = TaskScope.open()) {              // all must succeed; first failure cancels the rest
 *     Subtask<User>  user  = scope.fork(() -> findUser(id));
 *     Subtask<Order> order = scope.fork(() -> findOrder(id));
 *     scope.join();                                  // failure: ExecutionException(cause = first failure)
 *     return new Page(user.get(), order.get());
 * }
 * }
 *
 * <p>The <em>policy</em> (when {@code join} returns, and what it returns) is a {@link Joiner}.
 * {@link #open()} waits for every subtask and fails fast; {@link Joiner} has factories for the
 * other common policies (first success wins, supervisor, collect-until), and a custom joiner is a
 * few lines of code.
 *
 * <h2>Cancellation</h2>
 *
 * A scope is <em>cancelled</em> when its joiner says it is done, when its deadline passes, when
 * {@link #cancel()} is called (from any thread), when an enclosing scope or task is cancelled, or
 * by {@link Scopes#cancelAll()}. Cancelling a scope:
 * <ul>
 *   <li>marks every unfinished subtask as cancelled, so that {@link Cancellation#isRequested()}
 *       reads {@code true} inside it and {@link Cancellation#check()} throws;</li>
 *   <li>interrupts every unfinished subtask, except while it is inside a
 *       {@linkplain Cancellation#critical() critical section}, where the interrupt is deferred
 *       to the end of the section, and except in a
 *       {@linkplain Configuration#withInterrupts(boolean) cooperative} scope, which never
 *       interrupts (it wakes {@link Cancellation#await} instead);</li>
 *   <li>then hands the resources that the subtasks registered with
 *       {@link Cancellation#onCancel(AutoCloseable)} to a Weft closer thread, which closes them
 *       (never inside a critical section);</li>
 *   <li>cancels, directly, every scope nested below, at any depth: scopes opened by the subtasks,
 *       and scopes the owner opened inside this one. A nested scope is cancelled even when its
 *       owner never looks at its interrupt status.</li>
 * </ul>
 * Whoever cancels (a thread calling {@link #cancel()}, the deadline timer, a joiner,
 * {@link Scopes#cancelAll()}, the shutdown hook) only marks, interrupts and hands off: it runs no
 * user code and never waits for another thread.
 * A subtask forked after cancellation is not started; it is {@link Subtask.State#CANCELLED}.
 *
 * <h2>Bounded shutdown</h2>
 *
 * {@link #close()} cancels whatever has not finished and waits for the subtasks' threads. With a
 * {@linkplain Configuration#withGrace(Duration) grace period} it waits at most that long, then
 * throws a {@link GracePeriodExceededException} that names every subtask still running (the
 * <em>stragglers</em>), with its thread, age, critical section and stack trace. Java cannot kill
 * threads, so stragglers keep running; they stay visible in {@link Scopes#dump()} until they end,
 * and a failure they end with later is reported, not lost. Without a grace period, {@code close}
 * waits as long as it takes, as the JDK's {@code StructuredTaskScope} does.
 *
 * {@snippet :
 * try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("ingest")
 *         .withTimeout(Duration.ofSeconds(30)).withGrace(Duration.ofSeconds(2)))) {
 *     scope.fork("reader", this::readAll);
 *     scope.fork("writer", this::writeAll);
 *     scope.join();                       // throws DeadlineExceededException after 30 s
 * } catch (CancelledException | GracePeriodExceededException e) {
 *     // Whichever was thrown first carries the report: close() adds its own exception to join()'s.
 *     GracePeriodExceededException.in(e).ifPresent(g -> log.warn(g.getMessage()));  // a line per straggler
 * }
 * }
 *
 * <h2>Nesting and structure</h2>
 *
 * Scopes nest. A subtask may open its own scope; the owner may open a scope inside another. Nested
 * scopes must be closed before the scopes that enclose them (last opened, first closed), which
 * {@code try}-with-resources does by construction. A nested scope's effective deadline is the
 * earlier of its own and that of its enclosing scope.
 *
 * <h2>Memory consistency</h2>
 *
 * Actions in the owner before {@code fork} happen-before the subtask's actions. A subtask's actions
 * happen-before the owner observes its completion, through {@link #join()} or
 * {@link Subtask#state()}.
 *
 * <h2>Compared with the JDK</h2>
 *
 * The shape mirrors {@code java.util.concurrent.StructuredTaskScope} (JDK 25 to 27 previews):
 * {@code open}, {@code fork}, {@code join}, {@code close}, {@link Joiner}, {@link Subtask},
 * {@link Configuration}. Weft needs no preview flag and runs unchanged on JDK 21 and later. It adds a
 * bounded {@code close}, explicit and per-subtask cancellation, a cancellation state that code can
 * {@linkplain Cancellation query}, critical sections, and {@code onCancel} resources.
 *
 * <h2>Types</h2>
 *
 * As in JDK 27's {@code StructuredTaskScope} (JEP 533), the third type parameter is the exception
 * {@link #join()} throws: the joiner decides it, so a supervisor's caller does not catch a
 * failure that cannot happen. With {@code var} the types are inferred; spelled out, they are:
 * {@snippet :
 * TaskScope<String, Void, ExecutionException> failFast = TaskScope.open();        // join() throws ExecutionException
 * TaskScope<String, Void, RuntimeException> supervisor = TaskScope.open(Joiner.awaitAll());  // nothing checked
 * TaskScope<String, List<String>, ExecutionException> all = TaskScope.open(Joiner.allSuccessfulOrThrow());
 * }
 *
 * @param <T> the result type of the subtasks
 * @param <R> the result type of {@link #join()}
 * @param <R_X> the exception {@link #join()} throws when the joiner's {@link Joiner#result()}
 *              does: {@link ExecutionException} for the fail-fast joiners, {@link RuntimeException}
 *              (nothing checked) for a supervisor
 */
public sealed interface TaskScope<T, R, R_X extends Throwable> extends AutoCloseable permits TaskScopeImpl {

    /**
     * Opens a scope whose {@link #join()} waits for every subtask to succeed, or for the first
     * failure, which cancels the others. {@code join} returns {@code null} or throws
     * {@link ExecutionException} with the first failure as its cause. This is
     * {@code open(Joiner.awaitAllSuccessfulOrThrow())}.
     *
     * <p>The scope's owner is the current thread. If the current thread is a subtask, or already owns
     * an open scope, the new scope is nested inside.
     *
     * @param <T> the result type of the subtasks
     * @return a new open scope
     */
    static <T> TaskScope<T, Void, ExecutionException> open() {
        return open(Joiner.awaitAllSuccessfulOrThrow());
    }

    /**
     * Opens a scope with the given joiner and the default configuration.
     *
     * @param joiner the policy that decides when {@link #join()} returns and what it returns
     * @param <T> the result type of the subtasks
     * @param <R> the result type of {@code join}
     * @param <R_X> the exception {@code join} throws when the joiner's {@code result()} does
     * @return a new open scope
     * @throws NullPointerException if {@code joiner} is null
     */
    static <T, R, R_X extends Throwable> TaskScope<T, R, R_X> open(Joiner<? super T, ? extends R, R_X> joiner) {
        return open(joiner, UnaryOperator.identity());
    }

    /**
     * Opens a scope with the given joiner and a configuration produced by {@code configFunction}
     * from the default configuration.
     *
     * {@snippet :
     * try (var scope = TaskScope.open(Joiner.<Quote>anySuccessfulOrThrow(),
     *                                 cfg -> cfg.withName("quotes").withTimeout(Duration.ofSeconds(2)))) {
     *     for (var url : mirrors) scope.fork(() -> fetchQuote(url));
     *     return scope.join();   // the first quote; the slower requests are cancelled
     * }
     * }
     *
     * @param joiner the policy that decides when {@link #join()} returns and what it returns
     * @param configFunction a function applied to the default configuration
     * @param <T> the result type of the subtasks
     * @param <R> the result type of {@code join}
     * @param <R_X> the exception {@code join} throws when the joiner's {@code result()} does
     * @return a new open scope
     * @throws NullPointerException if {@code joiner} or {@code configFunction} is null, or if
     *         {@code configFunction} returns null
     */
    static <T, R, R_X extends Throwable> TaskScope<T, R, R_X> open(Joiner<? super T, ? extends R, R_X> joiner,
                                                                    UnaryOperator<Configuration> configFunction) {
        Objects.requireNonNull(joiner, "joiner");
        Objects.requireNonNull(configFunction, "configFunction");
        Configuration cfg = configFunction.apply(Config.DEFAULT);
        if (cfg == null) {
            throw new NullPointerException("configFunction returned null; return the configuration it was given");
        }
        return TaskScopeImpl.open(joiner, (Config) cfg);
    }

    /**
     * Forks a subtask: starts a new thread that runs {@code task}.
     *
     * <p>The thread is a virtual thread named after the scope (for example {@code ingest}; all
     * unnamed subtasks of a scope share that name, so a fork allocates none), unless a thread
     * factory is configured, in which case the factory creates and names it. The joiner's {@link Joiner#onFork onFork} is invoked first; if the scope is
     * already cancelled, or {@code onFork} cancels it, no thread is started and the subtask is
     * {@link Subtask.State#CANCELLED CANCELLED}.
     *
     * <p>If the scope has {@linkplain Configuration#withContext context propagators}, each one
     * captures the current thread's context here, before the thread is created; the subtask's
     * thread installs it around the task (see {@link ContextPropagator}).
     *
     * @param task the value-returning task to run
     * @param <U> the subtask's result type
     * @return the subtask
     * @throws NullPointerException if {@code task} is null
     * @throws WrongThreadException if the current thread is not the scope's owner
     * @throws IllegalStateException if {@link #join()} has completed or the scope is closed
     * @throws RejectedExecutionException if the thread factory returns null or throws, or the
     *         thread cannot be started, or a {@linkplain ContextPropagator context propagator}'s
     *         {@code capture()} throws or returns null (no thread is started)
     */
    <U extends T> Subtask<U> fork(Callable<? extends U> task);

    /**
     * Forks a subtask that runs a {@code Runnable}; its result is {@code null}. Otherwise the
     * same as {@link #fork(Callable)}.
     *
     * @param task the task to run
     * @param <U> the subtask's result type
     * @return the subtask
     * @throws NullPointerException if {@code task} is null
     * @throws WrongThreadException if the current thread is not the scope's owner
     * @throws IllegalStateException if {@link #join()} has completed or the scope is closed
     * @throws RejectedExecutionException if the thread factory returns null or throws, or the
     *         thread cannot be started, or a context propagator's {@code capture()} throws or
     *         returns null
     */
    <U extends T> Subtask<U> fork(Runnable task);

    /**
     * Forks a named subtask. The name appears in the thread name ({@code scope:name}, for example
     * {@code ingest:reader}), in {@link Subtask#name()},
     * in straggler reports and in {@link Scopes#dump()}. Otherwise the same as
     * {@link #fork(Callable)}.
     *
     * @param name the subtask's name, for diagnostics
     * @param task the value-returning task to run
     * @param <U> the subtask's result type
     * @return the subtask
     * @throws NullPointerException if {@code name} or {@code task} is null
     * @throws WrongThreadException if the current thread is not the scope's owner
     * @throws IllegalStateException if {@link #join()} has completed or the scope is closed
     * @throws RejectedExecutionException if the thread factory returns null or throws, or the
     *         thread cannot be started, or a context propagator's {@code capture()} throws or
     *         returns null
     */
    <U extends T> Subtask<U> fork(String name, Callable<? extends U> task);

    /**
     * Forks a named subtask that runs a {@code Runnable}. Otherwise the same as
     * {@link #fork(String, Callable)}.
     *
     * @param name the subtask's name, for diagnostics
     * @param task the task to run
     * @param <U> the subtask's result type
     * @return the subtask
     * @throws NullPointerException if {@code name} or {@code task} is null
     * @throws WrongThreadException if the current thread is not the scope's owner
     * @throws IllegalStateException if {@link #join()} has completed or the scope is closed
     * @throws RejectedExecutionException if the thread factory returns null or throws, or the
     *         thread cannot be started, or a context propagator's {@code capture()} throws or
     *         returns null
     */
    <U extends T> Subtask<U> fork(String name, Runnable task);

    /**
     * Waits until the joiner says the scope is done, or the scope is cancelled, and returns the
     * joiner's result.
     *
     * <p>{@code join} returns or throws when one of these happens first:
     * <ul>
     *   <li>every subtask has completed, or the joiner's {@link Joiner#onComplete onComplete}
     *       returned {@code true} (which cancels the scope): {@code join} returns what
     *       {@link Joiner#result()} returns, or throws what it throws ({@code R_X}). The built-in
     *       fail-fast joiners throw {@link ExecutionException} whose cause is the first
     *       failure;</li>
     *   <li>the joiner's {@code onComplete} threw: {@link IllegalStateException} whose cause is
     *       that exception (a joiner that throws is a bug in the joiner);</li>
     *   <li>the scope's deadline passed: {@link DeadlineExceededException};</li>
     *   <li>the scope was cancelled by {@link #cancel()}, by an enclosing scope or task, by
     *       {@link Scopes#cancelAll()}, or as a leaked scope: {@link CancelledException}, whose
     *       cause is the reason given to {@link #cancel(Throwable)}, if any.</li>
     * </ul>
     * When the scope was cancelled, {@code join} then waits, at most for the grace period, for the
     * cancelled subtasks to finish, so that their outcomes are known when it returns. If the owner
     * is interrupted during that wait, {@code join} stops waiting, re-asserts the interrupt status
     * and reports the outcome as above (subtasks still running then are reported by
     * {@link #close()}). Every
     * failure recorded until then that is not already the cause is attached to the thrown
     * exception as {@linkplain Throwable#getSuppressed() suppressed}. A failure that was caused by
     * the cancellation (the subtask ended {@link Subtask.State#CANCELLED CANCELLED}) is not. A
     * subtask that fails after {@code join} returned or threw (it stopped waiting for it) is
     * attached to the exception {@link #close()} throws, or, if it throws none, reported through
     * {@code System.Logger} {@code "dev.weft"}: no failure is lost, and none is reported twice.
     * When {@code join} returns normally (a supervisor), the subtasks' failures are read from the
     * subtasks.
     *
     * <p>If the scope then closes with stragglers, {@code try}-with-resources adds the
     * {@link GracePeriodExceededException} to the exception {@code join} threw, as suppressed;
     * {@link GracePeriodExceededException#in(Throwable)} finds it in whichever exception the
     * {@code catch} received.
     *
     * <p>After {@code join} returns or throws (other than {@code InterruptedException}), the scope
     * accepts no more forks. {@code join} may be called again only after it threw
     * {@code InterruptedException}.
     *
     * @return the joiner's result
     * @throws R_X what the joiner's {@code result()} throws, for example an
     *         {@link ExecutionException} whose cause is the first failure
     * @throws DeadlineExceededException if the scope's own deadline passed first
     * @throws CancelledException if the scope was cancelled for another reason
     * @throws InterruptedException if the owner was interrupted while waiting, before the scope was
     *         cancelled; the scope is not cancelled by this
     * @throws WrongThreadException if the current thread is not the scope's owner
     * @throws IllegalStateException if {@code join} already completed or the scope is closed, or if
     *         the joiner's {@code onComplete} threw (its exception is the cause)
     */
    R join() throws R_X, InterruptedException;

    /**
     * Cancels the scope, with no particular reason. Same as {@code cancel(null)}.
     *
     * @see #cancel(Throwable)
     */
    void cancel();

    /**
     * Cancels the scope: every unfinished subtask is marked cancelled and interrupted (interrupts
     * are deferred while a subtask is in a critical section; a
     * {@linkplain Configuration#withInterrupts cooperative} scope never interrupts), its
     * {@code onCancel} resources are handed to a Weft closer thread to be closed, and every nested
     * scope is cancelled, at any depth. A pending {@link #join()} then throws
     * {@link CancelledException} whose cause is {@code reason}.
     *
     * <p>May be called from any thread, including a subtask of this scope. Idempotent: only the
     * first cancellation counts, and its reason is the one reported. It never waits: it runs no
     * user code (no {@code onCancel} close, no joiner callback) and returns in time proportional
     * to the number of subtasks and nested scopes it reaches. {@link #join()} and
     * {@link #close()} wait for the subtasks and the closes.
     *
     * @param reason why the scope is cancelled, or {@code null}
     */
    void cancel(Throwable reason);

    /**
     * Returns {@code true} if the scope has been cancelled, for any reason, or closed. As in the
     * JDK, a closed scope counts as cancelled even when {@link #close()} had nothing left to
     * cancel.
     *
     * @return whether the scope is cancelled or closed
     */
    boolean isCancelled();

    /**
     * Closes the scope: cancels the subtasks that have not finished, then waits for their threads,
     * at most for the configured grace period.
     *
     * <p>Guarantees:
     * <ul>
     *   <li>With a grace period {@code g}, {@code close} returns or throws within {@code g} plus a
     *       scheduling margin (and the time to collect the stragglers' stack traces), however the
     *       subtasks behave. One grace period covers both waits for cancelled subtasks: if
     *       {@link #join()} already waited after a cancellation, {@code close} waits only for what
     *       is left of it. Without a grace period (the default), it waits until every subtask has
     *       ended.</li>
     *   <li>If the owner is interrupted while {@code close} waits, it keeps waiting (still bounded
     *       by the grace period) and re-asserts the interrupt status before returning.</li>
     *   <li>When {@code close} returns normally, every subtask has completed and its thread has
     *       finished running task code.</li>
     *   <li>If subtasks are still running when the grace period ends, {@code close} throws
     *       {@link GracePeriodExceededException} naming each of them. They keep running, are listed
     *       by {@link Scopes#dump()} until they end, and a failure they end with is reported through
     *       {@code System.Logger} {@code "dev.weft"}.</li>
     *   <li>Closing a scope while a scope nested in it (opened later by the same thread) is still
     *       open is a structure violation: the nested scopes are closed first, then
     *       {@link StructureViolationException} is thrown.</li>
     *   <li>If the owner forked subtasks and never called {@link #join()} nor cancelled the scope,
     *       {@code close} still cleans up, then throws {@link IllegalStateException}: that is a
     *       bug in the caller, as in the JDK.</li>
     * </ul>
     * Only one exception is thrown; others are attached to it as suppressed. Closing a closed scope
     * has no effect. When the {@code try} block itself throws (for example {@code join()} after a
     * cancellation), {@code try}-with-resources attaches the exception {@code close} throws to that
     * one as {@linkplain Throwable#getSuppressed() suppressed}; one call finds the straggler
     * report in whichever exception the {@code catch} receives:
     * {@snippet :
     * try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withGrace(Duration.ofSeconds(1)))) {
     *     scope.fork(worker);
     *     scope.join();
     * } catch (CancelledException | GracePeriodExceededException e) {
     *     GracePeriodExceededException.in(e).ifPresent(g -> log.warn(g.getMessage()));
     * }
     * }
     *
     * @throws GracePeriodExceededException if subtasks were still running after the grace period
     * @throws StructureViolationException if nested scopes were still open
     * @throws IllegalStateException if the owner forked but neither joined nor cancelled
     * @throws WrongThreadException if the current thread is not the scope's owner
     */
    @Override
    void close();

    /**
     * A forked subtask. Obtained from {@link TaskScope#fork}; safe to use from any thread.
     *
     * @param <T> the result type
     */
    sealed interface Subtask<T> extends Supplier<T> permits Task {

        /** The state of a subtask. */
        enum State {
            /** Not finished: not yet started, or running. */
            RUNNING,
            /** Completed with a result, available from {@link Subtask#get()}. */
            SUCCESS,
            /** Completed with an exception, available from {@link Subtask#exception()}. */
            FAILED,
            /**
             * Cancelled: either it never ran, because it was cancelled before its thread got to it,
             * or it was cancelled and then ended with an exception caused by the cancellation:
             * {@link InterruptedException}, {@link CancelledException},
             * {@link java.nio.channels.ClosedByInterruptException} or
             * {@link java.io.InterruptedIOException} (or an exception caused by one of those), or an
             * {@link java.io.IOException} after its cancellation closed one of its
             * {@link Cancellation#onCancel onCancel} resources or while its thread is still
             * interrupted (a virtual thread's socket read answers an interrupt by closing the
             * socket and throwing {@link java.net.SocketException}). A subtask that was cancelled but
             * still returned a value is {@link #SUCCESS}; one that ended with any other exception
             * is {@link #FAILED}.
             */
            CANCELLED
        }

        /**
         * Returns the name given to {@link TaskScope#fork(String, Callable)}, or {@code "#n"} for an
         * unnamed subtask, where n is its fork index in its scope, counting from 1 and including
         * named subtasks (the index that straggler reports and dumps show).
         *
         * @return the subtask's name
         */
        String name();

        /**
         * Returns the subtask's state.
         *
         * @return the state
         */
        State state();

        /**
         * Returns the subtask's result.
         *
         * @return the result
         * @throws IllegalStateException if the subtask is not {@link State#SUCCESS SUCCESS}: still
         *         running, failed, or cancelled; the message says which
         */
        @Override
        T get();

        /**
         * Returns the exception the subtask ended with. For a {@link State#CANCELLED CANCELLED}
         * subtask that never ran, a {@link CancelledException}.
         *
         * @return the exception
         * @throws IllegalStateException if the subtask is {@link State#RUNNING RUNNING} or
         *         {@link State#SUCCESS SUCCESS}
         */
        Throwable exception();

        /**
         * Cancels this subtask only: the scope and the other subtasks are not affected. The subtask
         * is marked cancelled, interrupted unless it is inside a critical section, its
         * {@code onCancel} resources are closed and the scopes it opened are cancelled. If its
         * thread has not started running it yet, it never runs: none of its code runs, not even its
         * {@code finally} blocks (so do not wait for a latch it would count down). The scope's
         * joiner then sees it complete; the fail-fast joiners treat a cancelled subtask as a
         * failure.
         *
         * <p>May be called from any thread. Does not wait for the subtask to finish.
         *
         * @return {@code true} if this call requested the cancellation; {@code false} if the
         *         subtask had already completed or its cancellation was already requested
         */
        boolean cancel();
    }

    /**
     * The policy of a scope: when {@link TaskScope#join()} is done and what it returns.
     *
     * <p>{@link #onFork} is called by the owner for each forked subtask, before its thread starts.
     * {@link #onComplete} is called once for each subtask that ran (or was started), by the
     * subtask's own thread right after it completes, so it may be called <em>concurrently</em> and
     * must be thread-safe. Returning {@code true} from either cancels the scope, which makes
     * {@code join} finish. {@link #result()} is called by the owner, once, when {@code join}
     * finishes because every subtask completed or the joiner cancelled the scope.
     *
     * <p>A custom joiner is a few lines. This one returns the first result that passes a test and
     * cancels the rest:
     * {@snippet :
     * class FirstMatch<T> implements Joiner<T, T, NoSuchElementException> {
     *     private final Predicate<T> test;
     *     private final AtomicReference<T> found = new AtomicReference<>();
     *     FirstMatch(Predicate<T> test) { this.test = test; }
     *
     *     @Override public boolean onComplete(Subtask<T> s) {
     *         return s.state() == Subtask.State.SUCCESS && test.test(s.get())
     *             && found.compareAndSet(null, s.get());          // true cancels the scope
     *     }
     *     @Override public T result() {
     *         T t = found.get();
     *         if (t == null) throw new NoSuchElementException("no subtask matched");
     *         return t;
     *     }
     * }
     * }
     *
     * <p>If {@code onComplete} throws, the scope is cancelled and {@code join} throws
     * {@link IllegalStateException} with that exception as its cause. If {@code onFork} throws,
     * the subtask is not started and {@code fork} throws that exception.
     *
     * @param <T> the result type of the subtasks
     * @param <R> the result type of {@code join}
     * @param <R_X> the exception {@link #result()}, and so {@code join}, throws; use
     *              {@link RuntimeException} for a joiner that throws nothing checked
     */
    interface Joiner<T, R, R_X extends Throwable> {

        /**
         * Called by the owner when a subtask is forked, before its thread is started.
         *
         * @param subtask the new subtask
         * @return {@code true} to cancel the scope
         */
        default boolean onFork(Subtask<T> subtask) {
            Objects.requireNonNull(subtask, "subtask");
            return false;
        }

        /**
         * Called by a subtask's thread when the subtask completes, in any state. May be called
         * concurrently from several threads.
         *
         * @param subtask the completed subtask
         * @return {@code true} to cancel the scope
         */
        default boolean onComplete(Subtask<T> subtask) {
            Objects.requireNonNull(subtask, "subtask");
            return false;
        }

        /**
         * Called once by the owner when {@code join} finishes, to produce its result.
         *
         * @return the result of {@code join}
         * @throws R_X to make {@code join} throw it
         */
        R result() throws R_X;

        /**
         * Fail-fast, all results: {@code join} returns the results of all subtasks in fork order,
         * or throws with the first failure (in completion order) as the cause, after cancelling
         * the others. A subtask cancelled on its own ({@link Subtask#cancel()}) counts as a
         * failure, with a {@link CancelledException} as the cause. The list may contain
         * {@code null} (from {@code Runnable} subtasks) and cannot be modified.
         *
         * @param <T> the result type of the subtasks
         * @return a new joiner
         */
        static <T> Joiner<T, List<T>, ExecutionException> allSuccessfulOrThrow() {
            return new Joiners.AllSuccessful<>();
        }

        /**
         * First success wins: {@code join} returns the result of the first subtask to succeed and
         * cancels the others. If none succeeds, it throws with the first failure as the cause, or
         * with {@link NoSuchElementException} if no subtask was forked.
         *
         * @param <T> the result type of the subtasks
         * @return a new joiner
         */
        static <T> Joiner<T, T, ExecutionException> anySuccessfulOrThrow() {
            return new Joiners.AnySuccessful<>();
        }

        /**
         * Fail-fast, no value: {@code join} returns {@code null} when all subtasks succeed, or throws
         * with the first failure as the cause, after cancelling the others. Results are read from
         * the subtasks. This is the joiner of {@link TaskScope#open()}.
         *
         * @param <T> the result type of the subtasks
         * @return a new joiner
         */
        static <T> Joiner<T, Void, ExecutionException> awaitAllSuccessfulOrThrow() {
            return new Joiners.AwaitAllSuccessful<>();
        }

        /**
         * Supervisor: {@code join} waits for every subtask, whatever its outcome, and returns
         * {@code null}. A failure does not cancel the siblings; outcomes are read from the
         * subtasks.
         *
         * @param <T> the result type of the subtasks
         * @return a new joiner
         */
        static <T> Joiner<T, Void, RuntimeException> awaitAll() {
            return new Joiners.AwaitAll<>();
        }

        /**
         * Until a condition: {@code join} returns when every subtask has completed or when
         * {@code isDone} returns {@code true} for a completed subtask (which cancels the others).
         * It returns all forked subtasks, in fork order. {@code isDone} is called from the
         * subtasks' threads, possibly concurrently. If it throws, {@code join} throws
         * {@link IllegalStateException} with that exception as its cause.
         *
         * @param isDone tested against each completed subtask
         * @param <T> the result type of the subtasks
         * @return a new joiner
         * @throws NullPointerException if {@code isDone} is null
         */
        static <T> Joiner<T, List<Subtask<T>>, RuntimeException> allUntil(Predicate<? super Subtask<T>> isDone) {
            return new Joiners.AllUntil<>(Objects.requireNonNull(isDone, "isDone"));
        }
    }

    /**
     * The configuration of a scope, given to the {@code configFunction} of
     * {@link TaskScope#open(Joiner, UnaryOperator)}. Immutable: each {@code with} method returns a
     * new configuration.
     *
     * <p>The defaults: a name {@code "scope-n"}, virtual threads, no deadline, an unbounded
     * grace period (as in the JDK), and the context propagators inherited from the enclosing scope
     * (none for a root scope).
     */
    sealed interface Configuration permits Config {

        /**
         * Sets the scope's name, used in thread names, exceptions and dumps.
         *
         * @param name the name
         * @return a new configuration
         * @throws NullPointerException if {@code name} is null
         */
        Configuration withName(String name);

        /**
         * Sets the factory that creates the subtasks' threads; it may create platform threads.
         * Threads it creates keep the names it gives them.
         *
         * @param threadFactory the thread factory
         * @return a new configuration
         * @throws NullPointerException if {@code threadFactory} is null
         */
        Configuration withThreadFactory(ThreadFactory threadFactory);

        /**
         * Sets a deadline {@code timeout} after the scope is opened. Replaces any earlier deadline
         * or timeout. A zero or negative timeout means the scope is cancelled as soon as it opens.
         *
         * @param timeout the time the scope may run
         * @return a new configuration
         * @throws NullPointerException if {@code timeout} is null
         */
        Configuration withTimeout(Duration timeout);

        /**
         * Sets the instant at which the scope is cancelled and {@link TaskScope#join()} throws
         * {@link DeadlineExceededException}. Replaces any earlier deadline or timeout.
         *
         * @param deadline the deadline
         * @return a new configuration
         * @throws NullPointerException if {@code deadline} is null
         */
        Configuration withDeadline(Instant deadline);

        /**
         * Sets the grace period: the longest time {@link TaskScope#close()} (and {@code join}, after
         * a cancellation) waits for cancelled subtasks to end. Zero means do not wait.
         *
         * @param grace the grace period
         * @return a new configuration
         * @throws NullPointerException if {@code grace} is null
         * @throws IllegalArgumentException if {@code grace} is negative
         */
        Configuration withGrace(Duration grace);

        /**
         * Sets whether cancellation interrupts the subtasks' threads. With {@code false}, the
         * scope is <em>cooperative</em> (Kotlin's and Trio's model): cancellation sets the state
         * that {@link Cancellation#isRequested()} and {@link Cancellation#check()} read, closes the
         * {@link Cancellation#onCancel onCancel} resources, wakes {@link Cancellation#await}, and
         * never calls {@link Thread#interrupt()}. Use it for code that one interrupt damages: an
         * interrupt closes an {@link java.nio.channels.InterruptibleChannel} such as a
         * {@code FileChannel} for every task that shares it, and some embedded databases and search
         * libraries corrupt their files on one. Blocking calls are then not woken by cancellation:
         * give them timeouts from {@link Cancellation#remaining()}, or register what they block on
         * with {@code onCancel}.
         *
         * <p>Scopes nested below (opened by the subtasks, or by the owner inside this scope)
         * inherit the setting unless they set it again. The default is {@code true}.
         *
         * @param interrupts {@code false} to never interrupt
         * @return a new configuration
         */
        Configuration withInterrupts(boolean interrupts);

        /**
         * Adds a context propagator: each subtask of the scope then runs with the context it
         * captures at {@code fork} (see {@link ContextPropagator}). It comes after the propagators
         * the scope inherits and those added before. A scope inherits the propagators of the scope
         * its subtask belongs to (when opened in a subtask) or of the scope enclosing it (when its
         * owner opened it inside another); a root scope has none.
         *
         * {@snippet :
         * try (var scope = TaskScope.open(Joiner.awaitAll(),
         *         cfg -> cfg.withContext(ContextPropagator.ofThreadLocals(REQUEST_ID)))) {
         *     scope.fork(() -> handle(REQUEST_ID.get()));   // the owner's request id
         *     scope.join();
         * }
         * }
         *
         * @param propagator the propagator to add
         * @return a new configuration
         * @throws NullPointerException if {@code propagator} is null
         */
        Configuration withContext(ContextPropagator propagator);

        /**
         * Replaces the scope's context propagators, inherited and added, by {@code propagators},
         * in this order. An empty list turns propagation off for this scope and, by inheritance,
         * for the scopes nested in it. {@link #withContext} after this adds to the new list.
         *
         * @param propagators the propagators, in the order their snapshots are installed
         * @return a new configuration
         * @throws NullPointerException if {@code propagators} or one of its elements is null
         */
        Configuration withContextPropagators(List<ContextPropagator> propagators);
    }
}

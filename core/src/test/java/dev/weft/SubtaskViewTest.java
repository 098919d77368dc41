package dev.weft;

import static dev.weft.RegressionSupport.async;
import static dev.weft.RegressionSupport.finishes;
import static dev.weft.RegressionSupport.thrownBy;
import static dev.weft.TestSupport.WAIT;
import static dev.weft.TestSupport.await;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What users hold and read (issue 11, "also"): the {@code Subtask} returned by {@code fork} is a view
 * that a foreign thread cannot run; a task name with line breaks cannot break "one line per
 * straggler" nor forge lines in {@code Scopes.dump()}; an outer {@code close()} is bounded by its own
 * grace period as a whole; a subtask that replaces its thread's uncaught-exception handler is still
 * a subtask for {@link Cancellation}.
 */
class SubtaskViewTest {

    @Test
    @Timeout(60)
    void subtaskView_runFromAnotherThread_impossibleOrWrongThreadAndChangesNothing() throws Exception {
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var bodyRuns = new AtomicInteger();
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow())) {
            Subtask<String> subtask = scope.fork("real", () -> {
                if (bodyRuns.incrementAndGet() > 1) {
                    throw new IllegalStateException("the body ran a second time, on a foreign thread");
                }
                started.countDown();
                ShutdownSupport.ignoreInterruptsUntil(new CountDownLatch(0), release);
                return "real result";
            });
            await(started);
            try {
                Object view = subtask;              // compiles whether or not the view can be a Runnable
                if (view instanceof Runnable runnable) {
                    var foreign = RegressionSupport.asyncRun("test-foreign-runner", runnable::run);
                    assertThat(finishes(foreign, WAIT)).isTrue();
                    assertThat(RegressionSupport.failureOf(foreign)).as("run() from a foreign thread")
                            .isInstanceOf(WrongThreadException.class);
                    assertThat(bodyRuns.get()).as("the body did not run again").isEqualTo(1);
                    assertThat(subtask.state()).as("the state is unchanged").isEqualTo(Subtask.State.RUNNING);
                }
                assertThat(subtask.state()).isEqualTo(Subtask.State.RUNNING);
            } finally {
                release.countDown();
            }
            assertThat(scope.join()).as("join waited for the real thread").containsExactly("real result");
            assertThat(subtask.state()).isEqualTo(Subtask.State.SUCCESS);
        }
    }

    @Test
    @Timeout(60)
    void threadsHandler_seenFromTheBody_isTheSubtaskNotARunnable() throws Exception {
        // The thread's uncaught-exception handler is the slot where Weft finds the subtask: it holds
        // the subtask itself, which has no run(), so the body cannot reach its thread's Runnable.
        var handler = new AtomicReference<Thread.UncaughtExceptionHandler>();
        Subtask<String> subtask;
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow())) {
            subtask = scope.fork("look", () -> {
                handler.set(Thread.currentThread().getUncaughtExceptionHandler());
                return "done";
            });
            assertThat(scope.join()).containsExactly("done");
        }
        assertThat(handler.get()).as("the handler is the subtask").isSameAs(subtask);
        assertThat((Object) handler.get()).as("and not a Runnable").isNotInstanceOf(Runnable.class);
    }

    @Test
    @Timeout(60)
    void sharedBody_runOnAThreadThatIsNoSubtask_illegalStateNamingTheThread() throws Exception {
        // The one Runnable every thread Weft builds runs holds no task: run anywhere else (only
        // reflection gets there), it refuses, and runs nobody's body.
        var refusal = new AtomicReference<Throwable>();
        Thread foreign = Thread.ofVirtual().name("test-not-a-subtask").start(() -> {
            try {
                Task.Body.SHARED.run();
            } catch (Throwable t) {
                refusal.set(t);
            }
        });
        assertThat(foreign.join(WAIT)).isTrue();
        assertThat(refusal.get()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'test-not-a-subtask' is not a subtask's thread");
    }

    @Test
    @Timeout(60)
    void sharedBody_handlerReplacedBeforeTheThreadStarted_findsItsTaskAndRunsItOnce() throws Exception {
        // The shared Runnable finds its task in the handler slot. Code that holds the unstarted
        // thread (here a joiner, through the internal view) and replaces the handler must not lose
        // the subtask: its thread finds it in the live scope tree instead.
        var replacement = (Thread.UncaughtExceptionHandler) (t, e) -> { };
        var runs = new AtomicInteger();
        var seenRequested = new AtomicReference<Boolean>();
        Joiner<String, List<String>, RuntimeException> joiner = new Joiner<>() {
            private final List<String> values = new java.util.concurrent.CopyOnWriteArrayList<>();

            @Override
            public boolean onFork(Subtask<String> subtask) {
                ((Task) (Object) subtask).thread.setUncaughtExceptionHandler(replacement);
                return false;
            }

            @Override
            public boolean onComplete(Subtask<String> subtask) {
                values.add(subtask.get());
                return false;
            }

            @Override
            public List<String> result() {
                return values;
            }
        };
        Subtask<String> subtask;
        try (var scope = TaskScope.open(joiner)) {
            subtask = scope.fork("replaced", () -> {
                runs.incrementAndGet();
                seenRequested.set(Cancellation.isRequested());
                return "ran";
            });
            assertThat(scope.join()).containsExactly("ran");
        }
        assertThat(subtask.state()).isEqualTo(Subtask.State.SUCCESS);
        assertThat(runs.get()).as("the body ran once").isEqualTo(1);
        assertThat(seenRequested.get()).as("the subtask still saw its own (uncancelled) state").isFalse();
    }

    @Test
    @Timeout(60)
    void threadsRunnable_runAgainFromTheSubtasksOwnThread_illegalStateAndChangesNothing() throws Exception {
        // The thread's Runnable reaches user code through a thread factory, which is given it.
        var bodyRuns = new AtomicInteger();
        var reentry = new AtomicReference<Throwable>();
        var runnable = new AtomicReference<Runnable>();
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), cfg -> cfg.withThreadFactory(r -> {
            runnable.set(r);
            return Thread.ofVirtual().unstarted(r);
        }))) {
            Subtask<String> subtask = scope.fork("reenter", () -> {
                bodyRuns.incrementAndGet();
                try {
                    runnable.get().run();
                } catch (Throwable t) {
                    reentry.set(t);
                }
                return "first run";
            });
            assertThat(scope.join()).containsExactly("first run");
            assertThat(subtask.state()).isEqualTo(Subtask.State.SUCCESS);
        }
        assertThat(bodyRuns.get()).as("the body ran once").isEqualTo(1);
        assertThat(reentry.get()).as("running the thread's Runnable again is refused")
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("subtask #1 'reenter'").hasMessageContaining("a thread runs its Runnable once");
    }

    @Test
    @Timeout(60)
    void threadsRunnable_runAgainFromOnCompleteAfterTheSubtaskCompleted_illegalStateAndResultKept() throws Exception {
        // onComplete runs on the subtask's thread after the subtask completed: the Runnable must not
        // take the completed subtask's result for a body to run.
        var reentry = new AtomicReference<Throwable>();
        var completions = new AtomicInteger();
        var runnable = new AtomicReference<Runnable>();
        Joiner<String, String, RuntimeException> joiner = new Joiner<>() {
            private volatile String value;

            @Override
            public boolean onComplete(Subtask<String> subtask) {
                completions.incrementAndGet();
                value = subtask.get();
                try {
                    runnable.get().run();
                } catch (Throwable t) {
                    reentry.set(t);
                }
                return false;
            }

            @Override
            public String result() {
                return value;
            }
        };
        Subtask<String> subtask;
        try (var scope = TaskScope.open(joiner, cfg -> cfg.withThreadFactory(r -> {
            runnable.set(r);
            return Thread.ofVirtual().unstarted(r);
        }))) {
            subtask = scope.fork("done", () -> "the result");
            assertThat(scope.join()).isEqualTo("the result");
        }
        assertThat(reentry.get()).as("running the completed subtask's Runnable again is refused")
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("subtask #1 'done'").hasMessageContaining("a thread runs its Runnable once");
        assertThat(completions.get()).as("the subtask completed once").isEqualTo(1);
        assertThat(subtask.state()).isEqualTo(Subtask.State.SUCCESS);
        assertThat(subtask.get()).isEqualTo("the result");
    }

    @Test
    @Timeout(60)
    void subtasksHandler_installedOnAnotherThread_thatThreadIsNotTheSubtask() throws Exception {
        var handler = new AtomicReference<Thread.UncaughtExceptionHandler>();
        var ready = new CountDownLatch(1);
        var requested = new AtomicReference<Boolean>();
        var checkThrew = new AtomicReference<Throwable>();
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            scope.fork("owner-of-the-handler", () -> {
                handler.set(Thread.currentThread().getUncaughtExceptionHandler());
                ready.countDown();
                return blockUntilInterrupted();
            });
            await(ready);
            scope.cancel();
            assertThat(Cancellation.isRequested()).as("the test thread is not cancelled").isFalse();
            // A thread factory that copies the current thread's handler would do this.
            Thread other = Thread.ofPlatform().uncaughtExceptionHandler(handler.get()).start(() -> {
                requested.set(Cancellation.isRequested());
                checkThrew.set(thrownBy(Cancellation::check));
            });
            assertThat(other.join(WAIT)).isTrue();
            thrownBy(scope::join);
        }
        assertThat(requested.get()).as("isRequested() on a thread that only shares the subtask's handler").isFalse();
        assertThat(checkThrew.get()).as("check() there").isNull();
    }

    /** A body that is both a Runnable and a Callable, and records which one ran. */
    private static final class Both implements Runnable, java.util.concurrent.Callable<String> {
        final AtomicReference<String> ran = new AtomicReference<>();

        @Override
        public void run() {
            ran.set("run");
        }

        @Override
        public String call() {
            ran.set("call");
            return "called";
        }
    }

    @Test
    @Timeout(60)
    void forkRunnable_bodyIsAlsoCallable_runsRunAndHasNoValue() throws Exception {
        var both = new Both();
        Subtask<Object> subtask;
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            subtask = scope.fork((Runnable) both);
            scope.join();
        }
        assertThat(both.ran.get()).isEqualTo("run");
        assertThat(subtask.state()).isEqualTo(Subtask.State.SUCCESS);
        assertThat(subtask.get()).isNull();
    }

    @Test
    @Timeout(60)
    void forkCallable_bodyIsAlsoRunnable_runsCallAndKeepsItsValue() throws Exception {
        var both = new Both();
        Subtask<String> subtask;
        try (var scope = TaskScope.open(Joiner.<String>awaitAll())) {
            subtask = scope.fork((java.util.concurrent.Callable<String>) both);
            scope.join();
        }
        assertThat(both.ran.get()).isEqualTo("call");
        assertThat(subtask.get()).isEqualTo("called");
    }

    @Test
    @Timeout(60)
    void nameWithLineBreaks_oneLinePerStragglerAndDumpForgesNoLine() throws Exception {
        String lf = "lf\nFORGED scope 'x' task #9 'evil' stuck 1 s in Evil.run (not in a critical section)";
        String cr = "cr\rFORGED line";
        String crlf = "crlf\r\nFORGED other line";
        var started = new CountDownLatch(3);
        var release = new CountDownLatch(1);
        try {
            Throwable closeThrew;
            String dump;
            try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("names")
                    .withGrace(Duration.ofMillis(200)))) {
                for (String name : List.of(lf, cr, crlf)) {
                    scope.fork(name, () -> {
                        ShutdownSupport.ignoreInterruptsUntil(started, release);
                        return null;
                    });
                }
                await(started);
                dump = Scopes.dump();
                scope.cancel();
                thrownBy(scope::join);
                closeThrew = thrownBy(scope::close);
            }
            assertThat(RegressionSupport.lines(dump)).as("no line of dump() starts with forged text")
                    .noneMatch(l -> l.stripLeading().startsWith("FORGED"));
            assertThat(RegressionSupport.lines(dump)).as("each name stays on its task's line, escaped")
                    .anyMatch(l -> l.contains("lf") && l.contains("FORGED scope 'x'"))
                    .anyMatch(l -> l.contains("cr") && l.contains("FORGED line"))
                    .anyMatch(l -> l.contains("crlf") && l.contains("FORGED other line"));

            assertThat(closeThrew).isInstanceOf(GracePeriodExceededException.class);
            List<String> lines = RegressionSupport.lines(closeThrew.getMessage());
            assertThat(lines).as("a header and exactly one line per straggler: %s", lines).hasSize(1 + 3);
            assertThat(lines.subList(1, 4)).allMatch(l -> l.contains("FORGED"));
        } finally {
            release.countDown();
        }
    }

    @Test
    @Timeout(60)
    void outerCloseWithOpenNestedScope_nestedGraceUnbounded_boundedByOuterGrace() throws Exception {
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var innerRef = new AtomicReference<TaskScope<Object, Void, ?>>();
        CompletableFuture<Throwable> owner = async("test-owner", () -> {
            var outer = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("outer")
                    .withGrace(Duration.ofMillis(500)));
            var inner = TaskScope.<Object, Void, RuntimeException>open(Joiner.awaitAll(), cfg -> cfg.withName("inner"));  // no grace: unbounded
            innerRef.set(inner);
            inner.fork("stuck", () -> {
                ShutdownSupport.ignoreInterruptsUntil(started, release);
                return null;
            });
            await(started);
            return thrownBy(outer::close);                     // closes only the outer scope
        });
        try {
            assertThat(finishes(owner, WAIT)).as("outer.close() is bounded by the outer grace period").isTrue();
            Throwable thrown = owner.get();
            assertThat(thrown).isInstanceOfAny(StructureViolationException.class, GracePeriodExceededException.class);
            assertThat(RegressionSupport.tree(thrown))
                    .as("the straggler report is thrown or attached")
                    .anyMatch(t -> t instanceof GracePeriodExceededException g
                            && g.stragglers().stream().anyMatch(s -> s.task().equals("stuck")));
        } finally {
            release.countDown();
            var inner = innerRef.get();
            if (inner != null && !owner.isDone()) {
                inner.cancel();
            }
            finishes(owner, WAIT);
        }
    }

    @Test
    @Timeout(60)
    void subtaskReplacesUncaughtExceptionHandler_stillASubtaskForCancellation() throws Exception {
        Instant deadline = Instant.now().plus(1, ChronoUnit.HOURS);
        var ready = new CountDownLatch(1);
        var resourceClosed = new CountDownLatch(1);
        var seenDeadline = new AtomicReference<Optional<Instant>>();
        var onCancelFailure = new AtomicReference<Throwable>();
        var requestedAfterCancel = new AtomicBoolean();
        Throwable closeThrew;
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withDeadline(deadline)
                .withGrace(Duration.ofSeconds(10)))) {
            scope.fork("own-handler", () -> {
                Thread.currentThread().setUncaughtExceptionHandler((t, e) -> { });
                seenDeadline.set(Cancellation.deadline());
                try {
                    Cancellation.onCancel(resourceClosed::countDown);
                } catch (Throwable t) {
                    onCancelFailure.set(t);
                }
                ready.countDown();
                try {
                    return blockUntilInterrupted();
                } catch (InterruptedException e) {
                    requestedAfterCancel.set(Cancellation.isRequested());
                    throw e;
                }
            });
            await(ready);
            scope.cancel();
            thrownBy(scope::join);
            closeThrew = thrownBy(scope::close);
        }
        assertThat(closeThrew).isNull();
        assertThat(onCancelFailure.get()).as("Cancellation.onCancel after replacing the handler").isNull();
        assertThat(seenDeadline.get()).as("Cancellation.deadline() is the scope's").contains(deadline);
        assertThat(requestedAfterCancel).as("Cancellation.isRequested() after cancel").isTrue();
        assertThat(resourceClosed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).as("the onCancel resource was closed")
                .isTrue();
    }

    @Test
    @Timeout(60)
    void factorysHandler_threadThrowsAfterRunningTheSubtask_handlerGetsItAndSubtaskKeepsItsResult() throws Exception {
        // The factory's thread runs the subtask, then code of the factory's own throws: that
        // exception goes to the handler the factory installed, which Weft's handler delegates to.
        var delivered = new CompletableFuture<Throwable>();
        var deliveredOn = new AtomicReference<Thread>();
        Thread.UncaughtExceptionHandler factorysHandler = (t, e) -> {
            deliveredOn.set(t);
            delivered.complete(e);
        };
        var afterRun = new IllegalStateException("the factory's code after the Runnable");
        var made = new AtomicReference<Thread>();
        Subtask<String> subtask;
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), cfg -> cfg.withThreadFactory(r -> {
            Thread t = Thread.ofPlatform().name("factory-thread").uncaughtExceptionHandler(factorysHandler).unstarted(() -> {
                r.run();
                throw afterRun;
            });
            made.set(t);
            return t;
        }))) {
            subtask = scope.fork("with-handler", () -> "value");
            assertThat(scope.join()).containsExactly("value");
        }
        assertThat(delivered.get(WAIT.toMillis(), TimeUnit.MILLISECONDS)).as("the factory's handler got the exception")
                .isSameAs(afterRun);
        assertThat(deliveredOn.get()).isSameAs(made.get());
        assertThat(subtask.state()).isEqualTo(Subtask.State.SUCCESS);
        assertThat(subtask.get()).isEqualTo("value");
    }

    @Test
    @Timeout(60)
    void subtaskAsHandler_calledByForeignCode_delegatesAndChangesNothing() throws Exception {
        // The subtask is its thread's uncaught-exception handler, so code can call it as one.
        // A call that is not the JVM reporting the subtask's own thread's death changes nothing:
        // it goes to the handler the factory installed, as the JDK would have sent it.
        var delivered = new CompletableFuture<Throwable>();
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var bogus = new IllegalStateException("not an uncaught exception of the subtask's thread");
        Subtask<String> subtask;
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), cfg -> cfg.withThreadFactory(
                r -> Thread.ofVirtual().uncaughtExceptionHandler((t, e) -> delivered.complete(e)).unstarted(r)))) {
            subtask = scope.fork("handler", () -> {
                started.countDown();
                await(release);
                return "value";
            });
            await(started);
            Object view = subtask;
            Thread subtasksThread = ((Task) view).thread;
            ((Thread.UncaughtExceptionHandler) view).uncaughtException(subtasksThread, bogus);
            assertThat(subtask.state()).as("a foreign call does not fail the subtask").isEqualTo(Subtask.State.RUNNING);
            release.countDown();
            assertThat(scope.join()).containsExactly("value");
        }
        assertThat(delivered.get(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isSameAs(bogus);
        assertThat(subtask.state()).isEqualTo(Subtask.State.SUCCESS);
    }
}

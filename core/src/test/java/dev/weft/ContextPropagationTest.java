package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.FAILED;
import static dev.weft.TaskScope.Subtask.State.SUCCESS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.ContextPropagator.Restorer;
import dev.weft.ContextPropagator.Snapshot;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Context propagation: capture at fork, install and restore around the body, inheritance, failures. */
class ContextPropagationTest {

    static final ThreadLocal<String> REQUEST = new ThreadLocal<>();
    static final ThreadLocal<String> USER = new ThreadLocal<>();

    static final ContextPropagator CARRY_REQUEST = ContextPropagator.ofThreadLocals(REQUEST);
    static final ContextPropagator CARRY_USER = ContextPropagator.ofThreadLocals(USER);

    @AfterEach
    void clearOwner() {
        REQUEST.remove();
        USER.remove();
    }

    /** Forks {@code body} in a new scope with the inherited configuration, joins, returns its result. */
    static <V> V inNestedScope(Callable<V> body) throws Exception {
        try (var scope = TaskScope.open(Joiner.<V>allSuccessfulOrThrow())) {
            scope.fork(body);
            return scope.join().get(0);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Propagation and inheritance

    @Test
    @Timeout(10)
    void fork_threadLocalPropagator_subtaskSeesOwnersValue() throws Exception {
        REQUEST.set("r-1");
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withContext(CARRY_REQUEST))) {
            scope.fork(REQUEST::get);
            scope.fork("named", (Callable<String>) REQUEST::get);
            assertThat(scope.join()).containsExactly("r-1", "r-1");
        }
    }

    @Test
    @Timeout(10)
    void rootScope_withoutPropagator_carriesNothing() throws Exception {
        REQUEST.set("r-1");
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow())) {
            scope.fork(REQUEST::get);
            assertThat(scope.join()).containsOnlyNulls();
            assertThat(TestSupport.flockOf(scope).propagators).isNull();     // fork pays a null check only
        }
    }

    @Test
    @Timeout(10)
    void nestedScopes_threeDeep_inheritTheRootsPropagators() throws Exception {
        REQUEST.set("r-1");
        USER.set("alice");
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                c -> c.withContext(CARRY_REQUEST).withContext(CARRY_USER))) {
            scope.fork(() -> inNestedScope(() -> inNestedScope(() -> REQUEST.get() + "/" + USER.get())));
            assertThat(scope.join()).containsExactly("r-1/alice");
        }
    }

    @Test
    @Timeout(10)
    void scopeOpenedByOwnerInsideAnother_inheritsTheEnclosingScopesPropagators() throws Exception {
        REQUEST.set("r-1");
        try (var outer = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withContext(CARRY_REQUEST))) {
            try (var inner = TaskScope.open(Joiner.<String>allSuccessfulOrThrow())) {
                inner.fork(REQUEST::get);
                assertThat(inner.join()).containsExactly("r-1");
            }
            outer.fork(REQUEST::get);
            assertThat(outer.join()).containsExactly("r-1");
        }
    }

    @Test
    @Timeout(10)
    void subtaskThatForksDeeper_capturesWhatWasInstalledPlusItsOwnChanges() throws Exception {
        REQUEST.set("r-1");
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                c -> c.withContext(CARRY_REQUEST).withContext(CARRY_USER))) {
            scope.fork(() -> {
                USER.set("bob");                                  // its own change, on top of what it got
                return inNestedScope(() -> REQUEST.get() + "/" + USER.get());
            });
            assertThat(scope.join()).containsExactly("r-1/bob");
        }
        assertThat(USER.get()).isNull();                         // the owner never had one
    }

    @Test
    @Timeout(10)
    void withContext_inNestedScope_addsToTheInheritedOnes() throws Exception {
        REQUEST.set("r-1");
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withContext(CARRY_REQUEST))) {
            scope.fork(() -> {
                USER.set("carol");
                try (var nested = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withContext(CARRY_USER))) {
                    nested.fork(() -> inNestedScope(() -> REQUEST.get() + "/" + USER.get()));
                    return nested.join().get(0);
                }
            });
            assertThat(scope.join()).containsExactly("r-1/carol");
        }
    }

    @Test
    @Timeout(10)
    void withContextPropagators_inNestedScope_replacesTheInheritedOnes() throws Exception {
        REQUEST.set("r-1");
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withContext(CARRY_REQUEST))) {
            scope.fork(() -> {
                USER.set("dave");
                try (var nested = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                        c -> c.withContextPropagators(List.of(CARRY_USER)))) {
                    nested.fork(() -> inNestedScope(() -> REQUEST.get() + "/" + USER.get()));
                    return nested.join().get(0);
                }
            });
            assertThat(scope.join()).containsExactly("null/dave");
        }
    }

    @Test
    @Timeout(10)
    void withContextPropagators_emptyList_turnsPropagationOffHereAndBelow() throws Exception {
        REQUEST.set("r-1");
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withContext(CARRY_REQUEST))) {
            scope.fork(() -> {
                try (var off = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withContextPropagators(List.of()))) {
                    assertThat(TestSupport.flockOf(off).propagators).isNull();
                    off.fork(() -> REQUEST.get() + "," + inNestedScope(REQUEST::get));
                    return REQUEST.get() + ":" + off.join().get(0);
                }
            });
            assertThat(scope.join()).containsExactly("r-1:null,null");
        }
    }

    @Test
    @Timeout(10)
    void withContextAfterReplace_addsToTheNewList() throws Exception {
        REQUEST.set("r-1");
        USER.set("erin");
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                c -> c.withContext(CARRY_REQUEST).withContextPropagators(List.of()).withContext(CARRY_USER))) {
            scope.fork(() -> REQUEST.get() + "/" + USER.get());
            assertThat(scope.join()).containsExactly("null/erin");
        }
    }

    @Test
    @Timeout(10)
    void owner_contextUnchangedAfterJoin_whateverTheSubtasksDid() throws Exception {
        REQUEST.set("r-1");
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(), c -> c.withContext(CARRY_REQUEST))) {
            scope.fork(() -> {
                String seen = REQUEST.get();
                REQUEST.set("changed-in-subtask");
                return seen;
            });
            scope.fork(() -> {
                REQUEST.remove();
                return "removed";
            });
            assertThat(scope.join()).containsExactly("r-1", "removed");
        }
        assertThat(REQUEST.get()).isEqualTo("r-1");
    }

    @Test
    @Timeout(10)
    void installsInListOrder_restoresInReverse_onTheSubtasksThread() throws Exception {
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<Thread> subtaskThread = new AtomicReference<>();
        ContextPropagator a = recording("a", events);
        ContextPropagator b = recording("b", events);
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withContext(a).withContext(b))) {
            assertThat(events).isEmpty();                      // nothing is captured before a fork
            scope.fork(() -> {
                subtaskThread.set(Thread.currentThread());
                events.add("body");
            });
            scope.join();
        }
        assertThat(events).containsExactly("capture a", "capture b", "install a", "install b", "body", "restore b", "restore a");
        assertThat(subtaskThread.get().isVirtual()).isTrue();
    }

    private static ContextPropagator recording(String name, List<String> events) {
        Thread owner = Thread.currentThread();
        return () -> {
            assertThat(Thread.currentThread()).isSameAs(owner);
            events.add("capture " + name);
            return () -> {
                assertThat(Thread.currentThread()).isNotSameAs(owner);
                events.add("install " + name);
                return () -> events.add("restore " + name);
            };
        };
    }

    @Test
    @Timeout(10)
    void platformThreadFactory_subtasksGetTheContext_andTheirThreadsRestoreIt() throws Exception {
        REQUEST.set("r-1");
        ThreadFactory platform = Thread.ofPlatform().name("ctx-", 0).factory();
        AtomicReference<String> afterBody = new AtomicReference<>("unset");
        ContextPropagator observeRestore = () -> () -> () -> afterBody.set(REQUEST.get());   // runs after CARRY_REQUEST's restore
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                c -> c.withThreadFactory(platform).withContext(observeRestore).withContext(CARRY_REQUEST))) {
            for (int i = 0; i < 2; i++) {
                scope.fork(() -> Thread.currentThread().getName() + "=" + REQUEST.get()
                        + ", nested virtual=" + inNestedScope(() -> Thread.currentThread().isVirtual() + ":" + REQUEST.get()));
            }
            assertThat(scope.join()).containsExactly("ctx-0=r-1, nested virtual=true:r-1", "ctx-1=r-1, nested virtual=true:r-1");
        }
        assertThat(afterBody.get()).isNull();           // the platform thread had no value, and has none again
    }

    @Test
    @Timeout(10)
    void fork_afterCancellation_capturesNothing() throws Exception {
        AtomicInteger captures = new AtomicInteger();
        ContextPropagator counting = () -> {
            captures.incrementAndGet();
            return () -> () -> { };
        };
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withContext(counting))) {
            scope.cancel();
            Subtask<Object> s = scope.fork(() -> "never");
            assertThat(s.state()).isEqualTo(CANCELLED);
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(captures).hasValue(0);
    }

    // ---------------------------------------------------------------------------------------
    // Failures

    @Test
    @Timeout(10)
    void capture_throws_forkRejectedNamingThePropagator_noThreadStarted() throws Exception {
        AtomicInteger threads = new AtomicInteger();
        ThreadFactory counting = r -> {
            threads.incrementAndGet();
            return Thread.ofVirtual().unstarted(r);
        };
        AtomicBoolean firstInstalled = new AtomicBoolean();
        ContextPropagator first = () -> () -> {
            firstInstalled.set(true);
            return () -> { };
        };
        IllegalStateException boom = new IllegalStateException("no tenant bound");
        AtomicBoolean failOnce = new AtomicBoolean(true);
        ContextPropagator failing = new ContextPropagator() {
            @Override public Snapshot capture() {
                if (failOnce.getAndSet(false)) {
                    throw boom;
                }
                return () -> () -> { };
            }
            @Override public String toString() {
                return "TenantPropagator";
            }
        };
        try (var scope = TaskScope.open(Joiner.awaitAll(),
                c -> c.withName("tenants").withThreadFactory(counting).withContext(first).withContext(failing))) {
            assertThatThrownBy(() -> scope.fork(() -> "never"))
                    .isInstanceOf(RejectedExecutionException.class)
                    .hasCause(boom)
                    .hasMessageContaining("context propagator #2 (TenantPropagator)")
                    .hasMessageContaining("scope 'tenants'")
                    .hasMessageContaining("no thread was started")
                    .hasMessageContaining("Fix the propagator, or remove it");
            Subtask<Object> ok = scope.fork(() -> "after");     // the scope is still usable
            scope.join();
            assertThat(ok.state()).isEqualTo(SUCCESS);
        }
        assertThat(threads).hasValue(1);                        // only the second fork made a thread
        assertThat(firstInstalled).isTrue();                    // by the second fork; the first's snapshot was dropped
    }

    @Test
    @Timeout(10)
    void capture_returnsNull_forkRejectedWithWhatToDo() throws Exception {
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withContext(() -> null))) {
            assertThatThrownBy(() -> scope.fork(() -> "never"))
                    .isInstanceOf(RejectedExecutionException.class)
                    .hasMessageContaining("context propagator #1")
                    .hasMessageContaining("returned a null snapshot")
                    .hasMessageContaining("capture() must return a Snapshot");
            scope.join();
        }
    }

    @Test
    @Timeout(10)
    void install_throws_bodyNotRun_earlierInstallsRestored_subtaskFailsNamingThePropagator() throws Exception {
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        IllegalArgumentException boom = new IllegalArgumentException("bad span");
        ContextPropagator failingInstall = new ContextPropagator() {
            @Override public Snapshot capture() {
                return () -> {
                    throw boom;
                };
            }
            @Override public String toString() {
                return "SpanPropagator";
            }
        };
        Subtask<Object> s;
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withContext(recording("a", events))
                .withContext(failingInstall).withContext(recording("c", events)))) {
            s = scope.fork(() -> events.add("body"));
            scope.join();
        }
        assertThat(events).containsExactly("capture a", "capture c", "install a", "restore a");
        assertThat(s.state()).isEqualTo(FAILED);
        assertThat(s.exception()).isInstanceOf(IllegalStateException.class)
                .hasCause(boom)
                .hasMessageContaining("context propagator #2 (SpanPropagator) failed to install its context")
                .hasMessageContaining("which did not run");
    }

    @Test
    @Timeout(10)
    void install_returnsNull_subtaskFails() throws Exception {
        Subtask<Object> s;
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withContext(() -> () -> null))) {
            s = scope.fork(() -> "never");
            scope.join();
        }
        assertThat(s.state()).isEqualTo(FAILED);
        assertThat(s.exception()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("failed to install")
                .cause().isInstanceOf(NullPointerException.class).hasMessageContaining("install() returned null");
    }

    @Test
    @Timeout(10)
    void restore_throws_afterSuccess_subtaskFails_otherRestoresStillRun() throws Exception {
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        IllegalStateException boom = new IllegalStateException("MDC adapter gone");
        ContextPropagator failingRestore = () -> () -> () -> {
            throw boom;
        };
        Subtask<Object> s;
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withContext(recording("a", events))
                .withContext(failingRestore).withContext(recording("c", events)))) {
            s = scope.fork(() -> "value");
            scope.join();
        }
        assertThat(events).containsExactly("capture a", "capture c", "install a", "install c", "restore c", "restore a");
        assertThat(s.state()).isEqualTo(FAILED);
        assertThat(s.exception()).isInstanceOf(IllegalStateException.class)
                .hasCause(boom)
                .hasMessageContaining("context propagator #2")
                .hasMessageContaining("failed to restore the previous context of thread");
    }

    @Test
    @Timeout(10)
    void restore_throws_afterBodyFailed_addedAsSuppressedToTheBodysException() throws Exception {
        IllegalStateException restoreBoom = new IllegalStateException("restore 1");
        IllegalStateException restoreBoom2 = new IllegalStateException("restore 2");
        ContextPropagator r1 = () -> () -> () -> {
            throw restoreBoom;
        };
        ContextPropagator r2 = () -> () -> () -> {
            throw restoreBoom2;
        };
        RuntimeException bodyFailure = new RuntimeException("body failed");
        Subtask<Object> s;
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withContext(r1).withContext(r2))) {
            s = scope.fork(() -> {
                throw bodyFailure;
            });
            scope.join();
        }
        assertThat(s.state()).isEqualTo(FAILED);
        assertThat(s.exception()).isSameAs(bodyFailure);
        assertThat(bodyFailure.getSuppressed()).extracting(Throwable::getCause).containsExactly(restoreBoom2, restoreBoom);
        assertThat(bodyFailure.getSuppressed()[0]).hasMessageContaining("context propagator #2 (");
    }

    @Test
    @Timeout(10)
    void restore_throwsAfterSuccess_failFastJoinThrowsIt() throws Exception {
        ContextPropagator failingRestore = () -> () -> () -> {
            throw new IllegalStateException("restore");
        };
        try (var scope = TaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), c -> c.withContext(failingRestore))) {
            scope.fork(() -> "value");
            assertThatThrownBy(scope::join).isInstanceOf(java.util.concurrent.ExecutionException.class)
                    .cause().hasMessageContaining("failed to restore");
        }
    }

    // ---------------------------------------------------------------------------------------
    // The wrapping shape (Snapshot.call), as a ScopedValue propagator uses it

    /** A snapshot that can only bind around a call, like ScopedValue.where(k, v).call(body). */
    static ContextPropagator wrapping(List<String> events) {
        return () -> {
            String captured = REQUEST.get();
            return new Snapshot() {
                @Override public Restorer install() {
                    throw new UnsupportedOperationException("binds around the body only");
                }
                @Override public <V> V call(Callable<V> body) throws Exception {
                    String previous = REQUEST.get();
                    REQUEST.set("wrapped:" + captured);
                    events.add("enter");
                    try {
                        return body.call();
                    } finally {
                        events.add("exit");
                        REQUEST.set(previous);
                    }
                }
            };
        };
    }

    @Test
    @Timeout(10)
    void wrappingSnapshot_runsTheBodyInsideItsCall_nestedWithInstallRestoreOnes() throws Exception {
        REQUEST.set("r-1");
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                c -> c.withContext(recording("a", events)).withContext(wrapping(events)).withContext(recording("c", events)))) {
            scope.fork(() -> {
                events.add("body");
                return REQUEST.get();
            });
            assertThat(scope.join()).containsExactly("wrapped:r-1");
        }
        assertThat(events).containsExactly("capture a", "capture c", "install a", "enter", "install c", "body",
                "restore c", "exit", "restore a");
    }

    @Test
    @Timeout(10)
    void wrappingSnapshot_thatNeverCallsTheBody_failsTheSubtask() throws Exception {
        AtomicBoolean ran = new AtomicBoolean();
        ContextPropagator skipping = () -> new Snapshot() {
            @Override public Restorer install() {
                throw new UnsupportedOperationException();
            }
            @Override public <V> V call(Callable<V> body) {
                return null;
            }
        };
        Subtask<Object> s;
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withContext(skipping))) {
            s = scope.fork(() -> ran.set(true));
            scope.join();
        }
        assertThat(ran).isFalse();
        assertThat(s.state()).isEqualTo(FAILED);
        assertThat(s.exception()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("returned from call(body) without calling the body");
    }

    @Test
    @Timeout(10)
    void wrappingSnapshot_thatCallsTheBodyTwice_runsItOnce_andFailsTheSubtask() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        ContextPropagator twice = () -> new Snapshot() {
            @Override public Restorer install() {
                throw new UnsupportedOperationException();
            }
            @Override public <V> V call(Callable<V> body) throws Exception {
                body.call();
                return body.call();
            }
        };
        Subtask<Object> s;
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> c.withContext(twice))) {
            s = scope.fork(runs::incrementAndGet);
            scope.join();
        }
        assertThat(runs).hasValue(1);
        assertThat(s.state()).isEqualTo(FAILED);
        assertThat(s.exception()).hasMessageContaining("failed to restore")
                .cause().hasMessageContaining("called the subtask's body twice");
    }

    // ---------------------------------------------------------------------------------------
    // ofThreadLocals on a long-lived thread (a pool thread runs one task after another)

    @Test
    @Timeout(10)
    void ofThreadLocals_onAReusedThread_restoresPreviousValues_andDoesNotLeakIntoTheNextTask() throws Exception {
        ContextPropagator p = ContextPropagator.ofThreadLocals(REQUEST, USER);
        REQUEST.set("task-1");
        USER.set("alice");
        Snapshot first = p.capture();
        REQUEST.set("task-2");
        USER.remove();
        Snapshot second = p.capture();
        REQUEST.remove();

        List<String> seen = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread pooled = Thread.ofPlatform().start(() -> {
            try {
                REQUEST.set("pool-own");
                Restorer r1 = first.install();
                seen.add(REQUEST.get() + "/" + USER.get());
                r1.restore();
                seen.add(REQUEST.get() + "/" + USER.get());
                Restorer r2 = second.install();
                seen.add(REQUEST.get() + "/" + USER.get());     // not alice: task 1's user does not leak
                r2.restore();
                seen.add(REQUEST.get() + "/" + USER.get());
            } catch (Throwable t) {
                failure.set(t);
            } finally {
                done.countDown();
            }
        });
        TestSupport.await(done);
        pooled.join();
        assertThat(failure.get()).isNull();
        assertThat(seen).containsExactly("task-1/alice", "pool-own/null", "task-2/null", "pool-own/null");
    }

    @Test
    @Timeout(10)
    void ofThreadLocals_threadThatHadNoValue_hasTheEntryRemovedAfterRestore() throws Exception {
        AtomicInteger initialValueCalls = new AtomicInteger();
        ThreadLocal<String> counted = new ThreadLocal<>() {
            @Override protected String initialValue() {
                initialValueCalls.incrementAndGet();
                return null;
            }
        };
        counted.set("v");
        Snapshot snapshot = ContextPropagator.ofThreadLocals(counted).capture();
        List<String> seen = new ArrayList<>();
        Thread t = Thread.ofPlatform().start(() -> {
            Restorer r = snapshot.install();     // reads the (absent) previous value: initialValue #1
            seen.add(counted.get());
            r.restore();                         // removes the entry ...
            seen.add(String.valueOf(counted.get()));   // ... so this is initialValue #2
        });
        t.join();
        assertThat(seen).containsExactly("v", "null");
        assertThat(initialValueCalls).hasValue(2);
    }

    @Test
    @Timeout(10)
    void ofThreadLocals_badArguments_throwWithWhatToDo() {
        assertThatThrownBy(() -> ContextPropagator.ofThreadLocals((ThreadLocal<?>[]) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> ContextPropagator.ofThreadLocals(REQUEST, null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("locals[1]");
        assertThatThrownBy(ContextPropagator::ofThreadLocals)
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one ThreadLocal");
        assertThat(ContextPropagator.ofThreadLocals(REQUEST).toString()).startsWith("ContextPropagator.ofThreadLocals(");
    }

    @Test
    @Timeout(10)
    void configuration_nullPropagators_rejected() {
        assertThatThrownBy(() -> TaskScope.open(Joiner.awaitAll(), c -> c.withContext(null)))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("propagator");
        assertThatThrownBy(() -> TaskScope.open(Joiner.awaitAll(), c -> c.withContextPropagators(null)))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("propagators");
        assertThatThrownBy(() -> TaskScope.open(Joiner.awaitAll(),
                c -> c.withContextPropagators(Arrays.asList(CARRY_REQUEST, null))))
                .isInstanceOf(NullPointerException.class);
    }
}

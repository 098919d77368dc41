package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.FAILED;
import static dev.weft.TaskScope.Subtask.State.SUCCESS;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static dev.weft.TestSupport.onNewThread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Each misuse gets a clear exception, never a hang or silence. */
class MisuseTest {

    // ---- wrong thread

    @Test
    @Timeout(10)
    void fork_fromNonOwnerThread_throwsWrongThreadException() throws Exception {
        try (var scope = TaskScope.open()) {
            assertThatThrownBy(() -> onNewThread(() -> scope.fork(() -> "x")))
                    .isInstanceOf(WrongThreadException.class);
            Subtask<Object> s = scope.fork(() -> "owner may");
            scope.join();
            assertThat(s.get()).isEqualTo("owner may");
        }
    }

    @Test
    @Timeout(10)
    void fork_fromInsideSubtaskOfSameScope_throwsWrongThreadException() throws Exception {
        var scopeRef = new AtomicReference<TaskScope<Object, Void, ?>>();
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            scopeRef.set(scope);
            Subtask<Object> s = scope.fork(() -> scopeRef.get().fork(() -> "grandchild"));
            scope.join();
            assertThat(s.state()).isEqualTo(FAILED);
            assertThat(s.exception()).isInstanceOf(WrongThreadException.class);
        }
    }

    @Test
    @Timeout(10)
    void join_fromNonOwnerThread_throwsWrongThreadExceptionAndOwnerCanStillJoin() throws Exception {
        try (var scope = TaskScope.<String>open()) {
            Subtask<String> s = scope.fork(() -> "x");
            assertThatThrownBy(() -> onNewThread(scope::join)).isInstanceOf(WrongThreadException.class);
            scope.join();
            assertThat(s.get()).isEqualTo("x");
        }
    }

    @Test
    @Timeout(10)
    void join_fromInsideSubtaskOfSameScope_throwsWrongThreadException() throws Exception {
        var scopeRef = new AtomicReference<TaskScope<Object, Void, RuntimeException>>();
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            scopeRef.set(scope);
            Subtask<Object> s = scope.fork(() -> scopeRef.get().join());
            scope.join();
            assertThat(s.exception()).isInstanceOf(WrongThreadException.class);
        }
    }

    @Test
    @Timeout(10)
    void close_fromNonOwnerThread_throwsWrongThreadExceptionAndScopeStaysOpen() throws Exception {
        var scope = TaskScope.<String>open();
        assertThatThrownBy(() -> onNewThread(() -> {
            scope.close();
            return null;
        })).isInstanceOf(WrongThreadException.class);
        Subtask<String> s = scope.fork(() -> "still open");
        scope.join();
        assertThat(s.get()).isEqualTo("still open");
        scope.close();
    }

    @Test
    @Timeout(10)
    void close_fromInsideSubtaskOfSameScope_throwsWrongThreadException() throws Exception {
        var scopeRef = new AtomicReference<TaskScope<Object, Void, ?>>();
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            scopeRef.set(scope);
            Subtask<Object> s = scope.fork(() -> {
                scopeRef.get().close();
                return "closed it";
            });
            scope.join();
            assertThat(s.exception()).isInstanceOf(WrongThreadException.class);
        }
    }

    // ---- lifecycle

    @Test
    @Timeout(10)
    void fork_afterJoin_throwsIllegalStateExceptionSayingClosed() throws Exception {
        try (var scope = TaskScope.open()) {
            scope.fork(() -> "x");
            scope.join();
            assertThatThrownBy(() -> scope.fork(() -> "y")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
            assertThatThrownBy(() -> scope.fork((Runnable) () -> { })).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
        }
    }

    @Test
    @Timeout(10)
    void fork_afterJoinThrew_throwsIllegalStateExceptionSayingClosed() throws Exception {
        try (var scope = TaskScope.open()) {
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            assertThatThrownBy(() -> scope.fork(() -> "y")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
        }
    }

    @Test
    @Timeout(10)
    void fork_afterClose_throwsIllegalStateExceptionSayingClosed() throws Exception {
        var scope = TaskScope.open();
        scope.close();
        assertThatThrownBy(() -> scope.fork(() -> "y")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> scope.fork("named", () -> "y")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    @Timeout(10)
    void join_twice_secondThrowsIllegalStateException() throws Exception {
        try (var scope = TaskScope.open()) {
            scope.fork(() -> "x");
            scope.join();
            assertThatThrownBy(scope::join).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    @Timeout(10)
    void join_afterClose_throwsIllegalStateException() throws Exception {
        var scope = TaskScope.open();
        scope.close();
        assertThatThrownBy(scope::join).isInstanceOf(IllegalStateException.class);
    }

    @Test
    @Timeout(10)
    void close_twice_secondIsNoOp() throws Exception {
        var scope = TaskScope.open();
        scope.fork(() -> "x");
        scope.join();
        scope.close();
        assertThatCode(scope::close).doesNotThrowAnyException();
    }

    @Test
    @Timeout(10)
    void close_afterForkWithoutJoinOrCancel_cleansUpThenThrowsIllegalStateException() throws Exception {
        var scope = TaskScope.open();
        Subtask<Object> s = scope.fork(() -> blockUntilInterrupted());
        awaitBlocked(s);
        assertThatThrownBy(scope::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("join");
        assertThat(s.state()).as("close cancelled and waited for the subtask").isEqualTo(CANCELLED);
        assertThatCode(scope::close).as("a second close is a no-op").doesNotThrowAnyException();
        assertThatThrownBy(() -> scope.fork(() -> "y")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    @Timeout(10)
    void close_afterForkWithoutJoinButCancelled_doesNotThrow() throws Exception {
        var scope = TaskScope.open();
        Subtask<Object> s = scope.fork(() -> blockUntilInterrupted());
        scope.cancel();
        assertThatCode(scope::close).doesNotThrowAnyException();
        assertThat(s.state()).isEqualTo(CANCELLED);
    }

    @Test
    @Timeout(10)
    void close_afterForkOfSucceededSubtaskWithoutJoin_stillThrowsIllegalStateException() throws Exception {
        var scope = TaskScope.open();
        Subtask<Object> s = scope.fork(() -> "done");
        TestSupport.awaitTerminated(s);
        assertThatThrownBy(scope::close).isInstanceOf(IllegalStateException.class);
        assertThat(s.state()).isEqualTo(SUCCESS);
    }

    @Test
    @Timeout(10)
    void close_withoutFork_doesNotRequireJoin() {
        var scope = TaskScope.open();
        assertThatCode(scope::close).doesNotThrowAnyException();
    }

    // ---- null arguments

    @Test
    void open_nullArguments_throwNullPointerExceptionNamingTheParameter() {
        assertNpeNaming(() -> TaskScope.open(null), "joiner");
        assertNpeNaming(() -> TaskScope.open(null, c -> c), "joiner");
        assertNpeNaming(() -> TaskScope.open(Joiner.awaitAll(), null), "configFunction");
        assertNpeNaming(() -> TaskScope.open(Joiner.awaitAll(), c -> null), "configFunction");
        assertNpeNaming(() -> Joiner.allUntil(null), "isDone");
    }

    @Test
    @Timeout(10)
    void fork_nullArguments_throwNullPointerExceptionNamingTheParameter() throws Exception {
        try (var scope = TaskScope.open()) {
            assertNpeNaming(() -> scope.fork((Callable<Object>) null), "task");
            assertNpeNaming(() -> scope.fork((Runnable) null), "task");
            assertNpeNaming(() -> scope.fork(null, () -> "x"), "name");
            assertNpeNaming(() -> scope.fork(null, (Runnable) () -> { }), "name");
            assertNpeNaming(() -> scope.fork("n", (Callable<Object>) null), "task");
            assertNpeNaming(() -> scope.fork("n", (Runnable) null), "task");
        }   // a fork rejected for a null argument forked nothing, so close does not require join
    }

    @Test
    void configuration_nullArguments_throwNullPointerExceptionNamingTheParameter() {
        var seen = new AtomicReference<Throwable>();
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> {
            seen.set(catchThrowable(() -> c.withName(null)));
            assertNpeNaming(() -> c.withName(null), "name");
            assertNpeNaming(() -> c.withThreadFactory(null), "threadFactory");
            assertNpeNaming(() -> c.withTimeout(null), "timeout");
            assertNpeNaming(() -> c.withDeadline(null), "deadline");
            assertNpeNaming(() -> c.withGrace(null), "grace");
            return c;
        })) {
            assertThat(seen.get()).as("the configFunction ran").isInstanceOf(NullPointerException.class);
            assertThat(scope.isCancelled()).isFalse();
        }
    }

    @Test
    void configuration_negativeGrace_throwsIllegalArgumentException() {
        try (var scope = TaskScope.open(Joiner.awaitAll(), c -> {
            assertThatThrownBy(() -> c.withGrace(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
            return c.withGrace(Duration.ZERO);
        })) {
            assertThat(scope.isCancelled()).isFalse();
        }
    }

    @Test
    void cancellation_nullArguments_throwNullPointerExceptionNamingTheParameter() {
        assertNpeNaming(() -> Cancellation.onCancel(null), "resource");
        assertNpeNaming(() -> Cancellation.critical((Callable<Object>) null), "body");
    }

    @Test
    @Timeout(10)
    void cancel_nullReason_isAllowed() throws Exception {
        try (var scope = TaskScope.open()) {
            assertThatCode(() -> scope.cancel(null)).doesNotThrowAnyException();
            assertThat(scope.isCancelled()).isTrue();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
    }

    private static void assertNpeNaming(ThrowingCallable call, String parameter) {
        assertThatThrownBy(call).isInstanceOf(NullPointerException.class).hasMessageContaining(parameter);
    }
}

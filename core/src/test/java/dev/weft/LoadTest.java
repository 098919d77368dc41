package dev.weft;

import static dev.weft.TaskScope.Subtask.State.CANCELLED;
import static dev.weft.TaskScope.Subtask.State.FAILED;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.blockUntilInterrupted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Many children: forked, cancelled and closed in bulk, blocked in sleep, park and socket reads. */
class LoadTest {

    private static final int BLOCKED_CHILDREN = 1_000;

    @Test
    @Timeout(60)
    void cancelAndClose_hundredThousandBlockedChildren_allCancelled() throws Exception {
        int n = 100_000;
        var started = new CountDownLatch(n);
        List<Subtask<Object>> subtasks = new ArrayList<>(n);
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            for (int i = 0; i < n; i++) {
                subtasks.add(scope.fork(() -> {
                    started.countDown();
                    return blockUntilInterrupted();
                }));
            }
            assertThat(started.await(40, TimeUnit.SECONDS)).as("all children started").isTrue();
            scope.cancel();
        }
        assertThat(countStates(subtasks)).isEqualTo(Map.of(CANCELLED, n));
    }

    @Test
    @Timeout(60)
    void failFast_thousandChildrenSleeping_allCancelledAndCloseReturns() throws Exception {
        failFastWithBlockedChildren(i -> () -> {
            Thread.sleep(TimeUnit.HOURS.toMillis(1));
            return "woke up";
        });
    }

    @Test
    @Timeout(60)
    void failFast_thousandChildrenParked_allCancelledAndCloseReturns() throws Exception {
        failFastWithBlockedChildren(i -> () -> {
            for (;;) {
                LockSupport.park();
                if (Thread.interrupted()) {
                    throw new InterruptedException("unparked by interrupt");
                }
            }
        });
    }

    @Test
    @Timeout(60)
    void failFast_thousandChildrenInSocketRead_allCancelledAndCloseReturns() throws Exception {
        try (var sockets = new LoopbackSockets(BLOCKED_CHILDREN)) {
            failFastWithBlockedChildren(i -> () -> sockets.client(i).getInputStream().read());
        }
    }

    @Test
    @Timeout(60)
    void failFast_thousandChildrenInSocketReadRegisteredOnCancel_allCancelledAndCloseReturns() throws Exception {
        try (var sockets = new LoopbackSockets(BLOCKED_CHILDREN)) {
            failFastWithBlockedChildren(i -> () -> {
                Socket s = sockets.client(i);
                Cancellation.Registration reg = Cancellation.onCancel(s);
                try {
                    return s.getInputStream().read();
                } finally {
                    reg.close();
                }
            });
        }
    }

    /**
     * Forks {@link #BLOCKED_CHILDREN} children made by {@code child}, waits until every one is
     * blocked, then forks a child that fails: join must throw that failure, every blocked child must
     * end CANCELLED (and so not be attached to the exception), and close must return.
     */
    private static void failFastWithBlockedChildren(IntFunction<Callable<Object>> child) throws Exception {
        var trigger = new IllegalStateException("trigger");
        List<Subtask<Object>> children = new ArrayList<>(BLOCKED_CHILDREN);
        Throwable thrown;
        try (var scope = TaskScope.open()) {
            for (int i = 0; i < BLOCKED_CHILDREN; i++) {
                children.add(scope.fork(child.apply(i)));
            }
            for (Subtask<Object> c : children) {
                awaitBlocked(c);
            }
            scope.fork(() -> {
                throw trigger;
            });
            thrown = catchThrowable(scope::join);
        }
        assertThat(thrown).isInstanceOf(ExecutionException.class).cause().isSameAs(trigger);
        assertThat(countStates(children)).isEqualTo(Map.of(CANCELLED, BLOCKED_CHILDREN));
        assertThat(thrown.getSuppressed()).as("cancelled children are not failures").isEmpty();
    }

    private static Map<Subtask.State, Integer> countStates(List<? extends Subtask<?>> subtasks) {
        Map<Subtask.State, Integer> counts = new EnumMap<>(Subtask.State.class);
        for (Subtask<?> s : subtasks) {
            counts.merge(s.state(), 1, Integer::sum);
        }
        if (counts.containsKey(FAILED)) {
            for (Subtask<?> s : subtasks) {
                if (s.state() == FAILED) {
                    throw new AssertionError("states " + counts + "; e.g. " + s + " failed with " + s.exception(),
                            s.exception());
                }
            }
        }
        return counts;
    }

    /** Connected loopback socket pairs; the server side never writes, so client reads block. */
    private static final class LoopbackSockets implements AutoCloseable {
        private final ServerSocket server;
        private final List<Socket> clients = new ArrayList<>();
        private final List<Socket> accepted = new ArrayList<>();

        LoopbackSockets(int pairs) throws IOException {
            InetAddress loopback = InetAddress.getLoopbackAddress();
            server = new ServerSocket(0, pairs, loopback);
            try {
                for (int i = 0; i < pairs; i++) {
                    clients.add(new Socket(loopback, server.getLocalPort()));
                    accepted.add(server.accept());
                }
            } catch (IOException e) {
                close();
                throw e;
            }
        }

        Socket client(int i) {
            return clients.get(i);
        }

        @Override
        public void close() {
            for (Socket s : clients) {
                closeQuietly(s);
            }
            for (Socket s : accepted) {
                closeQuietly(s);
            }
            closeQuietly(server);
        }

        private static void closeQuietly(AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort in test clean-up
            }
        }
    }
}

package dev.weft;

import static dev.weft.ShutdownSupport.awaitFrame;
import static dev.weft.ShutdownSupport.cancelAtGate;
import static dev.weft.ShutdownSupport.frame;
import static dev.weft.TestSupport.awaitBlocked;
import static dev.weft.TestSupport.threadOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.ShutdownSupport.Gate;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link Cancellation#onCancel(AutoCloseable)}: cancellation closes registered resources, which
 * unblocks calls that ignore interrupts (a socket read on a platform thread, a read from a child
 * process's pipe); a late registration is closed at once; unregistering works; a failing close
 * never reaches the canceller; and closing is deferred inside a critical section.
 */
class OnCancelTest {

    /** Keeps the intentional warnings (the failed onCancel close after a success) off the build log. */
    @RegisterExtension
    static final LogCapture LOG = new LogCapture();

    private static final Duration WAIT = Duration.ofSeconds(30);

    /** A platform thread blocked reading a socket: in the JDK's native read, or its poll. */
    private static final Predicate<StackTraceElement> IN_SOCKET_READ = frame("sun.nio.ch.SocketDispatcher", "read0")
            .or(frame("sun.nio.ch.NioSocketImpl", "park")).or(frame("sun.nio.ch.Net", "poll"));

    /** A thread blocked reading a pipe. */
    private static final Predicate<StackTraceElement> IN_PIPE_READ = frame("java.io.FileInputStream", "readBytes");

    /** A resource that counts its closes, remembers the closing thread, and may fail. */
    private static final class Resource implements AutoCloseable {
        final AtomicInteger closes = new AtomicInteger();
        volatile Thread closedBy;
        private final Exception failure;

        Resource(Exception failure) {
            this.failure = failure;
        }

        Resource() {
            this(null);
        }

        @Override
        public void close() throws Exception {
            closedBy = Thread.currentThread();
            closes.incrementAndGet();
            if (failure != null) {
                throw failure;
            }
        }
    }

    @Test
    @Timeout(60)
    void onCancel_platformThreadBlockedInSocketRead_interruptAloneDoesNotUnblockButCancellationDoes() throws Exception {
        var trail = new EventTrail();
        var registered = new CountDownLatch(1);
        var firstRead = new CountDownLatch(1);
        var registration = new AtomicReference<Cancellation.Registration>();
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (var server = new ServerSocket(0, 1, loopback)) {
            Subtask<Object> reader;
            try (var scope = TaskScope.open(Joiner.awaitAll(),
                    cfg -> cfg.withThreadFactory(Thread.ofPlatform().name("socket-reader").factory()))) {
                reader = scope.fork(() -> {
                    try (var socket = new Socket(loopback, server.getLocalPort())) {
                        registration.set(Cancellation.onCancel(socket));
                        registered.countDown();
                        InputStream in = socket.getInputStream();
                        int b = in.read();
                        trail.add("first read returned " + b + ", interrupt status " + Thread.currentThread().isInterrupted());
                        firstRead.countDown();
                        return in.read();                   // blocks until the cancellation closes the socket
                    }
                });
                try (Socket peer = server.accept(); OutputStream out = peer.getOutputStream()) {
                    registered.await();
                    Thread thread = threadOf(reader);
                    assertThat(thread.isVirtual()).isFalse();
                    awaitFrame(thread, IN_SOCKET_READ, WAIT);

                    thread.interrupt();                         // interrupt alone...
                    trail.add("interrupted");
                    out.write(42);                              // ...leaves the read blocked: it gets this byte
                    out.flush();
                    firstRead.await();

                    awaitFrame(thread, IN_SOCKET_READ, WAIT);   // blocked again, interrupt status still set
                    trail.add("cancelling");
                    scope.cancel();
                    assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
                }
            }
            trail.assertContainsInOrder("interrupted", "first read returned 42, interrupt status true", "cancelling");
            assertThat(reader.state()).isEqualTo(Subtask.State.CANCELLED);
            assertThat(reader.exception()).isInstanceOf(SocketException.class);
            assertThat(registration.get().isClosedByCancellation()).isTrue();
        }
    }

    @Test
    @Timeout(60)
    void onCancel_taskBlockedReadingChildProcessStdout_unblockedByDestroyingTheProcess() throws Exception {
        var trail = new EventTrail();
        var registered = new CountDownLatch(1);
        Process process = new ProcessBuilder("sleep", "60").redirectErrorStream(true).start();
        try {
            Subtask<Object> reader;
            try (var scope = TaskScope.open(Joiner.awaitAll())) {
                reader = scope.fork("pipe-reader", () -> {
                    try (var reg = Cancellation.onCancel(process::destroyForcibly)) {
                        registered.countDown();
                        int b = process.getInputStream().read();    // sleep writes nothing: blocks
                        trail.add("read returned " + b);
                        Cancellation.check();
                        return b;
                    }
                });
                registered.await();
                awaitFrame(threadOf(reader), IN_PIPE_READ, WAIT);
                trail.add("cancelling");
                scope.cancel();
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            }
            trail.assertContainsInOrder("cancelling", "read returned -1");
            assertThat(reader.state()).isEqualTo(Subtask.State.CANCELLED);
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the child process was destroyed").isTrue();
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    @Timeout(30)
    void onCancel_taskAlreadyCancelled_closesResourceBeforeReturning() throws Exception {
        var trail = new EventTrail();
        var resource = new Resource();
        cancelAtGate(trail, gate -> {
            try {
                gate.arriveAndAwait();
            } catch (InterruptedException e) {
                trail.add("cancelled");
            }
            var reg = Cancellation.onCancel(resource);
            trail.add("onCancel returned: closes=" + resource.closes.get()
                    + ", by this thread=" + (resource.closedBy == Thread.currentThread())
                    + ", isClosedByCancellation=" + reg.isClosedByCancellation());
            return null;
        });
        trail.assertContainsInOrder("cancelling", "cancelled",
                "onCancel returned: closes=1, by this thread=true, isClosedByCancellation=true");
        assertThat(resource.closes).hasValue(1);
    }

    @Test
    @Timeout(30)
    void registrationClose_beforeCancellation_resourceNotClosed() throws Exception {
        var unregistered = new Resource();
        var kept = new Resource();
        var registration = new AtomicReference<Cancellation.Registration>();
        Subtask<Object> task = cancelAtGate(new EventTrail(), gate -> {
            var reg = Cancellation.onCancel(unregistered);
            Cancellation.onCancel(kept);
            reg.close();
            reg.close();                               // idempotent
            registration.set(reg);
            gate.arriveAndAwait();
            return null;
        });
        assertThat(task.state()).isEqualTo(Subtask.State.CANCELLED);
        assertThat(unregistered.closes).as("unregistered: never closed").hasValue(0);
        assertThat(registration.get().isClosedByCancellation()).isFalse();
        assertThat(kept.closes).as("still registered: closed once").hasValue(1);
        assertThat(kept.closedBy.getName()).as("closed by a Weft closer thread, not the canceller").startsWith("weft-oncancel-");
    }

    @Test
    @Timeout(30)
    void registrationClose_whileCancellationIsClosingTheResource_waitsForThatClose() throws Exception {
        var trail = new EventTrail();
        var gate = new Gate();
        var closing = new CountDownLatch(1);
        var finishClose = new CountDownLatch(1);
        AutoCloseable slow = () -> {
            closing.countDown();
            finishClose.await();
            trail.add("resource closed");
        };
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> task = scope.fork(() -> {
                var reg = Cancellation.onCancel(slow);
                try {
                    gate.arriveAndAwait();
                } catch (InterruptedException e) {
                    // the cancellation interrupts first, then hands the close to a closer thread
                }
                closing.await();                               // the close has begun on the closer thread
                reg.close();
                trail.add("registration closed");
                return null;
            });
            gate.arrived.await();
            Thread canceller = Thread.ofPlatform().name("canceller").start(scope::cancel);
            closing.await();                                  // a closer thread is inside resource.close()
            gate.proceed.countDown();
            awaitFrame(threadOf(task), frame("dev.weft.CancelRegistration", "close"), WAIT);
            trail.add("releasing the close");
            finishClose.countDown();
            TestSupport.awaitTerminated(canceller, WAIT);
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        trail.assertContainsInOrder("releasing the close", "resource closed", "registration closed");
    }

    @Test
    @Timeout(30)
    void onCancel_resourceCloseThrowsAndJoinReturns_failureLoggedOnceNotThrownToCanceller() throws Exception {
        var gate = new Gate();
        var boom = new IOException("close failed");
        var resource = new Resource(boom);
        try (var incidents = new ShutdownSupport.Incidents(); var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> task = scope.fork(() -> {
                Cancellation.onCancel(resource);
                gate.arriveAndAwait();                    // ends with InterruptedException
                return null;
            });
            gate.arrived.await();
            awaitBlocked(threadOf(task), WAIT);
            assertThatCode(() -> assertThat(task.cancel()).isTrue()).doesNotThrowAnyException();
            scope.join();                                 // waits for the close too
            assertThat(resource.closes).hasValue(1);
            assertThat(task.state()).isEqualTo(Subtask.State.CANCELLED);
            assertThat(task.exception()).isInstanceOf(InterruptedException.class);
            Reports.Incident incident = incidents.await(i -> i.error() == boom, WAIT);
            assertThat(incident.kind()).isEqualTo("failure");
            assertThat(incidents.all()).filteredOn(i -> i.error() == boom).hasSize(1);
        }
    }

    @Test
    @Timeout(30)
    void onCancel_resourceCloseThrowsAndTaskSucceeds_failureAttachedToJoinsException() throws Exception {
        var gate = new Gate();
        var boom = new IOException("close failed after success");
        var resource = new Resource(boom);
        try (var incidents = new ShutdownSupport.Incidents();
             var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("close-failure"))) {
            Subtask<Object> task = scope.fork("survivor", () -> {
                Cancellation.onCancel(resource);
                try {
                    gate.arriveAndAwait();
                } catch (InterruptedException e) {
                    // cancelled: finish normally anyway
                }
                return "ok";
            });
            gate.arrived.await();
            awaitBlocked(threadOf(task), WAIT);
            assertThatCode(scope::cancel).doesNotThrowAnyException();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class)
                    .satisfies(e -> assertThat(e.getSuppressed()).containsExactly(boom));
            assertThat(task.get()).isEqualTo("ok");
            assertThat(incidents.all()).as("delivered once: not logged as well").noneMatch(i -> i.error() == boom);
        }
    }

    @Test
    @Timeout(30)
    void onCancel_cancelledInsideCriticalSection_closeDeferredToSectionEnd() throws Exception {
        var trail = new EventTrail();
        var gate = new Gate();
        var resource = new Resource();
        try (var scope = TaskScope.open(Joiner.awaitAll())) {
            Subtask<Object> task = scope.fork(() -> {
                Cancellation.onCancel(resource);
                try (var cs = Cancellation.critical()) {
                    gate.arriveAndAwait();
                    trail.add("end of section: closes=" + resource.closes.get());
                }
                trail.add("after section");
                return null;
            });
            gate.arrived.await();
            awaitBlocked(threadOf(task), WAIT);
            scope.cancel();
            assertThat(resource.closes).as("not closed by cancel() while the task is in a section").hasValue(0);
            gate.proceed.countDown();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        trail.assertContainsInOrder("end of section: closes=0", "after section");
        assertThat(resource.closes).as("closed after the section, before join() returned").hasValue(1);
        assertThat(resource.closedBy.getName()).startsWith("weft-oncancel-");
    }

    @Test
    @Timeout(30)
    void onCancel_registeredInsideSectionWhenAlreadyCancelled_closedWhenSectionEnds() throws Exception {
        var trail = new EventTrail();
        var resource = new Resource();
        cancelAtGate(trail, gate -> {
            try {
                gate.arriveAndAwait();
            } catch (InterruptedException e) {
                trail.add("cancelled");
            }
            try (var cs = Cancellation.critical()) {
                var reg = Cancellation.onCancel(resource);
                trail.add("registered in section: closes=" + resource.closes.get() + ", isClosedByCancellation="
                        + reg.isClosedByCancellation());
            }
            trail.add("after section");
            return null;
        });
        trail.assertContainsInOrder("cancelling", "cancelled", "registered in section: closes=0, isClosedByCancellation=false",
                "after section");
        assertThat(resource.closes).as("closed once the section ended").hasValue(1);
    }

    @Test
    @Timeout(30)
    void onCancel_outsideAnyTask_throwsIllegalStateException() {
        var resource = new Resource();
        assertThatThrownBy(() -> Cancellation.onCancel(resource)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Cancellation.onCancel(null)).isInstanceOf(NullPointerException.class);
        assertThat(resource.closes).hasValue(0);
    }
}

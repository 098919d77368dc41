package dev.weft.jmh;

import dev.weft.Cancellation;
import dev.weft.TaskScope;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * N children started under one peer, all blocked (or polling), and the peer's way of stopping them.
 * Used by {@link CancelLatencyBenchmark} (which times {@link #cancelAndAwait()}) and by
 * {@link MemoryFootprintBenchmark} (which weighs the heap while they are parked).
 *
 * <p>Every child runs the same code whatever the peer ({@link #child(int)}); only the container
 * (a Weft scope, a JDK scope, an executor, bare threads) and the stop mechanism differ. A child
 * records its thread, counts {@link #ready} down just before it blocks, and ends normally when its
 * blocking call is interrupted, so that no peer pays for exceptions the others do not throw.
 * {@link #start} returns only when every child has counted down and its thread is {@code WAITING}
 * or {@code TIMED_WAITING}; for {@link Behaviour#POLL}, when every child has then been released and
 * has started polling.
 *
 * <p>The exception is {@link Peer#KOTLIN}: its children are coroutines, which have no thread and run
 * Kotlin code ({@code awaitCancellation()} or {@code delay}, see {@link Coroutines}); they end, as
 * cancelled coroutines do, with the parent's {@code CancellationException} (one shared instance,
 * without a stack trace).
 */
public final class Children {

    /** Who owns the children and how they are stopped. */
    public enum Peer {
        /** A Weft scope; stopped by {@code scope.cancel()}, then {@code close()}. */
        WEFT_CANCEL,
        /** A Weft scope; stopped by a sibling subtask that fails; then {@code join()} and {@code close()}. */
        WEFT_SIBLING,
        /** A JDK 25 StructuredTaskScope; stopped by a sibling subtask that fails; then {@code join()} and {@code close()}. */
        JDK_STS,
        /** A virtual-thread-per-task ExecutorService; {@code shutdownNow()}, then {@code awaitTermination}. */
        EXECUTOR,
        /** Bare virtual threads; {@code interrupt()} each, then {@code join()} each. */
        RAW,
        /** Bare virtual threads polling a {@code volatile boolean}; set it (and unpark each, if parked), then {@code join()} each. */
        FLAG,
        /**
         * Kotlin coroutines on {@code Dispatchers.Default}, children of one {@code Job}, suspended in
         * {@code awaitCancellation()} (PARK) or {@code delay} (SLEEP); {@code parent.cancelAndJoin()}.
         * No threads of their own: see {@link Coroutines}.
         */
        KOTLIN;

        boolean isWeft() {
            return this == WEFT_CANCEL || this == WEFT_SIBLING;
        }

        boolean hasSibling() {
            return this == WEFT_SIBLING || this == JDK_STS;
        }
    }

    /** What each child does while it waits to be stopped. */
    public enum Behaviour {
        /** {@code Thread.sleep} for a day. */
        SLEEP,
        /** {@code LockSupport.park()} until interrupted (FLAG: until the flag is set). */
        PARK,
        /** As {@link #PARK}, after one call of the peer's stop check (for the memory benchmark). */
        PARK_CHECKED,
        /** Busy-polls the peer's own stop check, with {@code Thread.yield()} between polls, so that all N take turns on the carriers. */
        POLL,
        /** A blocking read on a loopback socket whose peer never writes. */
        SOCKET,
        /** Weft only: parked inside a critical section that the benchmark ends 1 ms after the trigger. */
        CRITICAL
    }

    /** How long the critical sections of {@link Behaviour#CRITICAL} last after the trigger. */
    static final long CRITICAL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private static final long DAY_MILLIS = TimeUnit.DAYS.toMillis(1);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    final Peer peer;
    final Behaviour behaviour;
    final int n;
    /** The children's threads, and the sibling's at index n. Written by each child before it counts down. */
    final Thread[] threads;
    private final CountDownLatch ready;

    /** POLL: counted down by each child (and the sibling) once it is in its polling loop. */
    private final CountDownLatch polling;
    /** POLL: lets the parked children start polling. */
    private volatile boolean pollingAllowed;
    /** FLAG's stop flag. */
    private volatile boolean stop;
    /** Lets the sibling fail. */
    private volatile boolean go;
    /** Ends the critical sections of CRITICAL. */
    private volatile boolean released;

    private TaskScope<Object, Void, ExecutionException> scope;
    private Sts.Scope sts;
    private ExecutorService executor;
    private Coroutines.Children coroutines;
    private Socket[] clients;
    private Socket[] servers;

    private Children(Peer peer, Behaviour behaviour, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be at least 1, was " + n);
        }
        if (behaviour == Behaviour.CRITICAL && !peer.isWeft()) {
            throw new IllegalArgumentException("CRITICAL is a Weft-only behaviour, not for " + peer);
        }
        if (peer == Peer.FLAG && (behaviour == Behaviour.SLEEP || behaviour == Behaviour.SOCKET)) {
            throw new IllegalArgumentException("a flag cannot wake a thread blocked in " + behaviour);
        }
        if (peer == Peer.KOTLIN && behaviour != Behaviour.PARK && behaviour != Behaviour.PARK_CHECKED
                && behaviour != Behaviour.SLEEP) {
            throw new IllegalArgumentException("the KOTLIN peer has coroutines suspended in awaitCancellation() (PARK,"
                    + " PARK_CHECKED) or delay (SLEEP), not " + behaviour);
        }
        this.peer = peer;
        this.behaviour = behaviour;
        this.n = n;
        // KOTLIN's children are coroutines, not threads: nothing to record, nothing to count down
        this.threads = new Thread[peer == Peer.KOTLIN ? 0 : peer.hasSibling() ? n + 1 : n];
        this.ready = new CountDownLatch(threads.length);
        this.polling = new CountDownLatch(behaviour == Behaviour.POLL ? threads.length : 0);
    }

    /**
     * Starts {@code n} children under {@code peer} and returns when all of them are blocked.
     *
     * @param server the loopback server for {@link Behaviour#SOCKET}, else null
     */
    static Children start(Peer peer, Behaviour behaviour, int n, ServerSocket server) throws Exception {
        Children c = new Children(peer, behaviour, n);
        try {
            c.startAll(server);
            c.awaitBlocked();
        } catch (Throwable t) {
            c.abandon();
            throw t;
        }
        return c;
    }

    /** Opens a loopback server for {@link Behaviour#SOCKET}. */
    static ServerSocket loopbackServer() throws IOException {
        return new ServerSocket(0, 4096, InetAddress.getLoopbackAddress());
    }

    private void startAll(ServerSocket server) throws Exception {
        if (behaviour == Behaviour.SOCKET) {
            connect(server);
        }
        switch (peer) {
            case WEFT_CANCEL, WEFT_SIBLING -> {
                scope = TaskScope.open();
                for (int i = 0; i < n; i++) {
                    int k = i;
                    scope.fork(() -> child(k));
                }
                if (peer == Peer.WEFT_SIBLING) {
                    scope.fork(this::sibling);
                }
            }
            case JDK_STS -> {
                sts = Sts.open();
                for (int i = 0; i < n; i++) {
                    int k = i;
                    sts.fork(() -> {
                        child(k);
                        return null;
                    });
                }
                sts.fork(this::sibling);
            }
            case EXECUTOR -> {
                executor = Executors.newVirtualThreadPerTaskExecutor();
                for (int i = 0; i < n; i++) {
                    int k = i;
                    executor.submit(() -> child(k));
                }
            }
            case RAW, FLAG -> {
                for (int i = 0; i < n; i++) {
                    int k = i;
                    Thread.startVirtualThread(() -> child(k));
                }
            }
            case KOTLIN -> coroutines = Coroutines.start(n, behaviour == Behaviour.SLEEP,
                    behaviour == Behaviour.PARK_CHECKED);
        }
    }

    private void connect(ServerSocket server) throws IOException {
        clients = new Socket[n];
        servers = new Socket[n];
        for (int i = 0; i < n; i++) {
            Socket c = new Socket();
            c.setSoLinger(true, 0);            // reset on close: no TIME_WAIT pile-up across invocations
            clients[i] = c;
            c.connect(server.getLocalSocketAddress());
            servers[i] = server.accept();
        }
    }

    /** Waits until every child counted down and is blocked; then, for POLL, until every child polls. */
    private void awaitBlocked() throws InterruptedException {
        if (!ready.await(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(ready.getCount() + " of " + threads.length + " children of " + peer + "/"
                    + behaviour + " did not start within " + STOP_TIMEOUT);
        }
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        for (Thread t : threads) {
            Thread.State s;
            while ((s = t.getState()) != Thread.State.WAITING && s != Thread.State.TIMED_WAITING) {
                if (s == Thread.State.TERMINATED) {
                    throw new IllegalStateException("a child of " + peer + "/" + behaviour + " ended before the trigger");
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("a child of " + peer + "/" + behaviour + " did not block: " + s);
                }
                Thread.onSpinWait();
            }
        }
        if (behaviour == Behaviour.POLL) {
            startPolling();
        }
    }

    /**
     * POLL: the children wait parked until all have started, then this releases them into their
     * polling loops, from a virtual thread. A virtual thread unparked by a carrier goes to that
     * carrier's (FIFO) local queue, so the yielding pollers take turns; unparked from this platform
     * thread they would go to the pool's external queue, which the carriers do not drain while
     * their local queues, refilled by every yield, are non-empty: most children would never start.
     */
    private void startPolling() throws InterruptedException {
        Thread starter = Thread.startVirtualThread(() -> {
            pollingAllowed = true;
            for (Thread t : threads) {
                LockSupport.unpark(t);
            }
        });
        starter.join();
        if (!polling.await(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(polling.getCount() + " of " + threads.length + " children of " + peer
                    + "/POLL did not start polling within " + STOP_TIMEOUT);
        }
    }

    /** POLL: parks until {@link #startPolling()}, then counts down {@link #polling}. */
    private void awaitStartPolling() {
        while (!pollingAllowed) {
            LockSupport.park();
        }
        polling.countDown();
    }

    // ---------------------------------------------------------------------------------------
    // The children

    @SuppressWarnings("try")        // CRITICAL: the section is used for its extent
    private void child(int i) {
        threads[i] = Thread.currentThread();
        try {
            switch (behaviour) {
                case SLEEP -> {
                    ready.countDown();
                    Thread.sleep(DAY_MILLIS);
                }
                case PARK, PARK_CHECKED -> {
                    if (behaviour == Behaviour.PARK_CHECKED) {
                        stopRequested();
                    }
                    ready.countDown();
                    if (peer == Peer.FLAG) {
                        while (!stop) {
                            LockSupport.park();
                        }
                    } else {
                        while (!Thread.interrupted()) {
                            LockSupport.park();
                        }
                    }
                }
                case POLL -> {
                    stopRequested();                 // first use outside the timed region (Weft looks its task up once)
                    ready.countDown();
                    awaitStartPolling();
                    while (!stopRequested()) {
                        Thread.yield();
                    }
                }
                case SOCKET -> {
                    InputStream in = clients[i].getInputStream();
                    ready.countDown();
                    int ignored = in.read();         // interrupting a virtual thread closes the socket
                }
                case CRITICAL -> {
                    try (Cancellation.Section ignored = Cancellation.critical("bench")) {
                        ready.countDown();
                        while (!released) {
                            LockSupport.park();
                        }
                    }
                    Thread.sleep(DAY_MILLIS);        // the interrupt held back by the section lands here
                }
            }
        } catch (InterruptedException | IOException expected) {
            // the stop signal
        }
    }

    /** The peer's own stop check, for POLL and PARK_CHECKED. */
    private boolean stopRequested() {
        return switch (peer) {
            case WEFT_CANCEL, WEFT_SIBLING -> Cancellation.isRequested();
            case FLAG -> stop;
            default -> Thread.currentThread().isInterrupted();
        };
    }

    /**
     * The sibling of WEFT_SIBLING and JDK_STS: parks until the trigger, then fails. For POLL it polls
     * {@link #go} among the other pollers instead (an unpark from the benchmark thread would starve
     * in the pool's external queue, see {@link #startPolling()}).
     */
    private Void sibling() {
        threads[n] = Thread.currentThread();
        ready.countDown();
        if (behaviour == Behaviour.POLL) {
            awaitStartPolling();
            while (!go) {
                Thread.yield();
            }
        } else {
            while (!go) {
                LockSupport.park();
            }
        }
        throw SiblingFailure.INSTANCE;
    }

    /** The sibling's failure: preallocated, without a stack trace, so that the trigger costs the same for both scopes. */
    static final class SiblingFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final SiblingFailure INSTANCE = new SiblingFailure();

        private SiblingFailure() {
            super("sibling failed", null, false, false);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Stopping

    /**
     * The measured operation: triggers the peer's cancellation and returns when its
     * {@code close()}/{@code awaitTermination}/{@code join()} loop returns, that is when the peer
     * considers every child finished.
     */
    void cancelAndAwait() throws Exception {
        long t0 = System.nanoTime();
        switch (peer) {
            case WEFT_CANCEL -> {
                scope.cancel();
                releaseCriticalSections(t0);
                scope.close();
            }
            case WEFT_SIBLING -> {
                failSibling();
                releaseCriticalSections(t0);
                try {
                    scope.join();
                    throw new IllegalStateException("join() should have thrown: the sibling failed");
                } catch (ExecutionException expected) {
                    // the sibling's failure
                }
                scope.close();
            }
            case JDK_STS -> {
                failSibling();
                if (sts.join()) {
                    throw new IllegalStateException("join() should have thrown: the sibling failed");
                }
                sts.close();
            }
            case EXECUTOR -> {
                executor.shutdownNow();
                if (!executor.awaitTermination(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new IllegalStateException("executor did not terminate within " + STOP_TIMEOUT);
                }
            }
            case RAW -> {
                for (Thread t : threads) {
                    t.interrupt();
                }
                for (Thread t : threads) {
                    t.join();
                }
            }
            case KOTLIN -> coroutines.cancelAndJoin();
            case FLAG -> {
                stop = true;
                if (behaviour != Behaviour.POLL) {
                    for (Thread t : threads) {
                        LockSupport.unpark(t);
                    }
                }
                for (Thread t : threads) {
                    t.join();
                }
            }
        }
    }

    private void failSibling() {
        go = true;
        LockSupport.unpark(threads[n]);
    }

    /** CRITICAL: the sections end 1 ms after the trigger at {@code t0}. */
    private void releaseCriticalSections(long t0) {
        if (behaviour != Behaviour.CRITICAL) {
            return;
        }
        while (System.nanoTime() - t0 < CRITICAL_NANOS) {
            Thread.onSpinWait();
        }
        released = true;
        for (int i = 0; i < n; i++) {
            LockSupport.unpark(threads[i]);
        }
    }

    /** Not timed: checks that every child thread has terminated, then releases the sockets. */
    void verifyTerminated() throws InterruptedException, IOException {
        try {
            if (coroutines != null) {
                coroutines.verifyCompleted();
            }
            for (Thread t : threads) {
                if (!t.join(STOP_TIMEOUT)) {
                    throw new IllegalStateException("a child of " + peer + "/" + behaviour + " is still alive "
                            + STOP_TIMEOUT + " after the peer said it was done: " + t + " " + t.getState());
                }
            }
        } finally {
            closeSockets();
        }
    }

    /** Stops whatever was started, after a failure in set-up. */
    private void abandon() {
        stop = true;
        go = true;
        released = true;
        pollingAllowed = true;
        for (Thread t : threads) {
            if (t != null) {
                t.interrupt();
                LockSupport.unpark(t);
            }
        }
        try {
            if (scope != null) {
                scope.cancel();
                scope.close();
            }
            if (sts != null) {
                sts.cancelAndClose();
            }
            if (executor != null) {
                executor.shutdownNow();
            }
            if (coroutines != null) {
                coroutines.abandon();
            }
            closeSockets();
        } catch (RuntimeException | IOException e) {
            // secondary to the failure being thrown
        }
    }

    private void closeSockets() throws IOException {
        if (clients == null) {
            return;
        }
        for (int i = 0; i < n; i++) {
            if (clients[i] != null) {
                clients[i].close();
            }
            if (servers[i] != null) {
                servers[i].close();
            }
        }
        clients = null;
        servers = null;
    }
}

package dev.weft.jmh;

import dev.weft.TaskScope;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * A JMH worker pool whose threads are Weft subtasks, so that a benchmark method runs inside a real
 * task: {@code Cancellation.isRequested()} then reads that task's state, as it does in production,
 * instead of the interrupt status it reads on a plain thread.
 *
 * <p>Selected per benchmark with
 * {@code @Fork(jvmArgsAppend = {"-Djmh.executor=CUSTOM", "-Djmh.executor.class=dev.weft.jmh.WeftWorkers"})};
 * JMH calls the {@code (int, String)} constructor. A platform "owner" thread opens a scope and forks
 * one long-lived subtask per JMH thread; each takes JMH's runnables from a queue. The subtasks run on
 * platform threads (as JMH's own workers do), unless {@code -Dweft.jmh.workers=virtual}.
 */
public final class WeftWorkers extends AbstractExecutorService {

    private static final Runnable STOP = () -> { };
    private static final ThreadLocal<TaskScope.Subtask<?>> SELF = new ThreadLocal<>();

    private final int workers;
    private final BlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile boolean shutdown;

    /**
     * Called by JMH.
     *
     * @param maxThreads the number of JMH worker threads
     * @param prefix a name prefix for the scope
     */
    public WeftWorkers(int maxThreads, String prefix) {
        this.workers = maxThreads;
        CountDownLatch started = new CountDownLatch(1);
        Thread owner = new Thread(() -> own(prefix, started), "weft-jmh-owner");
        owner.setDaemon(true);
        owner.start();
        try {
            started.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The subtask the current JMH worker runs in, or null on any other thread. */
    public static TaskScope.Subtask<?> currentSubtask() {
        return SELF.get();
    }

    private void own(String prefix, CountDownLatch started) {
        ThreadFactory factory = "virtual".equals(System.getProperty("weft.jmh.workers"))
                ? Thread.ofVirtual().name("weft-jmh-worker-", 0).factory()
                : Thread.ofPlatform().name("weft-jmh-worker-", 0).daemon(true).factory();
        try (TaskScope<Object, Void, RuntimeException> scope = TaskScope.open(TaskScope.Joiner.awaitAll(),
                cfg -> cfg.withName("jmh " + prefix).withThreadFactory(factory))) {
            for (int i = 0; i < workers; i++) {
                CompletableFuture<TaskScope.Subtask<?>> self = new CompletableFuture<>();
                self.complete(scope.fork(() -> work(self)));
            }
            started.countDown();
            scope.join();
        } catch (Exception e) {
            throw new IllegalStateException("the Weft worker scope failed", e);
        } finally {
            started.countDown();
            terminated.countDown();
        }
    }

    private void work(CompletableFuture<TaskScope.Subtask<?>> self) {
        SELF.set(self.join());
        for (;;) {
            Runnable r;
            try {
                r = queue.take();
            } catch (InterruptedException e) {
                // a benchmark cancelled this task on purpose; keep serving JMH
                continue;
            }
            if (r == STOP) {
                return;
            }
            r.run();
        }
    }

    @Override
    public void execute(Runnable command) {
        if (shutdown) {
            throw new RejectedExecutionException("shut down");
        }
        queue.add(command);
    }

    @Override
    public void shutdown() {
        if (!shutdown) {
            shutdown = true;
            for (int i = 0; i < workers; i++) {
                queue.add(STOP);
            }
        }
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown();
        return new ArrayList<>();
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return terminated.getCount() == 0;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return terminated.await(timeout, unit);
    }
}

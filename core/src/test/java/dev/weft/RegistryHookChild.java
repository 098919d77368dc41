package dev.weft;

import dev.weft.TaskScope.Joiner;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The child JVM of {@link RegistryCoverageTest} (a main class, not a test). It installs Weft's
 * shutdown hook and waits to be killed with SIGTERM. Modes:
 * <ul>
 *   <li>{@code nested-critical FILE GRACE_MILLIS}: the main thread opens a root scope with one
 *       subtask ({@code trigger}) and, inside it, a nested scope whose subtask ({@code writer})
 *       writes {@code begin} to FILE inside a critical section, then waits in the section until the
 *       hook's cancellation reaches {@code trigger} and {@code trigger} has ended, then takes a
 *       moment to write {@code end}. Prints {@code in section} once {@code begin} is written.</li>
 *   <li>{@code born-cancelled GRACE_MILLIS}: a root scope's subtask {@code watched} waits for the
 *       hook's cancellation; once it has it, a thread opens a new root scope and prints whether it
 *       is cancelled and the state of a subtask forked in it. A subtask {@code holder} keeps the
 *       hook waiting until then. Prints {@code ready} once both subtasks run.</li>
 * </ul>
 */
public final class RegistryHookChild {

    private RegistryHookChild() {
    }

    public static void main(String[] args) throws Exception {
        try {
            switch (args[0]) {
                case "nested-critical" -> nestedCritical(args[1], Duration.ofMillis(Long.parseLong(args[2])));
                case "born-cancelled" -> bornCancelled(Duration.ofMillis(Long.parseLong(args[1])));
                default -> throw new IllegalArgumentException("unknown mode " + args[0]);
            }
        } catch (CancelledException e) {
            System.out.println("main: " + e.getClass().getSimpleName());   // the hook cancelled the root scope
        }
    }

    @SuppressWarnings("try")        // the section is entered for its effect
    private static void nestedCritical(String file, Duration grace) throws Exception {
        Scopes.installShutdownHook(grace);
        var triggerThread = new AtomicReference<Thread>();
        var resume = new CountDownLatch(1);
        try (var out = new FileOutputStream(file, true);
             var root = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("root"))) {
            root.fork("trigger", () -> {
                triggerThread.set(Thread.currentThread());
                try {
                    new CountDownLatch(1).await();
                } catch (InterruptedException e) {
                    resume.countDown();             // the hook's cancellation arrived
                }
                return null;
            });
            try (var nested = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("nested"))) {
                nested.fork("writer", () -> {
                    try (var section = Cancellation.critical("record")) {
                        write(out, "begin\n");
                        System.out.println("in section");
                        System.out.flush();
                        awaitUninterruptibly(resume);
                        Thread t = triggerThread.get();
                        while (t.isAlive()) {
                            t.join(Duration.ofMillis(100));   // interrupts are deferred inside the section
                        }
                        for (int i = 0; i < 10; i++) {
                            Thread.sleep(20);                 // "a moment": the rest of the record takes time
                            write(out, "chunk " + i + "\n");
                        }
                        write(out, "end\n");
                    }
                    return null;
                });
                nested.join();
            }
            root.join();
        }
    }

    private static void bornCancelled(Duration grace) throws Exception {
        Scopes.installShutdownHook(grace);
        var reached = new CountDownLatch(1);
        var checked = new CountDownLatch(1);
        Thread checker = new Thread(() -> {
            try {
                awaitUninterruptibly(reached);
                try (var late = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("late"))) {
                    System.out.println("late scope cancelled: " + late.isCancelled());
                    var subtask = late.fork("late-task", () -> "ran");
                    System.out.println("late fork state: " + subtask.state());
                    try {
                        late.join();
                    } catch (Exception e) {
                        System.out.println("late join threw: " + e.getClass().getSimpleName());
                    }
                }
            } catch (Throwable t) {
                System.out.println("late scope threw: " + t);
            } finally {
                System.out.flush();
                checked.countDown();
            }
        }, "late-opener");
        checker.setDaemon(true);
        checker.start();
        var running = new CountDownLatch(2);
        try (var root = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("root"))) {
            root.fork("watched", () -> {
                running.countDown();
                try {
                    new CountDownLatch(1).await();
                } catch (InterruptedException e) {
                    reached.countDown();            // the hook's cancellation reached this task
                }
                return null;
            });
            root.fork("holder", () -> {
                running.countDown();
                awaitUninterruptibly(checked);      // keeps the hook waiting until the check is printed
                return null;
            });
            running.await();
            System.out.println("ready");
            System.out.flush();
            root.join();
        }
    }

    private static void write(FileOutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        for (;;) {
            try {
                latch.await();
                return;
            } catch (InterruptedException ignored) {
                // keep waiting
            }
        }
    }
}

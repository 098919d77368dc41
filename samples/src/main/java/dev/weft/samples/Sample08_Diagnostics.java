package dev.weft.samples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import dev.weft.Cancellation;
import dev.weft.CancelledException;
import dev.weft.GracePeriodExceededException;
import dev.weft.Scopes;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import jdk.jfr.Recording;
import jdk.jfr.ValueDescriptor;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * Sample 08: diagnostics. What is a stuck scope tree doing, and what did its shutdown cost?
 *
 * <p>It builds a tree that will not stop cleanly: scope {@code ingest} (grace 0.5 s) with a
 * {@code reader} blocked in a call that ignores interrupts, a {@code writer} inside critical
 * section {@code checkpoint}, and an {@code indexer} that opened scope {@code index} with two
 * shards. Then it:
 * <ol>
 *   <li>prints {@link Scopes#dump(int)}: the live tree, with each scope's owner, age, deadline and
 *       grace, and each subtask's state, critical section and top stack frames;</li>
 *   <li>prints the start of {@link Scopes#dumpJson()}, the same data for tools;</li>
 *   <li>cancels the scope and closes it: the writer finishes its checkpoint first, the reader is
 *       named in the {@link GracePeriodExceededException}, and a second dump lists it as a
 *       straggler;</li>
 *   <li>records all of it with JDK Flight Recorder (an in-process {@link Recording}) and prints the
 *       {@code dev.weft.*} events from the file: {@code CriticalSection} (the checkpoint held the
 *       cancellation back), {@code GracePeriodExceeded} (the reader), {@code ScopeCancelled} for
 *       both scopes (with the cancellation latency).</li>
 * </ol>
 *
 * <p>Run it with {@code samples/run.sh} (which uses a JDK 21 or later), then look at the recording with
 * the JDK's {@code jfr} tool:
 * <pre>
 * mvn -q -pl core,samples compile
 * samples/run.sh Sample08_Diagnostics weft-sample08.jfr
 * jfr print --events 'dev.weft.*' weft-sample08.jfr
 * </pre>
 * To see the same from outside a running process, see {@code docs/observability.md}
 * ({@code -Ddev.weft.jmx=true} and jconsole, {@code jcmd Thread.dump_to_file}, {@code jcmd JFR.start}).
 */
public final class Sample08_Diagnostics {

    private Sample08_Diagnostics() {
    }

    /**
     * Runs the sample.
     *
     * @param args the recording file to write and keep; by default a temporary file, deleted at the end
     * @throws Exception if the sample fails
     */
    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            run(System.out, Path.of(args[0]));
        } else {
            runWithTemporaryRecording(System.out, Path.of(System.getProperty("java.io.tmpdir")));
        }
    }

    /**
     * Runs the sample with its recording in a new file in {@code dir}, and deletes the file at the
     * end, whatever happens.
     *
     * @param out where to print
     * @param dir the directory of the temporary recording
     * @throws Exception if the sample fails
     */
    static void runWithTemporaryRecording(PrintStream out, Path dir) throws Exception {
        Path jfrFile = Files.createTempFile(dir, "weft-sample08-", ".jfr");
        try {
            run(out, jfrFile, false);
        } finally {
            Files.deleteIfExists(jfrFile);
        }
    }

    /**
     * Runs the sample, printing to {@code out} and recording to {@code jfrFile}.
     *
     * @param out where to print
     * @param jfrFile the recording file to write
     * @throws Exception if the sample fails
     */
    static void run(PrintStream out, Path jfrFile) throws Exception {
        run(out, jfrFile, true);
    }

    private static void run(PrintStream out, Path jfrFile, boolean kept) throws Exception {
        try (Recording recording = new Recording()) {
            recording.setName("weft-sample08");
            for (String event : new String[] {"dev.weft.ScopeCancelled", "dev.weft.GracePeriodExceeded",
                    "dev.weft.CriticalSection", "dev.weft.ScopeLeaked"}) {
                recording.enable(event);
            }
            recording.start();
            stuckTree(out);
            recording.stop();
            recording.dump(jfrFile);
        }
        out.println();
        out.println("== JFR: the dev.weft.* events in " + jfrFile + " (" + Files.size(jfrFile) + " bytes) ==");
        for (RecordedEvent e : RecordingFile.readAllEvents(jfrFile)) {
            if (e.getEventType().getName().startsWith("dev.weft.")) {
                out.println(describe(e));
            }
        }
        if (kept) {
            out.println("See them all with: jfr print --events 'dev.weft.*' " + jfrFile);
        } else {
            out.println("(The recording was a temporary file, now deleted. To keep it, run"
                    + " samples/run.sh Sample08_Diagnostics weft-sample08.jfr, then: jfr print --events 'dev.weft.*' weft-sample08.jfr)");
        }
    }

    @SuppressWarnings("try")                                // the section is only closed, never read
    private static void stuckTree(PrintStream out) throws Exception {
        Semaphore legacyInput = new Semaphore(0);           // a blocking call that ignores interrupts
        CountDownLatch ready = new CountDownLatch(4);
        CountDownLatch cancelSeen = new CountDownLatch(1);
        AtomicReference<Thread> readerThread = new AtomicReference<>();

        var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("ingest")
                .withTimeout(Duration.ofSeconds(30)).withGrace(Duration.ofMillis(500)));
        scope.fork("reader", () -> {
            readerThread.set(Thread.currentThread());
            ready.countDown();
            legacyInput.acquireUninterruptibly();           // deaf to cancellation: it will straggle
            return null;
        });
        scope.fork("writer", () -> {
            try (var cs = Cancellation.critical("checkpoint")) {
                ready.countDown();
                cancelSeen.await();                         // not interrupted inside the section
                Thread.sleep(100);                          // the rest of a slow checkpoint write
            }
            return null;
        });
        scope.fork("indexer", () -> {
            try (var index = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withName("index"))) {
                for (String shard : new String[] {"shard-1", "shard-2"}) {
                    index.fork(shard, () -> {
                        ready.countDown();
                        Thread.sleep(Duration.ofMinutes(1)); // a slow remote call; interruptible
                        return null;
                    });
                }
                index.join();
            }
            return null;
        });
        if (!ready.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the subtasks did not start");
        }
        awaitQuiet(readerThread.get());

        out.println("== Scopes.dump(6) while the tree is stuck ==");
        out.print(Scopes.dump(6));
        out.println();
        out.println("== Scopes.dumpJson(), first lines ==");
        Scopes.dumpJson(2).lines().limit(14).forEach(out::println);
        out.println("  ...");

        out.println();
        out.println("== cancel, join, close (grace 0.5 s) ==");
        scope.cancel(new IOException("upstream feed closed"));
        cancelSeen.countDown();
        try {
            scope.join();
        } catch (CancelledException e) {
            out.println("join: " + e);
        }
        try {
            scope.close();
        } catch (GracePeriodExceededException e) {
            out.println("close: " + e.getMessage());
        }
        out.println();
        out.println("== Scopes.dump(0) after close: the straggler is still listed ==");
        out.print(Scopes.dump(0));

        legacyInput.release();                              // the legacy call returns at last
        readerThread.get().join();                          // its scope's ScopeCancelled event is committed by then
    }

    /** Waits until {@code t} is parked, so that the dump shows where it is blocked. */
    private static void awaitQuiet(Thread t) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING
                && System.nanoTime() < end) {
            Thread.yield();
        }
    }

    /** One line per event: its name and fields; timespans in milliseconds. */
    static String describe(RecordedEvent e) {
        StringBuilder sb = new StringBuilder(e.getEventType().getName());
        for (ValueDescriptor field : e.getFields()) {
            String name = field.getName();
            if (name.equals("startTime") || name.equals("duration") || name.equals("eventThread")
                    || name.equals("stackTrace")) {
                continue;
            }
            Object value = e.getValue(name);
            if ("jdk.jfr.Timespan".equals(field.getContentType())) {
                value = String.format(java.util.Locale.ROOT, "%.1f ms", e.getDuration(name).toNanos() / 1e6);
            } else if (value instanceof String s) {
                value = s.indexOf('\n') >= 0 ? "\"" + s.replace("\n", "\\n") + "\"" : s;
            }
            sb.append(' ').append(name).append('=').append(value);
        }
        return sb.toString();
    }
}

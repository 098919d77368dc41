package dev.weft.grpc.chain;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A child JVM running a main class of the test classpath, with the test's own java binary. Its
 * stdout (and stderr, merged) is read line by line; {@link #await} waits for a line. Closing it
 * destroys the process, forcibly if it does not exit at once.
 */
final class ChildJvm implements AutoCloseable {

    final String name;
    final Process process;
    private final LinkedBlockingQueue<String> fresh = new LinkedBlockingQueue<>();
    /** Every line read so far by {@link #await}, for messages. Test thread only. */
    final List<String> seen = new ArrayList<>();
    private final Writer stdin;

    private ChildJvm(String name, Process process) {
        this.name = name;
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread.ofVirtual().name("read " + name).start(() -> {
            try (var in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    fresh.add(line);
                }
            } catch (IOException e) {
                fresh.add("READ-FAILED " + e);
            }
        });
    }

    static ChildJvm start(String name, Class<?> main, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow(
                () -> new IllegalStateException("cannot tell which java binary runs this test"));
        List<String> command = new ArrayList<>(List.of(java, "-Xss512k", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        return new ChildJvm(name, p);
    }

    /**
     * Returns the next line (after those already consumed) that matches, waiting at most
     * {@code timeout}; lines skipped on the way are kept in {@link #seen}.
     */
    String await(Predicate<String> match, Duration timeout, String what) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = end - System.nanoTime();
            String line = left <= 0 ? null : fresh.poll(left, TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError(name + ": no line " + what + " within " + timeout + "; output so far:\n  "
                        + String.join("\n  ", seen));
            }
            seen.add(line);
            if (match.test(line)) {
                return line;
            }
        }
    }

    /** The text after the timestamp. */
    static String body(String line) {
        int space = line.indexOf(' ');
        return space < 0 ? line : line.substring(space + 1);
    }

    /** The timestamp, ms since the epoch. */
    static long millis(String line) {
        return Long.parseLong(line.substring(0, line.indexOf(' ')));
    }

    void send(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
    }

    @Override
    public void close() {
        try {
            stdin.close();
        } catch (IOException ignored) {
            // the process is gone already
        }
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}

package dev.weft.samples;

import dev.weft.TaskScope;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The outcome of running a sample's {@code main} in a child JVM: the same JDK as the tests, a class
 * path of the samples and Weft, and stdout and stderr kept apart. A child JVM keeps each sample's
 * JVM-wide state (the scope registry, the shutdown hook, the logging set-up) to itself.
 *
 * @param exitCode the child's exit code
 * @param out what it printed on stdout
 * @param err what it printed on stderr
 */
record SampleRun(int exitCode, String out, String err) {

    /** Longest a sample may run; the slowest takes about 2 s. */
    static final long LIMIT_SECONDS = 60;

    /** Runs {@code main} with {@code args} and waits for it, at most {@link #LIMIT_SECONDS}. */
    static SampleRun of(Class<?> main, String... args) throws Exception {
        Path out = Files.createTempFile("weft-sample-", ".out");
        Path err = Files.createTempFile("weft-sample-", ".err");
        try {
            List<String> command = new ArrayList<>(List.of(
                    ProcessHandle.current().info().command().orElseThrow(), "-cp", classpath(), main.getName()));
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!p.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
                throw new AssertionError(main.getSimpleName() + " did not end within " + LIMIT_SECONDS + " s; stdout:\n"
                        + Files.readString(out) + "\nstderr:\n" + Files.readString(err));
            }
            return new SampleRun(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** The samples' classes and Weft's, wherever the build put them (directories or jars). */
    private static String classpath() throws Exception {
        return location(Tour.class) + File.pathSeparator + location(TaskScope.class);
    }

    private static String location(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    /** The first integer captured by {@code regex} in stdout; fails if there is none. */
    long number(String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        if (!m.find()) {
            throw new AssertionError("no match for /" + regex + "/ in:\n" + out);
        }
        return Long.parseLong(m.group(1).replace(",", ""));
    }

    /** Both streams, for failure messages. */
    @Override
    public String toString() {
        return "exit code " + exitCode + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
    }
}

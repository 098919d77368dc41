package dev.weft.samples;

import static dev.weft.samples.Show.say;

import java.util.List;
import java.util.Locale;

/**
 * The tour: runs every sample in order, each under a header, in well under a minute.
 *
 * <p>Run it from the repository root (the build finds a JDK 21 or later by itself, whatever
 * {@code java} is on the PATH):
 * <pre>
 * mvn -q -pl samples -am -Ptour -DskipTests package
 * mvn -q -pl samples -am -Ptour -DskipTests package -Dsample=Sample03_StuckWorker
 * </pre>
 * The argument is {@code all} or the name of one sample (its number, such as {@code 3}, also works).
 */
public final class Tour {

    private Tour() {
    }

    /** A sample's {@code main}. */
    @FunctionalInterface
    interface Main {
        void run(String[] args) throws Exception;
    }

    /**
     * One stop of the tour.
     *
     * @param name the class name
     * @param title what it shows
     * @param story the shutdown story it answers, and its public source (the README lists them)
     * @param main its {@code main}
     */
    record Stop(String name, String title, String story, Main main) {
    }

    /** The samples, in tour order. */
    static final List<Stop> STOPS = List.of(
            new Stop("Sample01_FanOut", "fan out, fail fast, deadlines",
                    "TensorFlow's Session.close() leaves a run() in flight (TensorFlow Q&A)", Sample01_FanOut::main),
            new Stop("Sample02_Coordinator", "TensorFlow's Coordinator, without its failure modes",
                    "blocked workers and lost exceptions in tf.train.Coordinator (tf.train.Coordinator docs)",
                    Sample02_Coordinator::main),
            new Stop("Sample03_StuckWorker", "a worker that ignores interrupts: bounded close, named straggler",
                    "Coordinator.join() waits for ever on a stuck thread (tf.train.Coordinator docs)", Sample03_StuckWorker::main),
            new Stop("Sample04_CriticalSection", "a checkpoint that cancellation cannot tear",
                    "the critical sections of the graceful-exit proposal (Python discussion forum)",
                    Sample04_CriticalSection::main),
            new Stop("Sample05_PoolLifecycle", "drain, terminate, context manager, use after close, leaks",
                    "Python's ThreadPool close()/terminate(), and pools never closed"
                            + " (Super Fast Python tutorials)",
                    Sample05_PoolLifecycle::main),
            new Stop("Sample06_GracefulExit", "interrupt one, interrupt all, check, critical, Ctrl-C",
                    "the proposal for graceful thread exit (Python discussion forum)", Sample06_GracefulExit::main),
            new Stop("Sample07_Deadlines", "nested deadlines, and the time left passed to I/O",
                    "a run() or a join() that may block for ever (TensorFlow Q&A and docs)",
                    Sample07_Deadlines::main),
            new Stop("Sample08_Diagnostics", "a live dump of a stuck tree, and its shutdown recorded by JFR",
                    "which thread is holding shutdown up, and for how long (tf.train.Coordinator docs)",
                    Sample08_Diagnostics::main),
            new Stop("Sample09_SharedChannel", "cooperative cancellation: a shared FileChannel that no interrupt closes",
                    "an interrupt closes a shared FileChannel for every task that uses it (ClosedByInterruptException)",
                    Sample09_SharedChannel::main));

    public static void main(String[] args) throws Exception {
        // One stream, so that what Weft logs on stderr (Sample05's leak report) shows where it happens.
        System.setErr(System.out);
        String which = args.length == 0 || args[0].isBlank() ? "all" : args[0].trim();
        List<Stop> selected;
        try {
            selected = select(which);
        } catch (IllegalArgumentException e) {
            System.out.println(e.getMessage());
            System.exit(2);
            return;
        }
        say("Weft tour: %d sample%s on Java %s (%s)", selected.size(), selected.size() == 1 ? "" : "s",
                Runtime.version(), System.getProperty("java.vm.name"));
        long start = System.nanoTime();
        for (Stop stop : selected) {
            int number = STOPS.indexOf(stop) + 1;
            say("");
            say("=".repeat(100));
            say("%d/%d  %s: %s", number, STOPS.size(), stop.name(), stop.title());
            say("      answers: %s", stop.story());
            say("=".repeat(100));
            long t0 = System.nanoTime();
            stop.main().run(new String[0]);
            System.out.flush();
            System.err.flush();
            say("-- %s done in %s", stop.name(), Show.since(t0));
        }
        say("");
        say("Tour done: %d sample%s in %.1f s.", selected.size(), selected.size() == 1 ? "" : "s",
                (System.nanoTime() - start) / 1e9);
    }

    /**
     * Resolves the tour's argument: {@code all}, a sample's class name (case-insensitive, with or
     * without the {@code SampleNN_} prefix), or its number.
     *
     * @throws IllegalArgumentException if no sample matches
     */
    static List<Stop> select(String which) {
        if (which.equalsIgnoreCase("all")) {
            return STOPS;
        }
        String w = which.toLowerCase(Locale.ROOT);
        for (int i = 0; i < STOPS.size(); i++) {
            String name = STOPS.get(i).name().toLowerCase(Locale.ROOT);
            boolean byNumber = w.matches("\\d+") && Integer.parseInt(w) == i + 1;
            if (byNumber || name.equals(w) || name.endsWith("_" + w)) {
                return List.of(STOPS.get(i));
            }
        }
        throw new IllegalArgumentException("no sample named '" + which + "'; use 'all' or one of "
                + STOPS.stream().map(Stop::name).toList());
    }
}

package dev.weft;

import java.time.Duration;

/**
 * The child JVM of {@link JmxTest}: opens scope {@code jmx-probe} with one sleeping subtask, prints
 * {@code ready}, then joins. The test dumps and cancels it from outside, over JMX; the child
 * prints what {@code join} threw, and exits when its stdin is closed. With the argument
 * {@code self}, it cancels the scope itself and exits at once.
 */
public final class JmxProbe {

    private JmxProbe() {
    }

    /**
     * Runs the probe.
     *
     * @param args {@code self} to cancel the scope without waiting for the test
     * @throws Exception never expected
     */
    public static void main(String[] args) throws Exception {
        try (var scope = TaskScope.open(TaskScope.Joiner.awaitAll(), c -> c.withName("jmx-probe"))) {
            scope.fork("parked", () -> {
                Thread.sleep(Duration.ofHours(1));
                return null;
            });
            System.out.println("ready");
            System.out.flush();
            if (args.length > 0 && args[0].equals("self")) {
                scope.cancel();
            }
            try {
                scope.join();
                System.out.println("joined");
            } catch (CancelledException e) {
                System.out.println("join threw " + e);
            }
        }
        System.out.flush();
        if (args.length == 0) {
            System.in.read();       // stay up until the test closed its JMX connection and our stdin
        }
    }
}

package dev.weft.samples.cookbook;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The child-process recipe: SIGTERM through onCancel, then SIGKILL after a bound. */
@Timeout(60)
class ChildProcessRecipeTest {

    private static final Duration POLITENESS = Duration.ofMillis(500);

    /** Runs the recipe on a {@link CookbookChild}, cancels the task once the child is ready, and returns the child. */
    private static ProcessHandle runAndCancel(String mode, Path marker) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        try (var ready = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            var command = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    CookbookChild.class.getName(), Integer.toString(ready.getLocalPort()), mode, marker.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            List<ProcessHandle> before = ProcessHandle.current().children().toList();
            try (var scope = TaskScope.<Integer, Void, RuntimeException>open(Joiner.awaitAll(),
                    cfg -> cfg.withGrace(Duration.ofSeconds(20)))) {
                scope.fork(() -> Recipes.run(command, POLITENESS));
                try (var s = ready.accept()) {           // the child's hook is in place
                    s.getInputStream().read();
                }
                Optional<ProcessHandle> child = ProcessHandle.current().children()
                        .filter(p -> !before.contains(p)).findFirst();
                assertThat(child).isPresent();
                scope.cancel();
                try {
                    scope.join();
                } catch (Exception expected) {
                    // CancelledException: the task was cancelled
                }
                return child.get();
            }
        }
    }

    @Test
    void politeChild_stopsOnSigterm_andRunsItsCleanup(@TempDir Path dir) throws Exception {
        Path marker = dir.resolve("marker");
        long start = System.nanoTime();
        ProcessHandle child = runAndCancel("polite", marker);
        assertThat(child.isAlive()).isFalse();
        assertThat(Files.readString(marker)).isEqualTo("cleaned up\n");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    }

    @Test
    void stubbornChild_isKilledAfterTheBound(@TempDir Path dir) throws Exception {
        Path marker = dir.resolve("marker");
        long cancelled = System.nanoTime();
        ProcessHandle child = runAndCancel("stubborn", marker);
        long elapsed = System.nanoTime() - cancelled;
        assertThat(child.isAlive()).isFalse();
        assertThat(Files.readString(marker)).isEqualTo("hook started\n");    // SIGTERM came, the hook never finished
        assertThat(Duration.ofNanos(elapsed)).isGreaterThanOrEqualTo(POLITENESS);
    }
}

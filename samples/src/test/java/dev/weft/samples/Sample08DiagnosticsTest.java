package dev.weft.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link Sample08_Diagnostics} prints a live dump of its stuck tree and the JFR events it recorded. */
@Timeout(60)
class Sample08DiagnosticsTest {

    @Test
    void run_stuckTree_printsDumpStragglerAndRecordedEvents(@TempDir Path dir) throws Exception {
        Path jfr = dir.resolve("sample08.jfr");
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
            Sample08_Diagnostics.run(out, jfr);
        }
        String output = buffer.toString(StandardCharsets.UTF_8);
        List<String> lines = output.lines().toList();

        // the live dump
        assertThat(lines).anyMatch(l -> l.startsWith("scope 'ingest' open, owner '") && l.contains(", grace 500 ms, 3 running"));
        assertThat(lines).anyMatch(l -> l.startsWith("  task #1 'reader' RUNNING, ") && l.contains("thread 'ingest:reader' WAITING"));
        assertThat(lines).anyMatch(l -> l.startsWith("  task #2 'writer' RUNNING, ") && l.contains("in critical section 'checkpoint'"));
        assertThat(lines).anyMatch(l -> l.startsWith("    scope 'index' open, owner 'ingest:indexer' "));
        assertThat(lines).anyMatch(l -> l.startsWith("      task #1 'shard-1' RUNNING, "));
        assertThat(lines).contains("  \"format\": \"dev.weft.dump/2\",");
        // the shutdown
        assertThat(lines).contains("join: dev.weft.CancelledException: scope 'ingest' was cancelled: java.io.IOException: upstream feed closed");
        assertThat(lines).anyMatch(l -> l.equals("close: scope 'ingest' closed with 1 straggler after a grace period of 0.5 s:"));
        assertThat(lines).anyMatch(l -> l.startsWith("  scope 'ingest' task #1 'reader' stuck in ")
                && l.contains("(not in a critical section)"));
        int after = lines.indexOf("== Scopes.dump(0) after close: the straggler is still listed ==");
        assertThat(lines.subList(after, lines.size())).anyMatch(l -> l.startsWith("  scope 'ingest' closed, cancelled (explicit), "))
                .anyMatch(l -> l.startsWith("    task #1 'reader' RUNNING, "));
        // the recording
        assertThat(Files.size(jfr)).isPositive();
        assertThat(lines).anyMatch(l -> l.startsWith("dev.weft.CriticalSection scope=ingest task=writer taskIndex=2 section=checkpoint held="));
        assertThat(lines).anyMatch(l -> l.startsWith("dev.weft.GracePeriodExceeded scope=ingest ") && l.contains("stragglers=1 "));
        assertThat(lines).anyMatch(l -> l.startsWith("dev.weft.ScopeCancelled scope=ingest ")
                && l.contains("reason=explicit") && l.contains("tasks=3 "));
        assertThat(lines).anyMatch(l -> l.startsWith("dev.weft.ScopeCancelled scope=index ") && l.contains("reason=upstream"));
        assertThat(lines).contains("See them all with: jfr print --events 'dev.weft.*' " + jfr);
    }

    @Test
    void runWithTemporaryRecording_afterTheRun_leavesNoFileBehind(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
            Sample08_Diagnostics.runWithTemporaryRecording(out, dir);
        }
        List<String> lines = buffer.toString(StandardCharsets.UTF_8).lines().toList();

        // the recording was made and read back, then deleted
        assertThat(lines).anyMatch(l -> l.startsWith("== JFR: the dev.weft.* events in " + dir.resolve("weft-sample08-")));
        assertThat(lines).anyMatch(l -> l.startsWith("dev.weft.GracePeriodExceeded scope=ingest "));
        assertThat(lines).anyMatch(l -> l.startsWith("(The recording was a temporary file, now deleted."));
        try (var left = Files.list(dir)) {
            assertThat(left).isEmpty();
        }
    }
}

package dev.weft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link LogCapture}, the test helper that keeps Weft's intentional warnings off the console. */
@Timeout(10)
class LogCaptureTest {

    /** Stands in for the root logger's handlers (the console): records what would reach them. */
    private static final class RootRecorder extends Handler implements AutoCloseable {
        final List<LogRecord> seen = new CopyOnWriteArrayList<>();
        private final Logger root = Logger.getLogger("");
        private final Handler[] console = root.getHandlers();

        RootRecorder() {
            for (Handler h : console) {
                root.removeHandler(h);
            }
            root.addHandler(this);
        }

        @Override
        public void publish(LogRecord record) {
            if (record.getLoggerName() != null && record.getLoggerName().startsWith(LogCapture.LOGGER)) {
                seen.add(record);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            root.removeHandler(this);
            for (Handler h : console) {
                root.addHandler(h);
            }
        }
    }

    @Test
    void capture_whileInstalled_keepsWeftRecordsAndHidesThemFromTheConsole() {
        var capture = new LogCapture();
        try (var console = new RootRecorder()) {
            capture.beforeEach(null);
            try {
                Reports.report(System.Logger.Level.WARNING, "internal", "intentional warning", new IllegalStateException("boom"));
            } finally {
                capture.afterEach(null);
            }
            assertThat(capture.messages()).contains("intentional warning");
            assertThat(capture.records()).anyMatch(r -> r.getThrown() instanceof IllegalStateException);
            assertThat(console.seen).isEmpty();
        }
    }

    @Test
    void capture_afterTheTest_restoresTheLoggerSoRecordsReachTheConsoleAgain() {
        var capture = new LogCapture();
        Logger weft = Logger.getLogger(LogCapture.LOGGER);
        boolean parentHandlers = weft.getUseParentHandlers();
        try (var console = new RootRecorder()) {
            capture.beforeEach(null);
            capture.afterEach(null);
            System.getLogger(LogCapture.LOGGER).log(System.Logger.Level.INFO, "after the capture");

            assertThat(weft.getUseParentHandlers()).isEqualTo(parentHandlers);
            assertThat(capture.messages()).doesNotContain("after the capture");
            assertThat(console.seen).extracting(LogRecord::getMessage).contains("after the capture");
        }
    }

    @Test
    void capture_perClass_keepsOnlyTheCurrentTestsRecords() {
        var capture = new LogCapture();
        capture.beforeAll(null);
        try {
            capture.beforeEach(null);
            System.getLogger(LogCapture.LOGGER).log(System.Logger.Level.WARNING, "first test");
            capture.afterEach(null);
            System.getLogger(LogCapture.LOGGER).log(System.Logger.Level.WARNING, "between tests");
            capture.beforeEach(null);
            System.getLogger(LogCapture.LOGGER).log(System.Logger.Level.WARNING, "second test");
            capture.afterEach(null);

            assertThat(capture.messages()).containsExactly("second test");
        } finally {
            capture.afterAll(null);
        }
    }
}

package dev.weft;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Captures what Weft logs (java.util.logging logger {@code "dev.weft"}, which backs
 * {@code System.getLogger("dev.weft")}) while a test runs, for assertions, and keeps it off the
 * console: a test that provokes a warning on purpose (a leak, a late failure) then does not print
 * an alarming stack trace into the build log.
 *
 * <pre>
 * &#64;RegisterExtension
 * final LogCapture log = new LogCapture();          // per test
 *
 * &#64;RegisterExtension
 * static final LogCapture log = new LogCapture();   // per class: also catches reports that arrive
 *                                                    // between tests (a leak found by the GC)
 * </pre>
 * Either way {@link #records()} holds the records of the current test only. The logger's previous
 * configuration is restored afterwards.
 */
public final class LogCapture implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

    /** The logger name Weft reports to. */
    static final String LOGGER = "dev.weft";

    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    // A strong reference: java.util.logging keeps loggers weakly, and would drop the configuration.
    private Logger logger;
    private boolean parentHandlers;
    private Level level;
    private boolean perClass;

    /** Creates a capture; register it with {@code @RegisterExtension}. */
    public LogCapture() {
        handler.setLevel(Level.ALL);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        perClass = true;
        install();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        uninstall();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (!perClass) {
            install();
        }
        records.clear();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (!perClass) {
            uninstall();
        }
    }

    private void install() {
        logger = Logger.getLogger(LOGGER);
        parentHandlers = logger.getUseParentHandlers();
        level = logger.getLevel();
        logger.setUseParentHandlers(false);
        logger.setLevel(Level.ALL);
        logger.addHandler(handler);
    }

    private void uninstall() {
        logger.removeHandler(handler);
        logger.setLevel(level);
        logger.setUseParentHandlers(parentHandlers);
    }

    /**
     * Returns the records logged so far by the current test, in order.
     *
     * @return a snapshot of the records
     */
    public List<LogRecord> records() {
        return List.copyOf(records);
    }

    /**
     * Returns the messages of the records logged so far by the current test, in order.
     *
     * @return a snapshot of the messages
     */
    public List<String> messages() {
        return records.stream().map(LogRecord::getMessage).toList();
    }
}

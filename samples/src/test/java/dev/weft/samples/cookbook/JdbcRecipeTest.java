package dev.weft.samples.cookbook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.Cancellation;
import dev.weft.CancelledException;
import dev.weft.DeadlineExceededException;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The JDBC recipe against an embedded H2 database running a query that takes minutes. */
@Timeout(60)
@SuppressWarnings("try")       // registrations and sections are used for their extent
class JdbcRecipeTest {

    /**
     * 10^10 rows to join: minutes of work, and H2 checks for cancellation on every row. RUNNING()
     * is a Java function, called for each row, that tells the test the query is executing.
     */
    private static final String LONG_QUERY = "SELECT COUNT(*) FROM SYSTEM_RANGE(1, 100000) A, SYSTEM_RANGE(1, 100000) B"
            + " WHERE A.X + B.X = RUNNING()";

    private Connection db;

    @BeforeEach
    void open() throws SQLException {
        db = DriverManager.getConnection("jdbc:h2:mem:cookbook" + System.nanoTime());
        try (var st = db.createStatement()) {
            st.execute("CREATE ALIAS RUNNING FOR '" + QuerySignal.class.getName() + ".running'");
        }
        QuerySignal.executing = new CountDownLatch(1);
    }

    @AfterEach
    void close() throws SQLException {
        db.close();
    }

    @Test
    void queryForLong_answersAShortQuery() throws Exception {
        try (var scope = TaskScope.<Long, Void, java.util.concurrent.ExecutionException>open(Joiner.awaitAllSuccessfulOrThrow(),
                cfg -> cfg.withTimeout(Duration.ofSeconds(20)))) {
            var n = scope.fork(() -> Recipes.queryForLong(db, "SELECT COUNT(*) FROM SYSTEM_RANGE(1, 1000)"));
            scope.join();
            assertThat(n.get()).isEqualTo(1000L);
        }
    }

    @Test
    void cancellingTheTask_cancelsTheRunningStatement_andTheTaskIsCancelled() throws Exception {
        Subtask<Long> query;
        long start = System.nanoTime();
        try (var scope = TaskScope.<Long, Void, RuntimeException>open(Joiner.awaitAll(), cfg -> cfg.withGrace(Duration.ofSeconds(10)))) {
            query = scope.fork(() -> Recipes.queryForLong(db, LONG_QUERY));
            assertThat(QuerySignal.executing.await(20, TimeUnit.SECONDS)).isTrue();   // H2 is running the query
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(query.state()).isEqualTo(Subtask.State.CANCELLED);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
        try (var st = db.createStatement(); var rs = st.executeQuery("SELECT 1")) {   // the connection still works
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
    }

    @Test
    void taskDeadline_becomesTheQueryTimeout_roundedUpToWholeSeconds() throws Exception {
        var outcome = new AtomicReference<Throwable>();
        long start = System.nanoTime();
        try (var scope = TaskScope.open(Joiner.awaitAll(),
                cfg -> cfg.withTimeout(Duration.ofMillis(800)).withGrace(Duration.ofSeconds(10)))) {
            scope.fork(() -> {
                // Inside a critical section Weft does not cancel the statement: the timeout alone stops it.
                try (var cs = Cancellation.critical("query that must run to its timeout")) {
                    return Recipes.queryForLong(db, LONG_QUERY);
                } catch (SQLException e) {
                    outcome.set(e);
                    return null;
                }
            });
            assertThatThrownBy(scope::join).isInstanceOf(DeadlineExceededException.class);
        }
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(outcome.get()).isInstanceOf(SQLException.class).isNotInstanceOf(CancelledException.class);
        assertThat(elapsedMillis).as("0.8 s left, rounded up to a 1 s query timeout").isBetween(900L, 20_000L);
    }

    @Test
    void cancelledBeforeTheQueryStarts_neverRunsIt() throws Exception {
        var outcome = new AtomicReference<Throwable>();
        try (var scope = TaskScope.open(Joiner.awaitAll(), cfg -> cfg.withGrace(Duration.ofSeconds(10)))) {
            var inSection = new CountDownLatch(1);
            var cancelled = new CountDownLatch(1);
            scope.fork(() -> {
                try (var cs = Cancellation.critical()) {        // the cancel lands before the query
                    inSection.countDown();
                    cancelled.await();
                }
                try {
                    return Recipes.queryForLong(db, LONG_QUERY);
                } catch (CancelledException e) {
                    outcome.set(e);
                    throw e;
                }
            });
            inSection.await();
            scope.cancel();
            cancelled.countDown();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
        assertThat(outcome.get()).isInstanceOf(CancelledException.class);
        assertThat(QuerySignal.executing.getCount()).isEqualTo(1);         // H2 never ran it
    }

    @Test
    void secondsRoundedUp_neverGivesZero() {
        assertThat(Recipes.secondsRoundedUp(Duration.ZERO)).isEqualTo(1);
        assertThat(Recipes.secondsRoundedUp(Duration.ofMillis(1))).isEqualTo(1);
        assertThat(Recipes.secondsRoundedUp(Duration.ofMillis(1001))).isEqualTo(2);
        assertThat(Recipes.secondsRoundedUp(Duration.ofSeconds(3))).isEqualTo(3);
        assertThat(Recipes.secondsRoundedUp(Duration.ofDays(100_000))).isEqualTo(Integer.MAX_VALUE);
    }
}

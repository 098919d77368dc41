package dev.weft.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The migration guide's Weft code does what the guide says it does. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MigrationExamplesTest {

    @Test
    void train_stopRequested_workersReturnTheirSteps() throws Exception {
        int steps = MigrationExamples.train(4, Duration.ofMillis(50));

        assertThat(steps).as("the workers ran, then returned cleanly").isPositive();
    }

    @Test
    void runAll_allSucceed_resultsInForkOrder() throws Exception {
        assertThat(MigrationExamples.runAll(List.of(3, 1, 2))).containsExactly(30, 10, 20);
    }

    @Test
    void runAll_oneFails_joinThrowsTheFailure() {
        assertThatThrownBy(() -> MigrationExamples.runAll(List.of(1, -1, 2)))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IllegalArgumentException.class).hasMessage("bad job -1");
    }

    @Test
    void page_bothSucceed_pageOfBoth() throws Exception {
        assertThat(MigrationExamples.page(7)).isEqualTo(new MigrationExamples.Page("user-7", "order-7"));
    }

    @Test
    void page_orderFails_executionExceptionWithTheCause() {
        assertThatThrownBy(() -> MigrationExamples.page(-7))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IllegalStateException.class).hasMessage("no orders for -7");
    }

    @Test
    void firstQuote_severalMirrors_returnsOneOfThem() throws Exception {
        assertThat(MigrationExamples.firstQuote(List.of(1, 2, 3))).isIn("user-1", "user-2", "user-3");
    }
}

package dev.weft.samples.cookbook;

import java.util.concurrent.CountDownLatch;

/** A Java function for H2 ({@code CREATE ALIAS}) that tells {@link JdbcRecipeTest} a query is executing. */
public final class QuerySignal {

    private QuerySignal() {
    }

    /** Opened by the first call of {@link #running()}; replaced for each test. */
    static volatile CountDownLatch executing = new CountDownLatch(1);

    /**
     * Called by H2 for each row of the test's long query.
     *
     * @return 7, the number the query compares with
     */
    public static int running() {
        executing.countDown();
        return 7;
    }
}

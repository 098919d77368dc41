package dev.weft;

import static dev.weft.RegressionSupport.async;
import static dev.weft.RegressionSupport.finishes;
import static dev.weft.RegressionSupport.thrownBy;
import static dev.weft.RegressionSupport.tree;
import static dev.weft.TestSupport.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * No recursion over the scope tree (issue 11, cause 3): a chain of scopes thousands of levels deep
 * (one scope per level, each opened by the subtask of the level above, the leaf parked) is
 * cancelled, closed and dumped on default stacks, and what it costs grows linearly with depth.
 */
class DeepTreeTest {

    /** What a level's body ended with: "returned", or the throwable. */
    private static final Object RETURNED = "returned";

    /**
     * A chain of {@code depth} scopes: the root opened on a platform thread with default stack
     * ({@code test-deep-root}), each level's subtask opening the next scope, the leaf (a subtask of
     * the last scope) parked until interrupted.
     */
    private static final class Chain {
        final int depth;
        final AtomicReferenceArray<Object> outcomes;
        final CountDownLatch unwound;
        final CountDownLatch leafReady = new CountDownLatch(1);
        final CountDownLatch leafCancelled = new CountDownLatch(1);
        final CountDownLatch holdLeaf;
        final AtomicReference<Thread> leafThread = new AtomicReference<>();
        final AtomicReference<Subtask<Object>> leaf = new AtomicReference<>();
        final AtomicReference<String> leafMessage = new AtomicReference<>();
        final AtomicReference<TaskScope<Object, Void, ?>> root = new AtomicReference<>();
        final CompletableFuture<Object> owner;

        /** {@code holdLeaf}: if non-null, the cancelled leaf waits for it before ending, keeping the tree. */
        Chain(int depth, Duration rootTimeout, CountDownLatch holdLeaf) {
            this.depth = depth;
            this.outcomes = new AtomicReferenceArray<>(depth);
            this.unwound = new CountDownLatch(depth);
            this.holdLeaf = holdLeaf;
            owner = async("test-deep-root", () -> level(0, rootTimeout));
        }

        private Object level(int k, Duration timeout) throws Exception {
            Object outcome = RETURNED;
            try {
                try (var scope = TaskScope.<Object, Void, RuntimeException>open(Joiner.awaitAll(), cfg -> {
                    var c = cfg.withName("level-" + k);
                    return timeout == null ? c : c.withTimeout(timeout);
                })) {
                    if (k == 0) {
                        root.set(scope);
                    }
                    Subtask<Object> child = scope.fork(() -> k + 1 == depth ? leaf() : level(k + 1, null));
                    if (k + 1 == depth) {
                        leaf.set(child);
                    }
                    scope.join();
                }
                return RETURNED;
            } catch (Throwable t) {
                outcome = t;
                throw t;
            } finally {
                outcomes.set(k, outcome);
                unwound.countDown();
            }
        }

        private Object leaf() throws Exception {
            leafThread.set(Thread.currentThread());
            leafReady.countDown();
            try {
                new CountDownLatch(1).await();
                throw new AssertionError("unreachable");
            } catch (InterruptedException e) {
                try {
                    Cancellation.check();
                } catch (CancelledException c) {
                    leafMessage.set(c.getMessage());
                    leafCancelled.countDown();
                    if (holdLeaf != null) {
                        holdLeaf.await(WAIT.toMillis() * 6, TimeUnit.MILLISECONDS);
                    }
                    throw c;
                }
                throw e;
            }
        }

        void awaitBuilt() throws InterruptedException {
            assertThat(leafReady.await(WAIT.toMillis() * 3, TimeUnit.MILLISECONDS))
                    .as("the leaf of the %d-level chain started", depth).isTrue();
        }

        /** Every level has ended; returns the levels whose outcome contains a StackOverflowError. */
        List<Integer> awaitUnwoundAndOverflows() throws InterruptedException {
            assertThat(unwound.await(WAIT.toMillis() * 3, TimeUnit.MILLISECONDS))
                    .as("every level of the %d-level chain unwound (%d did not)", depth, unwound.getCount()).isTrue();
            List<Integer> overflowed = new ArrayList<>();
            for (int k = 0; k < depth; k++) {
                if (outcomes.get(k) instanceof Throwable t
                        && tree(t).stream().anyMatch(x -> x instanceof StackOverflowError)) {
                    overflowed.add(k);
                }
            }
            return overflowed;
        }

        /** Cleanup for a core that fails to cancel the chain: end the leaf, so that every level unwinds. */
        void release() {
            if (holdLeaf != null) {
                holdLeaf.countDown();
            }
            if (leafCancelled.getCount() > 0) {
                Thread t = leafThread.get();
                if (t != null) {
                    t.interrupt();
                }
            }
            try {
                unwound.await(WAIT.toMillis() * 3, TimeUnit.MILLISECONDS);
                finishes(owner, WAIT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    @Timeout(120)
    void cancelAll_chainOf2500Levels_leafCancelledAndEveryLevelUnwindsWithoutStackOverflow() throws Exception {
        var chain = new Chain(2_500, null, null);
        try {
            chain.awaitBuilt();
            Throwable cancelAllThrew = thrownBy(Scopes::cancelAll);
            assertThat(cancelAllThrew).as("Scopes.cancelAll() on a 2 500-level chain").isNull();
            assertThat(chain.leafCancelled.await(WAIT.toMillis(), TimeUnit.MILLISECONDS))
                    .as("the leaf saw the cancellation").isTrue();
            assertThat(chain.awaitUnwoundAndOverflows()).as("levels that ended with a StackOverflowError").isEmpty();
            assertThat(chain.leaf.get().state()).isEqualTo(Subtask.State.CANCELLED);
            assertThat(chain.outcomes.get(0)).isInstanceOf(CancelledException.class);
        } finally {
            chain.release();
        }
    }

    @Test
    @Timeout(120)
    void rootDeadline_chainOf2500Levels_leafCancelledAndEveryLevelUnwindsWithoutStackOverflow() throws Exception {
        var chain = new Chain(2_500, Duration.ofSeconds(4), null);
        try {
            chain.awaitBuilt();
            assertThat(chain.leafCancelled.await(WAIT.toMillis() * 2, TimeUnit.MILLISECONDS))
                    .as("the root's deadline reached the leaf").isTrue();
            assertThat(chain.awaitUnwoundAndOverflows()).as("levels that ended with a StackOverflowError").isEmpty();
            assertThat(chain.leaf.get().state()).isEqualTo(Subtask.State.CANCELLED);
            assertThat(chain.outcomes.get(0)).isInstanceOf(DeadlineExceededException.class);
        } finally {
            chain.release();
        }
    }

    @Test
    @Timeout(180)
    void chainOf10000Levels_cancelCloseDumpAndDumpJsonSucceedOnDefaultStacks() throws Exception {
        var hold = new CountDownLatch(1);
        var chain = new Chain(10_000, null, hold);
        try {
            chain.awaitBuilt();
            String text = call("Scopes.dump()", 10_000, Scopes::dump);
            String json = call("Scopes.dumpJson()", 10_000, Scopes::dumpJson);
            assertThat(text).contains("'level-0'");
            assertThat(json).contains("\"level-0\"");

            call("cancel()", 10_000, () -> {
                chain.root.get().cancel();
                return null;
            });
            assertThat(chain.leafCancelled.await(WAIT.toMillis(), TimeUnit.MILLISECONDS))
                    .as("the root's cancel() reached the leaf, 10 000 levels down").isTrue();
            String message = chain.leafMessage.get();
            assertThat(message.length()).as("length of the leaf's CancelledException message: bounded, not one line "
                    + "per level; starts with: %s", message.substring(0, Math.min(300, message.length())))
                    .isLessThan(2_000);

            String cancelledText = call("Scopes.dump()", 10_000, Scopes::dump);   // cancelled, not yet unwound
            String cancelledJson = call("Scopes.dumpJson()", 10_000, Scopes::dumpJson);
            assertThat(cancelledText).contains("'level-0'");
            assertThat(cancelledJson).contains("\"level-0\"");

            hold.countDown();
            assertThat(chain.awaitUnwoundAndOverflows()).as("levels that ended with a StackOverflowError").isEmpty();
            assertThat(chain.leaf.get().state()).isEqualTo(Subtask.State.CANCELLED);
            assertThat(finishes(chain.owner, WAIT)).isTrue();
            assertThat(chain.outcomes.get(0)).as("the root's join/close").isInstanceOf(CancelledException.class);
        } finally {
            chain.release();
        }
    }

    @Test
    @Timeout(180)
    void dumpSize_liveAndCancelledChains_growsLinearlyWithDepth() throws Exception {
        int n = 1_000;
        long[][] sizes = new long[2][4];          // [N or 2N][text live, json live, text cancelled, json cancelled]
        for (int i = 0; i < 2; i++) {
            var hold = new CountDownLatch(1);
            var chain = new Chain(n * (i + 1), null, hold);
            try {
                chain.awaitBuilt();
                sizes[i][0] = call("Scopes.dump()", chain.depth, Scopes::dump).length();
                sizes[i][1] = call("Scopes.dumpJson()", chain.depth, Scopes::dumpJson).length();
                call("cancel()", chain.depth, () -> {
                    chain.root.get().cancel();
                    return null;
                });
                assertThat(chain.leafCancelled.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                sizes[i][2] = call("Scopes.dump()", chain.depth, Scopes::dump).length();       // held: not unwound
                sizes[i][3] = call("Scopes.dumpJson()", chain.depth, Scopes::dumpJson).length();
            } finally {
                hold.countDown();
                chain.release();
            }
        }
        String[] what = {"dump() of the live chain", "dumpJson() of the live chain", "dump() of the cancelled chain",
                "dumpJson() of the cancelled chain"};
        for (int k = 0; k < 4; k++) {
            assertThat((double) sizes[1][k] / sizes[0][k])
                    .as("size of %s at %d levels / at %d levels (%d / %d chars)", what[k], 2 * n, n, sizes[1][k], sizes[0][k])
                    .isLessThan(2.5);
        }
    }

    @Test
    @Timeout(180)
    void retainedHeapOfACancelledChain_growsLinearlyWithDepth() throws Exception {
        int n = 1_000;
        long[] retained = new long[2];
        for (int i = 0; i < 2; i++) {
            long baseline = usedHeapAfterGc();
            var hold = new CountDownLatch(1);
            var chain = new Chain(n * (i + 1), null, hold);
            try {
                chain.awaitBuilt();
                call("cancel()", chain.depth, () -> {
                    chain.root.get().cancel();
                    return null;
                });
                assertThat(chain.leafCancelled.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                retained[i] = usedHeapAfterGc() - baseline;       // the cancelled tree, kept by the held leaf
            } finally {
                hold.countDown();
                chain.release();
            }
        }
        // Linear growth doubles it; the old cancellation messages, each embedding its parent's, made
        // it grow with the square of the depth (a ratio of 4). Heap readings after a GC are coarse:
        // the bound sits between the two.
        assertThat((double) retained[1] / Math.max(1, retained[0]))
                .as("heap retained by a cancelled chain of %d levels / of %d levels (%d / %d bytes)",
                        2 * n, n, retained[1], retained[0])
                .isLessThan(3.0);
    }

    /** Calls a dump or cancel on the test thread (a default stack); fails, rather than errs, if it throws. */
    private static <V> V call(String what, int depth, java.util.concurrent.Callable<V> action) throws Exception {
        var result = new AtomicReference<V>();
        Throwable thrown = thrownBy(() -> result.set(action.call()));
        assertThat(thrown).as("%s on a chain of %d levels threw", what, depth).isNull();
        return result.get();
    }

    private static long usedHeapAfterGc() {
        var memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}

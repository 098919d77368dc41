package dev.weft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link Scopes#dump()}, {@link Scopes#dumpJson()}, and the {@code toString()} of scopes and subtasks. */
@Timeout(30)
class DumpTest {

    private static final Duration BLOCKED = Duration.ofSeconds(10);

    /** A real JSON parser, strict: duplicate keys and trailing tokens are errors. */
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * A stuck tree, owned by the current thread: root scope {@code name} (timeout 1 h, grace 5 s)
     * with {@code sleeper} asleep, {@code writer} waiting inside critical section
     * {@code checkpoint}, and {@code parent}, which opened scope {@code name + "-nested"} whose
     * subtask {@code leaf} is asleep. Every thread is blocked when the constructor returns.
     */
    static final class StuckTree implements AutoCloseable {
        final TaskScope<Object, Void, ?> scope;
        final TaskScope.Subtask<Object> sleeper;
        final TaskScope.Subtask<Object> writer;
        final TaskScope.Subtask<Object> parent;
        final AtomicReference<TaskScope.Subtask<Object>> leaf = new AtomicReference<>();
        private final CountDownLatch release = new CountDownLatch(1);

        StuckTree(String name) throws Exception {
            scope = TaskScope.open(TaskScope.Joiner.awaitAll(),
                    c -> c.withName(name).withTimeout(Duration.ofHours(1)).withGrace(Duration.ofSeconds(5)));
            CountDownLatch inSection = new CountDownLatch(1);
            CountDownLatch nestedReady = new CountDownLatch(1);
            sleeper = scope.fork("sleeper", () -> {
                Thread.sleep(Duration.ofHours(1));
                return null;
            });
            writer = scope.fork("writer", () -> {
                try (var cs = Cancellation.critical("checkpoint")) {
                    inSection.countDown();
                    release.await();
                }
                return null;
            });
            parent = scope.fork("parent", () -> {
                try (var nested = TaskScope.open(TaskScope.Joiner.awaitAll(), c -> c.withName(name + "-nested"))) {
                    leaf.set(nested.fork("leaf", () -> {
                        Thread.sleep(Duration.ofHours(1));
                        return null;
                    }));
                    nestedReady.countDown();
                    nested.join();
                }
                return null;
            });
            assertThat(inSection.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(nestedReady.await(10, TimeUnit.SECONDS)).isTrue();
            TestSupport.awaitBlocked(TestSupport.threadOf(sleeper), BLOCKED);
            TestSupport.awaitBlocked(TestSupport.threadOf(writer), BLOCKED);
            TestSupport.awaitBlocked(TestSupport.threadOf(parent), BLOCKED);
            TestSupport.awaitBlocked(TestSupport.threadOf(leaf.get()), BLOCKED);
        }

        @Override
        public void close() throws Exception {
            scope.cancel();
            release.countDown();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            scope.close();
        }
    }

    private static List<String> lines(String text) {
        return text.lines().toList();
    }

    private static String lineWith(String text, String fragment) {
        return text.lines().filter(l -> l.contains(fragment)).findFirst()
                .orElseThrow(() -> new AssertionError("no line contains <" + fragment + "> in:\n" + text));
    }

    private static JsonNode scopeNamed(JsonNode list, String name) {
        for (JsonNode s : list) {
            if (name.equals(s.get("name").asText())) {
                return s;
            }
        }
        throw new AssertionError("no scope '" + name + "' in " + list);
    }

    // ---------------------------------------------------------------------------------------
    // Text

    @Test
    void dump_stuckTree_showsScopesTasksSectionsAndStacks() throws Exception {
        String owner = Thread.currentThread().getName();
        try (var tree = new StuckTree("dump-text")) {
            String dump = Scopes.dump(64);

            assertThat(lines(dump).get(0)).startsWith("Weft scope dump at ").contains("(pid " + ProcessHandle.current().pid() + ")");
            String root = lineWith(dump, "scope 'dump-text' ");
            assertThat(root).startsWith("scope 'dump-text' open, owner '" + owner + "' ")
                    .contains(", age ").containsPattern(", deadline \\S+Z \\(\\d+ s left\\)")
                    .contains(", grace 5 s, 3 running");
            assertThat(lineWith(dump, "task #1 'sleeper'"))
                    .startsWith("  task #1 'sleeper' RUNNING, age ")
                    .endsWith(", in Thread.sleep, thread 'dump-text:sleeper' TIMED_WAITING");
            assertThat(lineWith(dump, "task #2 'writer'"))
                    .startsWith("  task #2 'writer' RUNNING, age ")
                    .contains(", in critical section 'checkpoint', thread 'dump-text:writer' WAITING");
            assertThat(lineWith(dump, "task #3 'parent'")).startsWith("  task #3 'parent' RUNNING");
            assertThat(lineWith(dump, "scope 'dump-text-nested'"))
                    .startsWith("    scope 'dump-text-nested' open, owner 'dump-text:parent' WAITING");
            assertThat(lineWith(dump, "task #1 'leaf'")).startsWith("      task #1 'leaf' RUNNING");
            assertThat(dump).contains("\n      at java.base/java.lang.Thread.sleep(");     // the sleeper's frames
            // the nested scope is listed under the task that opened it, after that task's frames
            assertThat(dump.indexOf("scope 'dump-text-nested'")).isGreaterThan(dump.indexOf("task #3 'parent'"));
        }
    }

    @Test
    void dump_cancelledWhileSectionRuns_showsReasonAndHeldCancellation() throws Exception {
        try (var tree = new StuckTree("dump-cancel")) {
            tree.scope.cancel(new IOException("disk full"));
            TestSupport.awaitTerminated(TestSupport.threadOf(tree.sleeper), BLOCKED);
            String dump = Scopes.dump(0);

            assertThat(lineWith(dump, "scope 'dump-cancel' ")).startsWith("scope 'dump-cancel' open, cancelled (explicit), ");
            assertThat(lineWith(dump, "reason: scope 'dump-cancel'"))
                    .isEqualTo("  reason: scope 'dump-cancel' was cancelled: java.io.IOException: disk full");
            assertThat(lineWith(dump, "task #2 'writer'"))
                    .contains(", cancel requested, in critical section 'checkpoint', holding the cancellation back, thread ");
            assertThat(dump).doesNotContain("task #1 'sleeper'");       // ended: no longer listed
        }
    }

    @Test
    void dump_maxFrames_limitsFramesPerTask() throws Exception {
        try (var tree = new StuckTree("dump-frames")) {
            List<String> two = lines(Scopes.dump(2));
            int sleeper = indexOfLineWith(two, "task #1 'sleeper'");
            assertThat(two.get(sleeper + 1)).startsWith("      at ");
            assertThat(two.get(sleeper + 2)).startsWith("      at ");
            assertThat(two.get(sleeper + 3)).matches("      \\.\\.\\. \\d+ more");

            List<String> none = lines(Scopes.dump(0));
            int s0 = indexOfLineWith(none, "task #1 'sleeper'");
            assertThat(none.get(s0 + 1)).contains("task #2 'writer'");
            assertThat(none).noneMatch(l -> l.contains("dump-frames") && l.trim().startsWith("at "));
        }
    }

    private static int indexOfLineWith(List<String> lines, String fragment) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(fragment)) {
                return i;
            }
        }
        throw new AssertionError("no line contains <" + fragment + "> in " + lines);
    }

    @Test
    void dump_negativeFrames_throws() {
        assertThatThrownBy(() -> Scopes.dump(-1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
        assertThatThrownBy(() -> Scopes.dumpJson(-1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
    }

    @Test
    void dump_afterGracePeriodExceeded_listsStragglersSeparatelyUntilTheyEnd() throws Exception {
        Semaphore never = new Semaphore(0);
        TaskScope.Subtask<Object> stubborn;
        var scope = TaskScope.open(TaskScope.Joiner.awaitAll(),
                c -> c.withName("dump-straggler").withGrace(Duration.ofMillis(50)));
        stubborn = scope.fork("stubborn", () -> {
            never.acquireUninterruptibly();         // ignores the interrupt
            return null;
        });
        TestSupport.awaitBlocked(TestSupport.threadOf(stubborn), BLOCKED);
        scope.cancel();
        assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        assertThatThrownBy(scope::close).isInstanceOf(GracePeriodExceededException.class)
                .hasMessageContaining("scope 'dump-straggler' task #1 'stubborn' stuck ");

        String dump = Scopes.dump(4);
        int section = dump.indexOf("\nstragglers (");
        assertThat(section).isPositive();
        int listed = dump.indexOf("  scope 'dump-straggler' closed, cancelled (explicit), ");
        assertThat(listed).isGreaterThan(section);
        assertThat(lineWith(dump, "scope 'dump-straggler'")).contains(", 1 running, 1 straggler at close");
        assertThat(lineWith(dump, "task #1 'stubborn'")).startsWith("    task #1 'stubborn' RUNNING, age ").contains("cancel requested");

        never.release();
        TestSupport.awaitTerminated(TestSupport.threadOf(stubborn), BLOCKED);
        assertThat(Scopes.dump(0)).doesNotContain("dump-straggler");
    }

    @Test
    void dump_closedScope_isNotListed() throws Exception {
        try (var tree = new StuckTree("dump-gone")) {
            assertThat(Scopes.dump(0)).contains("scope 'dump-gone' ");
        }
        assertThat(Scopes.dump(0)).doesNotContain("dump-gone");
    }

    // ---------------------------------------------------------------------------------------
    // JSON

    @Test
    void dumpJson_stuckTree_isValidJsonWithTheSameData() throws Exception {
        String owner = Thread.currentThread().getName();
        try (var tree = new StuckTree("dump-json")) {
            JsonNode doc = JSON.readTree(Scopes.dumpJson(3));

            assertThat(doc.get("format").asText()).isEqualTo("dev.weft.dump/2");
            assertThat(doc.get("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
            assertThat(doc.get("maxFrames").asInt()).isEqualTo(3);
            assertThat(doc.get("runningSubtasks").asInt()).isGreaterThanOrEqualTo(4);
            JsonNode root = scopeNamed(doc.get("scopes"), "dump-json");
            assertThat(root.get("listedAs").asText()).isEqualTo("root");
            assertThat(root.get("depth").asInt()).isZero();
            assertThat(root.get("phase").asText()).isEqualTo("open");
            assertThat(root.get("root").asBoolean()).isTrue();
            assertThat(root.get("cancelled").asBoolean()).isFalse();
            assertThat(root.get("cancellation").isNull()).isTrue();
            assertThat(root.at("/owner/name").asText()).isEqualTo(owner);
            assertThat(root.at("/owner/tid").asLong()).isEqualTo(Thread.currentThread().threadId());
            assertThat(root.get("graceMillis").asLong()).isEqualTo(5000);
            assertThat(root.get("deadline").asText()).endsWith("Z");
            assertThat(root.get("remainingMillis").asLong()).isBetween(1L, 3_600_000L);
            assertThat(root.get("running").asInt()).isEqualTo(3);
            assertThat(root.get("stragglersAtClose").isNull()).isTrue();

            JsonNode tasks = root.get("tasks");
            assertThat(tasks).hasSize(3);
            JsonNode sleeper = tasks.get(0);
            assertThat(sleeper.get("index").asInt()).isEqualTo(1);
            assertThat(sleeper.get("name").asText()).isEqualTo("sleeper");
            assertThat(sleeper.get("state").asText()).isEqualTo("RUNNING");
            assertThat(sleeper.get("cancelRequested").asBoolean()).isFalse();
            assertThat(sleeper.get("criticalSection").isNull()).isTrue();
            assertThat(sleeper.at("/thread/name").asText()).isEqualTo("dump-json:sleeper");
            assertThat(sleeper.at("/thread/virtual").asBoolean()).isTrue();
            assertThat(sleeper.at("/thread/state").asText()).isEqualTo("TIMED_WAITING");
            assertThat(sleeper.get("location").asText()).isEqualTo("Thread.sleep");
            assertThat(sleeper.get("stack")).hasSize(3);
            assertThat(sleeper.get("moreFrames").asInt()).isPositive();
            assertThat(sleeper.get("stackOmitted").asBoolean()).isFalse();

            JsonNode writer = tasks.get(1);
            assertThat(writer.at("/criticalSection/name").asText()).isEqualTo("checkpoint");
            assertThat(writer.at("/criticalSection/depth").asInt()).isEqualTo(1);
            assertThat(writer.at("/criticalSection/holdingCancellation").asBoolean()).isFalse();

            JsonNode nested = scopeNamed(doc.get("scopes"), "dump-json-nested");
            assertThat(nested.get("parent").asLong()).isEqualTo(root.get("id").asLong());
            assertThat(nested.get("parentTask").asInt()).isEqualTo(3);
            assertThat(nested.get("depth").asInt()).isEqualTo(1);
            assertThat(nested.get("root").asBoolean()).isFalse();
            assertThat(nested.get("graceMillis").isNull()).isTrue();          // unbounded
            assertThat(nested.at("/owner/name").asText()).isEqualTo("dump-json:parent");
            assertThat(nested.at("/tasks/0/name").asText()).isEqualTo("leaf");

            tree.scope.cancel(new IOException("disk \"full\""));
            TestSupport.awaitTerminated(TestSupport.threadOf(tree.sleeper), BLOCKED);
            TestSupport.awaitTerminated(TestSupport.threadOf(tree.parent), BLOCKED);
            root = scopeNamed(JSON.readTree(Scopes.dumpJson(0)).get("scopes"), "dump-json");
            assertThat(root.get("cancelled").asBoolean()).isTrue();
            assertThat(root.at("/cancellation/kind").asText()).isEqualTo("explicit");
            assertThat(root.at("/cancellation/reason").asText())
                    .isEqualTo("scope 'dump-json' was cancelled: java.io.IOException: disk \"full\"");
            assertThat(root.at("/cancellation/cause").asText()).isEqualTo("java.io.IOException: disk \"full\"");
            assertThat(root.get("tasks")).hasSize(1);
            assertThat(root.at("/tasks/0/name").asText()).isEqualTo("writer");
            assertThat(root.at("/tasks/0/cancelRequested").asBoolean()).isTrue();
            assertThat(root.at("/tasks/0/criticalSection/holdingCancellation").asBoolean()).isTrue();
            assertThat(root.at("/tasks/0/stack")).isEmpty();
            assertThat(root.at("/tasks/0/location").isNull()).isTrue();
        }
    }

    @Test
    void dumpJson_hostileNames_areEscapedAndReadBackUnchanged() throws Exception {
        String hostile = "q\"uote b\\ack sl/ash nl\n cr\r tab\t nul\u0000 us\u001f del\u007f ls\u2028 ps\u2029"
                + " lone-high\uD800 lone-low\uDC00 reversed\uDC00\uD800 emoji\uD83D\uDE00 end\uD83D";
        CountDownLatch started = new CountDownLatch(1);
        try (var scope = TaskScope.open(TaskScope.Joiner.awaitAll(), c -> c.withName(hostile))) {
            scope.fork(hostile, () -> {
                started.countDown();
                Thread.sleep(Duration.ofHours(1));
                return null;
            });
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            String json = Scopes.dumpJson(0);

            assertThat(json.chars()).allMatch(c -> c >= 0x20 && c != 0x7f && c != 0x2028 && c != 0x2029 || c == '\n');
            assertThat(json.codePoints()).noneMatch(cp -> cp >= 0xD800 && cp <= 0xDFFF);   // no unpaired surrogate left raw
            assertThat(new String(json.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)).isEqualTo(json);
            JsonNode doc = JSON.readTree(json.getBytes(StandardCharsets.UTF_8));
            JsonNode root = scopeNamed(doc.get("scopes"), hostile);
            assertThat(root.at("/tasks/0/name").asText()).isEqualTo(hostile);
            assertThat(root.at("/tasks/0/thread/name").asText()).isEqualTo(hostile + ":" + hostile);
            scope.cancel();
            assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        }
    }

    @Test
    void jsonQuote_everyChar_readsBackUnchanged() throws Exception {
        StringBuilder all = new StringBuilder(65536);
        for (int c = 0; c <= 0xFFFF; c++) {
            all.append((char) c);
        }
        StringBuilder json = new StringBuilder();
        JsonWriter.quote(json, all);
        assertThat(JSON.readTree(json.toString()).asText()).isEqualTo(all.toString());
        assertThat(json.toString()).contains("\\u0000", "\\u001f", "\\n", "\\\"", "\\\\", "\\ud800", "\\udfff", "\\u2028");
    }

    @Test
    void jsonWriter_nesting_producesValidJsonWithNulls() throws Exception {
        StringBuilder sb = new StringBuilder();
        new JsonWriter(sb).beginObject()
                .field("a", 1L).field("b", (String) null).field("c", (Long) null)
                .name("d").beginArray().beginObject().endObject().beginArray().endArray().value(true).endArray()
                .endObject();
        JsonNode n = JSON.readTree(sb.toString());
        assertThat(n.get("a").asLong()).isEqualTo(1);
        assertThat(n.get("b").isNull()).isTrue();
        assertThat(n.get("c").isNull()).isTrue();
        assertThat(n.get("d")).hasSize(3);
        assertThat(n.get("d").get(2).asBoolean()).isTrue();
    }

    @Test
    void dumpJson_lingeringScope_isListedWithStragglerCount() throws Exception {
        Semaphore never = new Semaphore(0);
        var scope = TaskScope.open(TaskScope.Joiner.awaitAll(), c -> c.withName("json-straggler").withGrace(Duration.ZERO));
        var stubborn = scope.fork("stubborn", () -> {
            never.acquireUninterruptibly();
            return null;
        });
        TestSupport.awaitBlocked(TestSupport.threadOf(stubborn), BLOCKED);
        scope.cancel();
        assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
        assertThatThrownBy(scope::close).isInstanceOf(GracePeriodExceededException.class);
        try {
            JsonNode doc = JSON.readTree(Scopes.dumpJson());
            List<String> roots = new ArrayList<>();
            doc.get("scopes").forEach(r -> {
                if (r.get("listedAs").asText().equals("root")) {
                    roots.add(r.get("name").asText());
                }
            });
            assertThat(roots).doesNotContain("json-straggler");
            JsonNode s = scopeNamed(doc.get("scopes"), "json-straggler");
            assertThat(s.get("listedAs").asText()).isEqualTo("lingering");
            assertThat(s.get("phase").asText()).isEqualTo("closed");
            assertThat(s.get("lingering").asBoolean()).isTrue();
            assertThat(s.get("stragglersAtClose").asInt()).isEqualTo(1);
            assertThat(s.get("graceMillis").asLong()).isZero();
            assertThat(s.at("/tasks/0/name").asText()).isEqualTo("stubborn");
        } finally {
            never.release();
            TestSupport.awaitTerminated(TestSupport.threadOf(stubborn), BLOCKED);
        }
    }

    // ---------------------------------------------------------------------------------------
    // toString

    @Test
    void toString_scopeAndSubtasks_areReadable() throws Exception {
        String owner = Thread.currentThread().getName();
        try (var tree = new StuckTree("ts")) {
            assertThat(tree.scope.toString())
                    .startsWith("TaskScope['ts' open, 3 running, owner '" + owner + "', age ")
                    .containsPattern(", deadline \\S+Z \\(\\d+ s left\\)")
                    .endsWith(", grace 5 s]");
            assertThat(tree.writer.toString()).isEqualTo("Subtask[ts#2 'writer' RUNNING, in critical section 'checkpoint', thread 'ts:writer']");

            tree.scope.cancel(new IOException("disk full"));
            TestSupport.awaitTerminated(TestSupport.threadOf(tree.sleeper), BLOCKED);
            assertThat(tree.scope.toString()).contains(" open, ").endsWith("; cancelled: was cancelled: java.io.IOException: disk full]");
            assertThat(tree.writer.toString()).isEqualTo(
                    "Subtask[ts#2 'writer' RUNNING, cancel requested, in critical section 'checkpoint', thread 'ts:writer']");
            assertThat(tree.sleeper.toString()).isEqualTo("Subtask[ts#1 'sleeper' CANCELLED]");
        }
    }

    @Test
    void toString_failedSubtask_showsTheException() throws Exception {
        try (var scope = TaskScope.open(TaskScope.Joiner.awaitAll(), c -> c.withName("ts-failed"))) {
            var boom = scope.fork(() -> {
                throw new IllegalStateException("boom");
            });
            scope.join();
            assertThat(boom.toString()).isEqualTo("Subtask[ts-failed#1 FAILED: java.lang.IllegalStateException: boom]");
            assertThat(scope.toString()).startsWith("TaskScope['ts-failed' joined, 0 running, ").endsWith(", grace unbounded]");
        }
    }
}

package dev.weft.jmh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.jmh.MemoryFootprintBenchmark.ClassShare;
import dev.weft.jmh.MemoryFootprintBenchmark.Heap;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The class-histogram parsing and the per-class breakdown of {@link MemoryFootprintBenchmark}. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MemoryBreakdownTest {

    private static String histogram(long threads, long chunkBytes, long tasks, long strings) {
        return histogram(threads, chunkBytes, tasks, strings, 16);
    }

    /** A class histogram as GC.class_histogram prints it; {@code arrayBytes}: one {@code Thread[]} of that size. */
    private static String histogram(long threads, long chunkBytes, long tasks, long strings, long arrayBytes) {
        return """
                 num     #instances         #bytes  class name (module)
                -------------------------------------------------------
                   1:       %d       %d  jdk.internal.vm.StackChunk (java.base@25.0.3)
                   2:       %d       %d  java.lang.VirtualThread (java.base@25.0.3)
                   3:       %d       %d  dev.weft.Task
                   4:       %d       %d  java.lang.String (java.base@25.0.3)
                   5:            3             72  dev.weft.TaskScopeImpl
                   6:            1       %d  [Ljava.lang.Thread; (java.base@25.0.3)
                Total       %d       %d
                """.formatted(threads, chunkBytes, threads, threads * 224, tasks, tasks * 80, strings, strings * 24,
                arrayBytes, 2 * threads + tasks + strings + 4,
                chunkBytes + threads * 224 + tasks * 80 + strings * 24 + 72 + arrayBytes);
    }

    @Test
    void parse_readsTotalStacksAndEveryClass() {
        Heap h = Heap.parse(histogram(10, 3000, 10, 5));
        assertThat(h.stacks()).isEqualTo(3000);
        assertThat(h.total()).isEqualTo(3000 + 2240 + 800 + 120 + 72 + 16);
        assertThat(h.classes().get("dev.weft.Task")).containsExactly(10, 800);
        assertThat(h.classes().get("java.lang.VirtualThread")).containsExactly(10, 2240);
    }

    @Test
    void parse_withoutTotal_failsSayingWhatItGot() {
        assertThatThrownBy(() -> Heap.parse("nothing useful"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("unexpected GC.class_histogram output");
    }

    @Test
    void breakdown_listsPerChildClassesWithBytesPerChild() {
        int n = 1000;
        Heap before = Heap.parse(histogram(0, 0, 0, 100));
        Heap during = Heap.parse(histogram(n, 300 * n, n, 110, 16 + 4 * n));   // the harness's thread array
        Heap after = Heap.parse(histogram(0, 0, 0, 120));
        List<ClassShare> shares = ClassShare.of(before, during, after, n);
        assertThat(shares).extracting(ClassShare::name)
                .containsExactly("jdk.internal.vm.StackChunk", "java.lang.VirtualThread", "dev.weft.Task", "[Ljava.lang.Thread;");
        assertThat(shares.get(3).bytesPerChild()).isEqualTo(4.0);          // one object, but 4 bytes per child
        ClassShare task = shares.get(2);
        assertThat(task.instancesPerChild()).isEqualTo(1.0);
        assertThat(task.bytesPerChild()).isEqualTo(80.0);
        // Strings: 110 - (100 + 120) / 2 = 0 per child; TaskScopeImpl: watched, but 0 bytes per child: both left out
        String text = ClassShare.format(shares, "WEFT, n=" + n);
        assertThat(text).contains("dev.weft.Task").contains("(sum of these rows)").contains("608.0");
        assertThat(text).contains("dev.weft.Task object internals");      // JOL's field layout
        assertThat(text).contains("[Ljava.lang.Thread;: an array");
        assertThat(text.lines()).allMatch(l -> l.startsWith("#") || l.isEmpty());
    }
}

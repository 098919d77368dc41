package dev.weft.jmh;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link Compare}'s target lines: verdicts on pooled medians, per-round distributions, linearity, absent rows. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CompareTest {

    @TempDir
    Path dir;

    private final List<Path> files = new ArrayList<>();

    /** One JMH result (one fork) in JMH's JSON shape, in a file of round {@code round}. */
    private void result(int round, String benchmark, String params, String unit, double... samples) throws Exception {
        StringBuilder raw = new StringBuilder();
        for (double v : samples) {
            raw.append(raw.length() == 0 ? "" : ", ").append(v);
        }
        String json = String.format(Locale.ROOT, """
                [ { "benchmark" : "dev.weft.jmh.%s", "mode" : "ss", "params" : { %s },
                    "jdkVersion" : "25", "vmName" : "test", "vmVersion" : "1",
                    "primaryMetric" : { "score" : %s, "scoreError" : "NaN", "scoreUnit" : "%s",
                                        "scorePercentiles" : { "50.0" : %s }, "rawData" : [ [ %s ] ] } } ]
                """, benchmark, params, samples[0], unit, Compare.median(samples), raw);
        Path f = dir.resolve(String.format(Locale.ROOT, "T-interleaved-r%02d-%03d.json", round, files.size()));
        Files.writeString(f, json);
        files.add(f);
    }

    private void park(int round, int n, String peer, double... micros) throws Exception {
        result(round, n == 1_000_000 ? "CancelLatencyBenchmark.parkMillion" : "CancelLatencyBenchmark.park",
                "\"n\" : \"" + n + "\", \"peer\" : \"" + peer + "\"", "us/op", micros);
    }

    private List<String> targets() throws Exception {
        Path table = dir.resolve("table.txt");
        List<String> args = new ArrayList<>(List.of("-o", table.toString()));
        files.forEach(f -> args.add(f.toString()));
        Compare.main(args.toArray(String[]::new));
        List<String> lines = Files.readAllLines(table);
        return lines.subList(lines.indexOf(lines.stream().filter(l -> l.startsWith("Targets")).findFirst().orElseThrow()),
                lines.size());
    }

    /** The target line that starts with {@code what}, and the line after it. */
    private static String line(List<String> lines, String what) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().startsWith(what)) {
                return lines.get(i) + (i + 1 < lines.size() ? "\n" + lines.get(i + 1) : "");
            }
        }
        throw new AssertionError("no line '" + what + "' in\n" + String.join("\n", lines));
    }

    @Test
    void roundOf_readsTheRoundFromInterleavedFileNames() {
        assertThat(Compare.roundOf(Path.of("20261126T164914Z-interleaved-r07-012-park-1000000-RAW.json"))).isEqualTo(7);
        assertThat(Compare.roundOf(Path.of("20261122T051825Z-park.json"))).isEqualTo(-1);
    }

    @Test
    void cancelLatency_pooledVerdictAndPerRoundDistribution() throws Exception {
        // per-round WEFT_CANCEL / JDK_STS: 0.8, 0.9, 1.1 -> met in 2 of 3; pooled 90 vs 100 -> 0.90 met
        double[][] weft = {{80}, {90}, {110}};
        for (int r = 1; r <= 3; r++) {
            park(r, 10_000, "WEFT_CANCEL", weft[r - 1]);
            park(r, 10_000, "JDK_STS", 100);
            park(r, 10_000, "RAW", 50);
        }
        List<String> t = targets();
        assertThat(line(t, "cancel latency, 10000 parked, WEFT_CANCEL <= 1.0 x JDK_STS"))
                .contains(" met ").contains("0.90 (90.00 vs 100.0 us/op)")
                .contains("rounds: 0.80 / 0.90 / 1.10, met in 2 of 3 rounds");
        assertThat(line(t, "cancel latency, 10000 parked, WEFT_CANCEL <= 1.1 x RAW"))
                .contains("not met").contains("1.80").contains("met in 0 of 3 rounds");
        assertThat(line(t, "cancel latency, 10000 parked, WEFT_SIBLING <= 1.0 x JDK_STS")).contains("not measured");
        assertThat(line(t, "cancel latency, 100000 parked, WEFT_CANCEL <= 1.0 x JDK_STS")).contains("not measured");
    }

    @Test
    void linearity_comparesTimePerChildAtAMillionWithThatAt100000() throws Exception {
        park(1, 100_000, "WEFT_CANCEL", 100_000);      // 1 us per child
        park(1, 1_000_000, "WEFT_CANCEL", 1_300_000);  // 1.3 us per child: not linear enough
        park(1, 100_000, "WEFT_SIBLING", 100_000);
        park(1, 1_000_000, "WEFT_SIBLING", 1_150_000); // 1.15
        park(1, 100_000, "RAW", 100_000);
        park(1, 1_000_000, "RAW", 2_000_000);
        List<String> t = targets();
        assertThat(line(t, "cancel latency per child, 1000000 parked, WEFT_CANCEL <= 1.2 x at 100000"))
                .contains("not met").contains("1.30").contains("per child");
        assertThat(line(t, "cancel latency per child, 1000000 parked, WEFT_SIBLING <= 1.2 x at 100000"))
                .contains(" met ").contains("1.15");
        assertThat(line(t, "cancel latency per child, 1000000 parked, RAW")).contains("(info)").contains("2.00");
    }

    @Test
    void absentBenchmarks_areNotMeasured_andGrpcPointsToItsHarness() throws Exception {
        park(1, 10_000, "WEFT_CANCEL", 1);
        List<String> t = targets();
        assertThat(line(t, "fork + join 10000 trivial tasks")).contains("not measured");
        assertThat(line(t, "isRequested()")).contains("not measured");
        assertThat(line(t, "critical section enter + exit <= 30 ns")).contains("not measured");
        assertThat(line(t, "retained heap per parked child incl. stack, WEFT <= 1.1 x JDK_STS (checked=false)"))
                .contains("not measured");
        assertThat(line(t, "fork + join with a context propagator of 3 values <= 1.2 x without"))
                .contains("not measured").contains("no ContextForkJoinBenchmark results");
        assertThat(line(t, "cross-process cancel, loopback gRPC")).contains("see grpc/README.md");
    }

    @Test
    void criticalSection_isJudgedInNanoseconds() throws Exception {
        for (int r = 1; r <= 2; r++) {
            result(r, "CriticalSectionBenchmark.enterExit", "", "ns/op", r == 1 ? 25 : 35);
        }
        assertThat(line(targets(), "critical section enter + exit <= 30 ns"))
                .contains(" met ").contains("30.00 ns/op").contains("met in 1 of 2 rounds");
    }

    @Test
    void contextPropagator_comparesThreadLocals3WithNoContext() throws Exception {
        for (String[] row : new String[][] {{"NO_CONTEXT", "1000"}, {"THREAD_LOCALS_3", "1250"}, {"BY_HAND", "1100"}}) {
            result(1, "ContextForkJoinBenchmark.forkJoin", "\"n\" : \"10000\", \"peer\" : \"" + row[0] + "\"", "us/op",
                    Double.parseDouble(row[1]));
        }
        assertThat(line(targets(), "fork + join with a context propagator of 3 values"))
                .contains("not met").contains("1.25 (1250 vs 1000 us/op)");
    }

    @Test
    void contextPropagator_pairsThreeValuesWithNoneAtN10000() throws Exception {
        result(1, "ContextForkJoinBenchmark.forkJoin", "\"n\" : \"10\", \"propagator\" : \"NONE\"", "us/op", 10);
        result(1, "ContextForkJoinBenchmark.forkJoin", "\"n\" : \"10\", \"propagator\" : \"THREE\"", "us/op", 100);
        result(1, "ContextForkJoinBenchmark.forkJoin", "\"n\" : \"10000\", \"propagator\" : \"NONE\"", "us/op", 1000);
        result(1, "ContextForkJoinBenchmark.forkJoin", "\"n\" : \"10000\", \"propagator\" : \"ONE\"", "us/op", 1050);
        result(1, "ContextForkJoinBenchmark.forkJoin", "\"n\" : \"10000\", \"propagator\" : \"THREE\"", "us/op", 1150);
        assertThat(line(targets(), "fork + join with a context propagator of 3 values"))
                .contains(" met ").contains("1.15 (1150 vs 1000 us/op)");
    }
}

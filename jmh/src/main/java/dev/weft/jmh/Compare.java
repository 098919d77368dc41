package dev.weft.jmh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prints JMH's JSON results ({@code -rf json}) as comparison tables: per row the median, the error
 * JMH reports (half-width of the 99.9% confidence interval of the mean), the sample count, and, for
 * each peer that is not Weft, the ratio {@code Weft median ÷ peer median} for every Weft variant in
 * the same group. Then every target of the performance contract (jmh/README.md), met or not met, from
 * the same numbers; with, for an interleaved run, the distribution of the target's ratio over the
 * rounds (min / median / max, and in how many rounds it was met).
 *
 * <p>{@code java -cp benchmarks.jar dev.weft.jmh.Compare [-o table.txt] results.json...} (or
 * {@code jmh/run.sh --class dev.weft.jmh.Compare ...}); several files are merged, and rows of the
 * same benchmark, parameters and peer found in several files (an interleaved run,
 * {@code jmh/interleave.sh}) are pooled into one. A file named {@code *-interleaved-r<k>-*.json}
 * belongs to round k. JDK-only: a small JSON reader is included.
 */
public final class Compare {

    private Compare() {
    }

    /**
     * One line of a table: a peer (or a benchmark method, for classes without peers); {@code rounds}
     * keeps the samples of each round of an interleaved run (key: the round number in the file
     * name, see {@link #roundOf}), empty for files that are not from {@code interleave.sh}.
     */
    record Row(String label, double median, double error, int samples, String unit, double[] raw,
               Map<Integer, double[]> rounds) {
        boolean isWeft() {
            return label.toUpperCase(Locale.ROOT).startsWith("WEFT");
        }

        /** The median of each round's samples, by round. */
        Map<Integer, Double> roundMedians() {
            Map<Integer, Double> m = new TreeMap<>();
            rounds.forEach((r, v) -> m.put(r, Compare.median(v)));
            return m;
        }
    }

    /** Rows that differ only by peer: same benchmark, same other parameters. */
    record Group(String title, List<Row> rows) {
        /**
         * Adds {@code r}, or pools it with the row of the same label from another file (an
         * interleaved run: one fork per peer per round): the samples are merged, the median is
         * that of all of them, and the error is recomputed the way JMH computes it (half-width of
         * the 99.9% confidence interval of the mean, Student's t).
         */
        void add(Row r) {
            for (int i = 0; i < rows.size(); i++) {
                Row old = rows.get(i);
                if (old.label.equals(r.label) && old.raw.length > 0 && r.raw.length > 0) {
                    double[] all = concat(old.raw, r.raw);
                    Map<Integer, double[]> rounds = new TreeMap<>(old.rounds);
                    r.rounds.forEach((k, v) -> rounds.merge(k, v, Compare::concat));
                    rows.set(i, new Row(r.label, median(all), error999(all), all.length, r.unit, all, rounds));
                    return;
                }
            }
            rows.add(r);
        }

        Row row(String label) {
            for (Row r : rows) {
                if (r.label.equals(label)) {
                    return r;
                }
            }
            return null;
        }
    }

    public static void main(String[] args) throws IOException {
        Path table = null;
        List<Path> files = new ArrayList<>();
        for (int a = 0; a < args.length; a++) {
            if (args[a].equals("-o") && a + 1 < args.length) {
                table = Path.of(args[++a]);
            } else {
                files.add(Path.of(args[a]));
            }
        }
        if (files.isEmpty()) {
            System.err.println("usage: Compare [-o table.txt] jmh-result.json...");
            System.exit(2);
        }
        List<Object> results = new ArrayList<>();
        List<Integer> rounds = new ArrayList<>();
        for (Path f : files) {
            List<Object> parsed = asList(new Json(Files.readString(f)).parse());
            results.addAll(parsed);
            for (int k = 0; k < parsed.size(); k++) {
                rounds.add(roundOf(f));
            }
        }
        Map<String, Group> groups = group(results, rounds);
        StringBuilder out = new StringBuilder();
        header(out, results, files);
        for (Group g : groups.values()) {
            table(out, g);
        }
        targets(out, groups);
        System.out.print(out);
        if (table != null) {
            Files.writeString(table, out, StandardCharsets.UTF_8);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Grouping

    /** Interleaved runs name their files {@code <stamp>-interleaved-r<round>-...json}. */
    private static final java.util.regex.Pattern ROUND = java.util.regex.Pattern.compile("-interleaved-r(\\d+)-");

    /** The round of an interleaved run a JSON file belongs to (from its name), or -1. */
    static int roundOf(Path file) {
        java.util.regex.Matcher m = ROUND.matcher(file.getFileName().toString());
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    static double[] concat(double[] a, double[] b) {
        double[] all = new double[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static Map<String, Group> group(List<Object> results, List<Integer> rounds) {
        Map<String, Group> groups = new LinkedHashMap<>();
        for (int index = 0; index < results.size(); index++) {
            Map<String, Object> r = asMap(results.get(index));
            int round = rounds.get(index);
            String benchmark = ((String) r.get("benchmark")).replaceFirst("^.*\\.([A-Za-z0-9]+Benchmark)\\.", "$1.");
            String cls = benchmark.substring(0, benchmark.indexOf('.'));
            String method = benchmark.substring(benchmark.indexOf('.') + 1);
            Map<String, Object> params = r.get("params") == null ? Map.of() : asMap(r.get("params"));
            Object peer = params.get("peer");
            Map<String, Object> others = new TreeMap<>(params);
            others.remove("peer");
            String suffix = (others.isEmpty() ? "" : " " + others) + " [" + r.get("mode") + "]";
            String label = peer != null ? (String) peer : method;
            Map<String, Object> secondary = r.get("secondaryMetrics") == null ? Map.of() : asMap(r.get("secondaryMetrics"));
            List<String> perChild = secondary.keySet().stream().filter(k -> k.endsWith("PerChild")).toList();
            if (!perChild.isEmpty()) {                // MemoryFootprint: one block per metric, in bytes
                for (String k : perChild) {
                    String title = benchmark + ":" + k + suffix;
                    groups.computeIfAbsent(title, t -> new Group(t, new ArrayList<>()))
                            .add(row(label, asMap(secondary.get(k)), "B/child", round));
                }
                continue;
            }
            String title = (peer == null ? cls : benchmark) + suffix;
            Group g = groups.computeIfAbsent(title, t -> new Group(t, new ArrayList<>()));
            g.add(row(label, asMap(r.get("primaryMetric")), null, round));
            if (peer == null) {                       // a @Group benchmark: one row per thread role
                for (Map.Entry<String, Object> e : secondary.entrySet()) {
                    g.add(row(label + ":" + e.getKey(), asMap(e.getValue()), null, round));
                }
            }
        }
        return groups;
    }

    private static Row row(String label, Map<String, Object> metric, String unit, int round) {
        Map<String, Object> pct = metric.get("scorePercentiles") == null ? Map.of() : asMap(metric.get("scorePercentiles"));
        double median = pct.containsKey("50.0") ? num(pct.get("50.0")) : num(metric.get("score"));
        List<Double> samples = new ArrayList<>();
        Object raw = metric.get("rawData");
        if (raw != null) {
            for (Object fork : asList(raw)) {
                for (Object v : asList(fork)) {
                    samples.add(num(v));
                }
            }
        }
        double[] values = samples.stream().mapToDouble(Double::doubleValue).toArray();
        Map<Integer, double[]> rounds = new TreeMap<>();
        if (round >= 0 && values.length > 0) {
            rounds.put(round, values);
        }
        return new Row(label, median, num(metric.get("scoreError")), values.length,
                unit != null ? unit : (String) metric.get("scoreUnit"), values, rounds);
    }

    static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /**
     * Half-width of the 99.9% confidence interval of the mean, as JMH reports it; Student's t
     * quantile from the Cornish-Fisher expansion around the normal one (within 1% for 10 or more
     * samples). NaN below 2 samples.
     */
    static double error999(double[] v) {
        int n = v.length;
        if (n < 2) {
            return Double.NaN;
        }
        double mean = 0;
        for (double x : v) {
            mean += x;
        }
        mean /= n;
        double ss = 0;
        for (double x : v) {
            ss += (x - mean) * (x - mean);
        }
        double sd = Math.sqrt(ss / (n - 1));
        double z = 3.2905267;                         // the normal 0.9995 quantile
        double df = n - 1;
        double t = z + (z * z * z + z) / (4 * df)
                + (5 * Math.pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * df * df)
                + (3 * Math.pow(z, 7) + 19 * Math.pow(z, 5) + 17 * z * z * z - 15 * z) / (384 * df * df * df);
        return t * sd / Math.sqrt(n);
    }

    // ---------------------------------------------------------------------------------------
    // Printing

    private static void header(StringBuilder out, List<Object> results, List<Path> files) {
        String jdk = "?";
        String vm = "?";
        if (!results.isEmpty()) {
            Map<String, Object> first = asMap(results.get(0));
            jdk = String.valueOf(first.get("jdkVersion"));
            vm = first.get("vmName") + " " + first.get("vmVersion");
        }
        out.append(String.format(Locale.ROOT, "JMH results %s%nJDK %s (%s), %d CPUs%n"
                + "median | error = JMH's 99.9%% CI half-width of the mean | n = samples | ratio = Weft median / this row's median%n",
                files, jdk, vm, Runtime.getRuntime().availableProcessors()));
    }

    private static void table(StringBuilder out, Group g) {
        List<Row> weft = g.rows.stream().filter(Row::isWeft).toList();
        boolean ratios = !weft.isEmpty() && weft.size() < g.rows.size();
        Row raw = g.row("RAW");
        boolean beyondRaw = raw != null && "B/child".equals(raw.unit);
        out.append('\n').append(g.title).append('\n');
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "  %-28s %12s %11s %4s  %-8s", "", "median", "error", "n", "unit"));
        if (beyondRaw) {
            head.append(String.format(Locale.ROOT, " %12s", "beyond RAW"));
        }
        if (ratios) {
            for (Row w : weft) {
                head.append(' ').append(w.label).append("/row");
            }
        }
        out.append(head).append('\n');
        for (Row r : g.rows) {
            out.append(String.format(Locale.ROOT, "  %-28s %12s %11s %4d  %-8s", r.label, fmt(r.median),
                    Double.isNaN(r.error) ? "-" : "±" + fmt(r.error), r.samples, r.unit));
            if (beyondRaw) {
                out.append(String.format(Locale.ROOT, " %12s", fmt(r.median - raw.median)));
            }
            if (ratios) {
                for (Row w : weft) {
                    String cell = r.isWeft() ? "" : ratio(w.median, r.median);
                    out.append(String.format(Locale.ROOT, " %" + (w.label.length() + 4) + "s", cell));
                }
            }
            out.append('\n');
        }
    }

    private static String ratio(double a, double b) {
        return b > 0 && !Double.isNaN(a) ? String.format(Locale.ROOT, "%.2f", a / b) : "-";
    }

    private static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        double a = Math.abs(v);
        String f = a >= 1000 ? "%.0f" : a >= 100 ? "%.1f" : a >= 10 ? "%.2f" : "%.3f";
        return String.format(Locale.ROOT, f, v);
    }

    // ---------------------------------------------------------------------------------------
    // Targets: the performance contract (jmh/README.md), every target, met or not met, never loosened

    /** Bounds of the performance contract. */
    static final double CANCEL_VS_STS = 1.0;
    static final double CANCEL_VS_RAW = 1.1;
    static final double LINEARITY = 1.2;
    static final double FORK_JOIN_VS_STS = 1.0;
    static final double IS_REQUESTED_VS_VOLATILE = 2.0;
    static final double CRITICAL_NANOS = 30;
    static final double HEAP_VS_STS = 1.1;
    static final double CONTEXT_VS_NONE = 1.2;

    private static final String[] WEFT_CANCEL_PEERS = {"WEFT_CANCEL", "WEFT_SIBLING"};

    private static void targets(StringBuilder out, Map<String, Group> groups) {
        out.append("\nTargets (the performance contract, jmh/README.md): verdict on the pooled medians;"
                + " \"rounds\": the same ratio in each round of an interleaved run, min / median / max\n");
        for (String n : new String[] {"10000", "100000"}) {
            Group park = find(groups, "CancelLatencyBenchmark.park {n=" + n + "}");
            for (String w : WEFT_CANCEL_PEERS) {
                ratioTarget(out, "cancel latency, " + n + " parked, " + w + " <= " + CANCEL_VS_STS + " x JDK_STS",
                        park, w, park, "JDK_STS", CANCEL_VS_STS, 1);
                ratioTarget(out, "cancel latency, " + n + " parked, " + w + " <= " + CANCEL_VS_RAW + " x RAW",
                        park, w, park, "RAW", CANCEL_VS_RAW, 1);
            }
        }
        // Linearity: (time at 1 000 000 / 1 000 000) / (time at 100 000 / 100 000)
        Group million = find(groups, "CancelLatencyBenchmark.parkMillion {n=1000000}");
        Group hundred = find(groups, "CancelLatencyBenchmark.park {n=100000}");
        for (String peer : new String[] {"WEFT_CANCEL", "WEFT_SIBLING", "JDK_STS", "RAW", "KOTLIN"}) {
            boolean judged = peer.startsWith("WEFT");
            String what = "cancel latency per child, 1000000 parked, " + peer + " <= " + LINEARITY + " x at 100000"
                    + (judged ? "" : " (information)");
            if (judged || (million != null && million.row(peer) != null)) {
                ratioTarget(out, what, million, peer, hundred, peer, judged ? LINEARITY : Double.NaN, 0.1);
            }
        }
        ratioTarget(out, "fork + join 10000 trivial tasks, WEFT <= " + FORK_JOIN_VS_STS + " x JDK_STS",
                find(groups, "ForkJoinBenchmark.forkJoin {n=10000}"), "WEFT",
                find(groups, "ForkJoinBenchmark.forkJoin {n=10000}"), "JDK_STS", FORK_JOIN_VS_STS, 1);
        Group check = find(groups, "CheckCostBenchmark");
        ratioTarget(out, "isRequested() <= " + IS_REQUESTED_VS_VOLATILE + " x volatile read",
                check, "weftIsRequested", check, "volatileRead", IS_REQUESTED_VS_VOLATILE, 1);
        Group cs = find(groups, "CriticalSectionBenchmark");
        absoluteTarget(out, String.format(Locale.ROOT, "critical section enter + exit <= %.0f ns", CRITICAL_NANOS),
                cs == null ? null : cs.row("enterExit"), CRITICAL_NANOS);
        // Memory: everything a parked child retains, its stack chunks included
        for (String checked : new String[] {"false", "true"}) {
            Group m = find(groups, "MemoryFootprintBenchmark.retained:bytesPerChild {checked=" + checked);
            ratioTarget(out, "retained heap per parked child incl. stack, WEFT <= " + HEAP_VS_STS
                    + " x JDK_STS (checked=" + checked + ")", m, "WEFT", m, "JDK_STS", HEAP_VS_STS, 1);
            Row weft = m == null ? null : m.row("WEFT");
            Row sts = m == null ? null : m.row("JDK_STS");
            Row raw = m == null ? null : m.row("RAW");
            if (weft != null && sts != null && raw != null) {
                double w = weft.median - raw.median;
                double st = sts.median - raw.median;
                info(out, "  of which beyond a raw virtual thread (checked=" + checked + ")",
                        String.format(Locale.ROOT, "%s vs %s B/child = %s", fmt(w), fmt(st), ratio(w, st)));
            }
        }
        contextTarget(out, groups);
        line(out, "cross-process cancel, loopback gRPC, <= 1.2 x plain gRPC Context cancellation",
                "see grpc/README.md", "measured by the harness in grpc/, not by JMH");
    }

    /**
     * A target {@code a <= bound x b}, where a is row {@code wa} of group {@code ga} and b row
     * {@code wb} of group {@code gb}; {@code scale} multiplies the ratio (0.1 turns "time at 10 x N"
     * into "time per child" for the linearity target). A NaN bound prints the ratio as information.
     */
    private static void ratioTarget(StringBuilder out, String what, Group ga, String wa, Group gb, String wb,
                                    double bound, double scale) {
        Row a = ga == null ? null : ga.row(wa);
        Row b = gb == null ? null : gb.row(wb);
        if (a == null || b == null) {
            String missing = a == null && b == null ? ""
                    : a == null ? (ga == null ? "its benchmark was not run" : "no " + wa + " row")
                    : (gb == null ? "the benchmark to compare with was not run" : "no " + wb + " row");
            line(out, what, "not measured", missing);
            return;
        }
        double pooled = scale * a.median / b.median;
        String detail = String.format(Locale.ROOT, "%.2f (%s vs %s %s%s)", pooled, fmt(a.median), fmt(b.median), a.unit,
                scale == 1 ? "" : ", per child");
        line(out, what, Double.isNaN(bound) ? "(info)" : pooled <= bound ? "met" : "not met", detail);
        Map<Integer, Double> ra = a.roundMedians();
        Map<Integer, Double> rb = b.roundMedians();
        List<Double> perRound = new ArrayList<>();
        for (Map.Entry<Integer, Double> e : ra.entrySet()) {
            Double other = rb.get(e.getKey());
            if (other != null && other > 0) {
                perRound.add(scale * e.getValue() / other);
            }
        }
        rounds(out, perRound, bound, "%.2f");
    }

    /** A target {@code row <= bound} in the row's own unit. */
    private static void absoluteTarget(StringBuilder out, String what, Row r, double bound) {
        if (r == null) {
            line(out, what, "not measured", "");
            return;
        }
        line(out, what, r.median <= bound ? "met" : "not met",
                fmt(r.median) + " " + r.unit + (Double.isNaN(r.error) ? "" : " ±" + fmt(r.error)));
        rounds(out, new ArrayList<>(r.roundMedians().values()), bound, r.median >= 100 ? "%.0f" : "%.2f");
    }

    /** The distribution of a target's per-round values, when there are two rounds or more. */
    private static void rounds(StringBuilder out, List<Double> perRound, double bound, String format) {
        if (perRound.size() < 2) {
            return;
        }
        double[] v = perRound.stream().mapToDouble(Double::doubleValue).toArray();
        java.util.Arrays.sort(v);
        int met = 0;
        for (double x : v) {
            if (x <= bound) {
                met++;
            }
        }
        String f = format + " / " + format + " / " + format;
        out.append(String.format(Locale.ROOT, "      rounds: " + f + "%s%n", v[0], median(v), v[v.length - 1],
                Double.isNaN(bound) ? "" : String.format(Locale.ROOT, ", met in %d of %d rounds", met, v.length)));
    }

    /**
     * Fork + join with a context propagator of 3 values against none ({@code ContextForkJoinBenchmark}):
     * the baseline is the row (label or parameters) that says none / without / baseline, the other
     * the one that says 3 / three / with; at N = 10 000 if the benchmark has an {@code n}.
     */
    private static void contextTarget(StringBuilder out, Map<String, Group> groups) {
        String what = "fork + join with a context propagator of 3 values <= " + CONTEXT_VS_NONE + " x without";
        List<Group> context = new ArrayList<>();
        for (Group g : groups.values()) {
            if (g.title.startsWith("ContextForkJoinBenchmark")) {
                context.add(g);
            }
        }
        if (context.stream().anyMatch(g -> g.title.contains("n=10000,") || g.title.contains("n=10000}"))) {
            context.removeIf(g -> !(g.title.contains("n=10000,") || g.title.contains("n=10000}")));
        }
        Group gBase = null, gWith = null;
        String base = null, with = null;
        // the baseline first; then the row that names three values, else one that says "with"
        String[] withPatterns = {".*(THREE|[^0-9]3[^0-9]|[^0-9]3$).*", ".*(WITH|PROPAGAT).*"};
        for (Group g : context) {
            for (Row r : g.rows) {
                if (base == null && key(g, r).matches(".*(NONE|WITHOUT|BASELINE|NO_CONTEXT|NOCONTEXT|PLAIN).*")) {
                    gBase = g;
                    base = r.label;
                }
            }
        }
        for (String pattern : withPatterns) {
            for (Group g : context) {
                for (Row r : g.rows) {
                    if (with == null && !(g == gBase && r.label.equals(base)) && key(g, r).matches(pattern)) {
                        gWith = g;
                        with = r.label;
                    }
                }
            }
        }
        if (context.isEmpty()) {
            line(out, what, "not measured", "no ContextForkJoinBenchmark results");
        } else if (base == null || with == null) {
            line(out, what, "not measured", "ContextForkJoinBenchmark rows not recognised (see jmh/README.md)");
        } else {
            ratioTarget(out, what, gWith, with, gBase, base, CONTEXT_VS_NONE, 1);
        }
    }

    /** What identifies a row of ContextForkJoinBenchmark: its group's parameters and its label, upper case, without the class name. */
    private static String key(Group g, Row r) {
        return (g.title.replaceFirst("^ContextForkJoinBenchmark", "") + " " + r.label).toUpperCase(Locale.ROOT);
    }

    private static Group find(Map<String, Group> groups, String prefix) {
        for (Group g : groups.values()) {
            if (g.title.startsWith(prefix)) {
                return g;
            }
        }
        return null;
    }

    private static void line(StringBuilder out, String what, String verdict, String detail) {
        out.append(String.format(Locale.ROOT, "  %-86s %-12s %s%n", what, verdict, detail));
    }

    private static void info(StringBuilder out, String what, String detail) {
        line(out, what, "(info)", detail);
    }

    // ---------------------------------------------------------------------------------------
    // A small JSON reader: objects, arrays, strings, numbers, true/false/null.

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> asList(Object o) {
        return (List<Object>) o;
    }

    private static double num(Object o) {
        if (o instanceof Number n) {
            return n.doubleValue();
        }
        if (o instanceof String s) {           // JMH writes "NaN" for an error it could not compute
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object parse() {
            Object v = value();
            skip();
            if (i != s.length()) {
                throw error("trailing characters");
            }
            return v;
        }

        private Object value() {
            skip();
            if (i >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(i);
            switch (c) {
                case '{':
                    return object();
                case '[':
                    return array();
                case '"':
                    return string();
                default:
                    if (s.startsWith("true", i)) {
                        i += 4;
                        return Boolean.TRUE;
                    }
                    if (s.startsWith("false", i)) {
                        i += 5;
                        return Boolean.FALSE;
                    }
                    if (s.startsWith("null", i)) {
                        i += 4;
                        return null;
                    }
                    return number();
            }
        }

        private Map<String, Object> object() {
            Map<String, Object> m = new LinkedHashMap<>();
            i++;
            skip();
            if (peek() == '}') {
                i++;
                return m;
            }
            for (;;) {
                skip();
                String k = string();
                skip();
                expect(':');
                m.put(k, value());
                skip();
                if (peek() == ',') {
                    i++;
                } else {
                    expect('}');
                    return m;
                }
            }
        }

        private List<Object> array() {
            List<Object> l = new ArrayList<>();
            i++;
            skip();
            if (peek() == ']') {
                i++;
                return l;
            }
            for (;;) {
                l.add(value());
                skip();
                if (peek() == ',') {
                    i++;
                } else {
                    expect(']');
                    return l;
                }
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            for (;;) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n' -> b.append('\n');
                        case 't' -> b.append('\t');
                        case 'r' -> b.append('\r');
                        case 'b' -> b.append('\b');
                        case 'f' -> b.append('\f');
                        case 'u' -> {
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> b.append(e);
                    }
                } else {
                    b.append(c);
                }
            }
        }

        private Double number() {
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            if (start == i) {
                throw error("unexpected character '" + s.charAt(i) + "'");
            }
            return Double.valueOf(s.substring(start, i));
        }

        private void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private char peek() {
            return i < s.length() ? s.charAt(i) : '\0';
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            i++;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("JSON: " + what + " at offset " + i);
        }
    }
}

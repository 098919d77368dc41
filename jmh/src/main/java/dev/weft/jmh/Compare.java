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
 * the same group. Then the targets of docs/design.md, each met or not met, from the same numbers.
 *
 * <p>{@code java -cp benchmarks.jar dev.weft.jmh.Compare [-o table.txt] results.json...} (or
 * {@code jmh/run.sh --class dev.weft.jmh.Compare ...}); several files are merged, and rows of the same benchmark, parameters and peer found in several files (an interleaved run, {@code jmh/interleave.sh}) are pooled into one. JDK-only: a small
 * JSON reader is included.
 */
public final class Compare {

    private Compare() {
    }

    /** One line of a table: a peer (or a benchmark method, for classes without peers). */
    record Row(String label, double median, double error, int samples, String unit, double[] raw) {
        boolean isWeft() {
            return label.toUpperCase(Locale.ROOT).startsWith("WEFT");
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
                    double[] all = new double[old.raw.length + r.raw.length];
                    System.arraycopy(old.raw, 0, all, 0, old.raw.length);
                    System.arraycopy(r.raw, 0, all, old.raw.length, r.raw.length);
                    rows.set(i, new Row(r.label, median(all), error999(all), all.length, r.unit, all));
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
        for (Path f : files) {
            results.addAll(asList(new Json(Files.readString(f)).parse()));
        }
        Map<String, Group> groups = group(results);
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

    private static Map<String, Group> group(List<Object> results) {
        Map<String, Group> groups = new LinkedHashMap<>();
        for (Object o : results) {
            Map<String, Object> r = asMap(o);
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
                            .add(row(label, asMap(secondary.get(k)), "B/child"));
                }
                continue;
            }
            String title = (peer == null ? cls : benchmark) + suffix;
            Group g = groups.computeIfAbsent(title, t -> new Group(t, new ArrayList<>()));
            g.add(row(label, asMap(r.get("primaryMetric")), null));
            if (peer == null) {                       // a @Group benchmark: one row per thread role
                for (Map.Entry<String, Object> e : secondary.entrySet()) {
                    g.rows.add(row(label + ":" + e.getKey(), asMap(e.getValue()), null));
                }
            }
        }
        return groups;
    }

    private static Row row(String label, Map<String, Object> metric, String unit) {
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
        return new Row(label, median, num(metric.get("scoreError")), values.length,
                unit != null ? unit : (String) metric.get("scoreUnit"), values);
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
    // Targets (docs/design.md, "Performance targets")

    private static void targets(StringBuilder out, Map<String, Group> groups) {
        out.append("\nTargets (docs/design.md)\n");
        for (String n : new String[] {"10000", "100000"}) {
            Group park = find(groups, "CancelLatencyBenchmark.park {n=" + n + "}");
            for (String w : new String[] {"WEFT_CANCEL", "WEFT_SIBLING"}) {
                target(out, "cancel latency, " + n + " parked, " + w + " <= 0.8 x JDK_STS", park, w, "JDK_STS", 0.8);
                target(out, "cancel latency, " + n + " parked, " + w + " <= 1.1 x RAW", park, w, "RAW", 1.1);
            }
        }
        target(out, "fork + join 10000 trivial tasks, WEFT <= 1.0 x JDK_STS",
                find(groups, "ForkJoinBenchmark.forkJoin {n=10000}"), "WEFT", "JDK_STS", 1.0);
        target(out, "isRequested() <= 2 x volatile read",
                find(groups, "CheckCostBenchmark"), "weftIsRequested", "volatileRead", 2.0);
        Group cs = find(groups, "CriticalSectionBenchmark");
        Row ee = cs == null ? null : cs.row("enterExit");
        line(out, "critical section enter + exit <= 30 ns", ee == null ? null : ee.median <= 30,
                ee == null ? "" : fmt(ee.median) + " " + ee.unit);
        // Memory: judged on the objects other than stacks, which are deterministic; the total
        // (with the stack chunks, whose size the JIT decides, +-50 B per fork) is shown for information.
        for (String checked : new String[] {"false", "true"}) {
            for (String metric : new String[] {"otherBytesPerChild", "bytesPerChild"}) {
                Group m = find(groups, "MemoryFootprintBenchmark.retained:" + metric + " {checked=" + checked);
                Row weft = m == null ? null : m.row("WEFT");
                Row sts = m == null ? null : m.row("JDK_STS");
                Row raw = m == null ? null : m.row("RAW");
                boolean judged = metric.equals("otherBytesPerChild");
                String what = "memory beyond a raw virtual thread, WEFT <= 1.1 x JDK_STS (checked=" + checked
                        + (judged ? ", objects other than stacks)" : ", total incl. stacks: information only)");
                if (weft == null || sts == null || raw == null) {
                    line(out, what, null, "");
                } else {
                    double w = weft.median - raw.median;
                    double st = sts.median - raw.median;
                    String detail = String.format(Locale.ROOT, "%s vs %s B/child = %s", fmt(w), fmt(st), ratio(w, st));
                    if (judged) {
                        line(out, what, st > 0 ? w <= 1.1 * st : w <= 0, detail);
                    } else {
                        out.append(String.format(Locale.ROOT, "  %-78s %-12s %s%n", what, "(info)", detail));
                    }
                }
            }
        }
    }

    private static Group find(Map<String, Group> groups, String prefix) {
        for (Group g : groups.values()) {
            if (g.title.startsWith(prefix)) {
                return g;
            }
        }
        return null;
    }

    private static void target(StringBuilder out, String what, Group g, String weft, String peer, double bound) {
        Row w = g == null ? null : g.row(weft);
        Row p = g == null ? null : g.row(peer);
        if (w == null || p == null) {
            line(out, what, null, "");
            return;
        }
        line(out, what, w.median <= bound * p.median, ratio(w.median, p.median)
                + String.format(Locale.ROOT, " (%s vs %s %s)", fmt(w.median), fmt(p.median), w.unit));
    }

    private static void line(StringBuilder out, String what, Boolean met, String detail) {
        String verdict = met == null ? "not measured" : met ? "met" : "NOT MET";
        out.append(String.format(Locale.ROOT, "  %-78s %-12s %s%n", what, verdict, detail));
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

#!/usr/bin/env bash
# Before/after: two builds of benchmarks.jar (for example main and an older commit), interleaved
# round by round (the order alternates), on the cancel-latency rows the targets use (parked
# children, N = 10 000 and 100 000: WEFT_CANCEL, JDK_STS, RAW) and fork + join of 10 000 tasks
# (WEFT, JDK_STS). Prints, per benchmark, the pooled median of each jar, after / before, and the
# same ratio in each round.
#
#   jmh/ab.sh BEFORE.jar AFTER.jar [rounds=3]
#   AB_SIZES=10000 AB_FORKJOIN=0 jmh/ab.sh BEFORE.jar AFTER.jar 8   # only the 10 000 cancel rows, 8 rounds
#
# AB_SIZES (default "10000 100000") and AB_PEERS (default "WEFT_CANCEL JDK_STS RAW") choose the
# cancel rows; AB_FORKJOIN=0 leaves out fork + join; AB_CHECKS=1 adds CheckCost's weftIsRequested
# and volatileRead (2 x 1 s warm-up, 5 x 1 s).
#
# To build the "before" jar: git worktree add /tmp/before <commit> && (cd /tmp/before &&
# mvn -B -q -pl jmh -am -DskipTests package); it is then /tmp/before/jmh/target/benchmarks.jar.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
before="$1" after="$2" rounds="${3:-3}"
out="$(mktemp -d "${TMPDIR:-/tmp}/weft-ab.XXXXXX")"
# shellcheck source=../tools/jdk.sh
. "$here/../tools/jdk.sh"
java_bin="$(weft_find_java jmh/ab.sh "${WEFT_JMH_JAVA:-}" 25)"
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order="before after"; else order="after before"; fi
  for which in $order; do
    jar="$before"; [ "$which" = after ] && jar="$after"
    for n in ${AB_SIZES:-10000 100000}; do
      for peer in ${AB_PEERS:-WEFT_CANCEL JDK_STS RAW}; do
        "$java_bin" --enable-preview -jar "$jar" 'CancelLatencyBenchmark\.park$' -p n=$n -p peer=$peer \
          -f 1 -wi 3 -i 10 -foe true -rf json -rff "$out/r$r-$which-park-$n-$peer.json" > "$out/r$r-$which-park-$n-$peer.log" 2>&1
      done
    done
    for peer in WEFT JDK_STS; do
      [ "${AB_FORKJOIN:-1}" = 0 ] && break
      "$java_bin" --enable-preview -jar "$jar" '\.ForkJoinBenchmark\.' -p n=10000 -p peer=$peer \
        -f 1 -wi 3 -w 1s -i 5 -r 1s -foe true -rf json -rff "$out/r$r-$which-forkjoin-$peer.json" > "$out/r$r-$which-forkjoin-$peer.log" 2>&1
    done
    for m in weftIsRequested volatileRead; do
      [ "${AB_CHECKS:-0}" = 1 ] || break
      "$java_bin" --enable-preview -jar "$jar" "CheckCostBenchmark\\.$m\$" \
        -f 1 -wi 2 -w 1s -i 5 -r 1s -foe true -rf json -rff "$out/r$r-$which-check-$m.json" > "$out/r$r-$which-check-$m.log" 2>&1
    done
  done
  echo "ab.sh: round $r of $rounds done" >&2
done
python3 - "$out" <<'PY'
import collections, glob, json, statistics, sys
d = collections.defaultdict(list)
for f in glob.glob(sys.argv[1] + '/*.json'):
    r, which, *rest = f.rsplit('/', 1)[1][:-5].split('-')
    for b in json.load(open(f)):
        d[('-'.join(rest), which)].append((r, [x for fork in b['primaryMetric']['rawData'] for x in fork], b['primaryMetric']['scoreUnit']))
rows = collections.defaultdict(dict)
for (key, which), runs in d.items():
    rows[key][which] = (statistics.median([x for _, raw, _ in runs for x in raw]),
                        {r: statistics.median(raw) for r, raw, _ in runs}, runs[0][2])
print("| benchmark | before, median | after, median | after / before | per round |")
print("| --- | --- | --- | --- | --- |")
for key in sorted(rows):
    if {'before', 'after'} <= rows[key].keys():
        b, a = rows[key]['before'], rows[key]['after']
        per = ', '.join(f"{a[1][r] / b[1][r]:.2f}" for r in sorted(b[1]) if r in a[1])
        fmt = lambda v: f"{v:.0f}" if v >= 100 else f"{v:.3f}"
        print(f"| {key} | {fmt(b[0])} {b[2]} | {fmt(a[0])} {a[2]} | {a[0] / b[0]:.2f} | {per} |")
PY
echo "ab.sh: raw results in $out" >&2

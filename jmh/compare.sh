#!/usr/bin/env bash
# The comparison set, at a quick setting (about 6 minutes on 2 cores), then a table of medians,
# errors and Weft / peer ratios, and every target of the performance contract (jmh/README.md) met or not.
#
#   jmh/compare.sh            quick: 1 fork, short warm-up, the N that the targets name
#   jmh/compare.sh --full     every parameter at the annotations' settings (2 forks; hours, see README)
#
# Needs jmh/target/benchmarks.jar (mvn -B -pl jmh -am package -DskipTests). Writes the raw JMH JSON
# of each part and the table to jmh/results/<timestamp>-*.json and jmh/results/<timestamp>.txt
# (JMH's console output goes to jmh/target/compare-logs/).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
results="$here/results"
logs="$here/target/compare-logs"
mkdir -p "$results" "$logs"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
start=$(date +%s)
files=()

# shellcheck source=lib.sh
. "$here/lib.sh"

part() {  # part <name> <JMH arguments...>
  local name="$1"; shift
  local json="$results/$stamp-$name.json"
  echo "== $name: $*" >&2
  jmh_run "compare.sh: part '$name'" "$json" "$logs/$stamp-$name.log" "$@"
  files+=("$json")
}

if [ "${1:-}" = "--full" ]; then
  part full 'dev.weft.jmh.*'
else
  quick_ss=(-f 1 -wi 5 -i 10)
  quick_avgt=(-f 1 -wi 3 -w 1s -i 5 -r 1s)
  part park     'CancelLatencyBenchmark\.park$' -p n=10000,100000 -f 1 -wi 5 -i 20
  part blocked  'CancelLatencyBenchmark\.(sleep|poll|socket|critical)$' -p n=1000 "${quick_ss[@]}"
  part forkjoin '\.ForkJoinBenchmark\.' -p n=10,10000 "${quick_avgt[@]}"
  part context  '\.ContextForkJoinBenchmark\.' -p n=10000 "${quick_avgt[@]}"
  part checks   'CheckCostBenchmark|CriticalSectionBenchmark' "${quick_avgt[@]}"
  part memory   'MemoryFootprintBenchmark' -f 3 -wi 3 -i 2      # 3 JVMs: stack chunk sizes vary per JVM
fi

"$here/run.sh" --class dev.weft.jmh.Compare -o "$results/$stamp.txt" "${files[@]}"
echo >&2
echo "compare.sh: $(( $(date +%s) - start )) s; table $results/$stamp.txt, JSON $results/$stamp-*.json" >&2

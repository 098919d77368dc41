#!/usr/bin/env bash
# The targets of docs/design.md that are ratios of two peers, measured in interleaved rounds: each round
# runs one fork per peer, in a rotated order, so that a slow minute of a shared machine falls on
# every peer alike instead of on whichever peer JMH ran then. The samples of all rounds are pooled
# per peer (dev.weft.jmh.Compare), and the table ends with the targets.
#
#   jmh/interleave.sh            8 rounds (about 10 minutes on 2 cores)
#   jmh/interleave.sh 3          3 rounds
#
# Per round: CancelLatency.park at N = 10 000 and 100 000 (WEFT_CANCEL, WEFT_SIBLING, JDK_STS, RAW;
# 3 warm-up + 10 measured cancellations a fork), ForkJoin at N = 10 000 (WEFT, JDK_STS; 3 x 1 s
# warm-up, 5 x 1 s), CheckCost (isRequested against a volatile read; 2 x 1 s warm-up, 5 x 1 s).
# Needs jmh/target/benchmarks.jar. Writes jmh/results/<timestamp>-interleaved-*.json and
# jmh/results/<timestamp>-interleaved.txt (JMH's console output: jmh/target/interleave-logs/).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rounds="${1:-8}"
results="$here/results"
logs="$here/target/interleave-logs"
mkdir -p "$results" "$logs"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
start=$(date +%s)
files=()
n=0

# shellcheck source=lib.sh
. "$here/lib.sh"

fork() {  # fork <label> <JMH arguments...>: one JMH run, its JSON kept for the table
  local label="$1"; shift
  n=$((n + 1))
  local json="$results/$stamp-interleaved-$(printf %03d $n)-$label.json"
  jmh_run "interleave.sh: run '$label'" "$json" "$logs/$stamp-$n-$label.log" "$@"
  files+=("$json")
}

rotate() {  # rotate <k> <items...>: the items, starting at item k mod count
  local k="$1"; shift
  local items=("$@") c=$#
  for ((i = 0; i < c; i++)); do echo "${items[$(((i + k) % c))]}"; done
}

for ((r = 0; r < rounds; r++)); do
  echo "== round $((r + 1)) of $rounds ($(( $(date +%s) - start )) s)" >&2
  for size in 10000 100000; do
    for peer in $(rotate "$r" WEFT_CANCEL WEFT_SIBLING JDK_STS RAW); do
      fork "park-$size-$peer" 'CancelLatencyBenchmark\.park$' -p n=$size -p peer=$peer -f 1 -wi 3 -i 10
    done
  done
  for peer in $(rotate "$r" WEFT JDK_STS); do
    fork "forkjoin-$peer" 'ForkJoinBenchmark' -p n=10000 -p peer=$peer -f 1 -wi 3 -w 1s -i 5 -r 1s
  done
  for method in $(rotate "$r" weftIsRequested volatileRead); do
    fork "check-$method" "CheckCostBenchmark\\.$method\$" -f 1 -wi 2 -w 1s -i 5 -r 1s
  done
done

"$here/run.sh" --class dev.weft.jmh.Compare -o "$results/$stamp-interleaved.txt" "${files[@]}"
echo >&2
echo "interleave.sh: $rounds rounds, $(( $(date +%s) - start )) s; table $results/$stamp-interleaved.txt" >&2

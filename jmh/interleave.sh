#!/usr/bin/env bash
# Every target of the performance contract (jmh/README.md), measured in interleaved rounds: each round
# runs one fork per peer, in a rotated order, so that a slow minute of a shared machine falls on
# every peer alike instead of on whichever peer JMH ran then. The samples of all rounds are pooled
# per peer (dev.weft.jmh.Compare), and the table ends with every target, met or not met, with the
# distribution of its ratio over the rounds (min / median / max).
#
#   jmh/interleave.sh                 8 rounds
#   jmh/interleave.sh 3               3 rounds
#   jmh/interleave.sh --no-million 8  without the N = 1 000 000 runs (the linearity target is then "not measured")
#   jmh/interleave.sh --smoke         1 round, 1 invocation or iteration per fork: checks that every run
#                                     works and the table prints; measures nothing
#
# Per round, one fork per peer (or method), each in a rotated order:
#   - CancelLatency.park, N = 10 000 and 100 000: WEFT_CANCEL, WEFT_SIBLING, JDK_STS, RAW, KOTLIN
#     (3 warm-up + 10 measured cancellations);
#   - CancelLatency.parkMillion, N = 1 000 000: the same peers (1 warm-up + 3 measured; 4 GiB heap);
#   - ForkJoin, N = 10 000: WEFT, JDK_STS (3 x 1 s warm-up, 5 x 1 s);
#   - CheckCost: weftIsRequested, volatileRead, handlerSlot (2 x 1 s warm-up, 5 x 1 s);
#   - CriticalSection.enterExit (2 x 1 s warm-up, 5 x 1 s);
#   - MemoryFootprint, N = 100 000, checked = false and true: WEFT, JDK_STS, RAW, KOTLIN (3 + 2);
#   - ContextForkJoin, N = 10 000, if benchmarks.jar has it: NO_CONTEXT, THREAD_LOCALS_3 (3 x 1 s warm-up, 5 x 1 s).
# The gRPC target is measured by the harness in grpc/ (see grpc/README.md).
# Needs jmh/target/benchmarks.jar and JDK 25 (the JDK_STS peer). Writes
# jmh/results/<timestamp>-interleaved-r<round>-*.json and jmh/results/<timestamp>-interleaved.txt
# (JMH's console output, with MemoryFootprint's per-class breakdown: jmh/target/interleave-logs/).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rounds=8
million=1
smoke=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-million) million=0 ;;
    --smoke) smoke=1; rounds=1 ;;
    [0-9]*) rounds="$1" ;;
    *) echo "usage: jmh/interleave.sh [--no-million] [--smoke] [rounds]" >&2; exit 2 ;;
  esac
  shift
done
results="$here/results"
logs="$here/target/interleave-logs"
kind=interleaved
if [ "$smoke" = 1 ]; then
  results="$here/target/interleave-smoke"      # a smoke pass is not a result: keep it out of jmh/results
  logs="$results"
  # it measures nothing, so it does not wait for JMH's machine-wide lock (as smoke.sh)
  export WEFT_JMH_JVM_OPTS="${WEFT_JMH_JVM_OPTS:-} -Djmh.ignoreLock=true"
fi
mkdir -p "$results" "$logs"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
start=$(date +%s)
files=()
n=0

# shellcheck source=lib.sh
. "$here/lib.sh"

# Per-fork settings: single-shot (cancellations), the million (each set-up starts 10^6 threads),
# time-based (fork/join, checks), memory. --smoke: one of each, to check the harness only.
if [ "$smoke" = 1 ]; then
  ss=(-wi 0 -i 1); million_ss=(-wi 0 -i 1); avgt=(-wi 0 -i 1 -w 100ms -r 100ms); avgt_check=("${avgt[@]}"); mem=(-wi 0 -i 1)
else
  ss=(-wi 3 -i 10); million_ss=(-wi 1 -i 3); avgt=(-wi 3 -w 1s -i 5 -r 1s); avgt_check=(-wi 2 -w 1s -i 5 -r 1s); mem=(-wi 3 -i 2)
fi

fork() {  # fork <label> <JMH arguments...>: one JMH run (one fork), its JSON kept for the table
  local label="$1"; shift
  n=$((n + 1))
  local json
  json="$results/$stamp-$kind-r$(printf %02d $((r + 1)))-$(printf %03d $n)-$label.json"
  jmh_run "interleave.sh: run '$label'" "$json" "$logs/$stamp-$n-$label.log" "$@" -f 1
  files+=("$json")
}

rotate() {  # rotate <k> <items...>: the items, starting at item k mod count
  local k="$1"; shift
  local items=("$@") c=$#
  for ((i = 0; i < c; i++)); do echo "${items[$(((i + k) % c))]}"; done
}

cancel_peers=(WEFT_CANCEL WEFT_SIBLING JDK_STS RAW KOTLIN)
context=0
if "$here/run.sh" -l 2>/dev/null | grep 'ContextForkJoinBenchmark' > /dev/null; then   # no -q: with pipefail, an early exit of grep would fail the listing
  context=1
fi

for ((r = 0; r < rounds; r++)); do
  echo "== round $((r + 1)) of $rounds ($(( $(date +%s) - start )) s)" >&2
  for size in 10000 100000; do
    for peer in $(rotate "$r" "${cancel_peers[@]}"); do
      fork "park-$size-$peer" 'CancelLatencyBenchmark\.park$' -p n=$size -p peer=$peer "${ss[@]}"
    done
  done
  if [ "$million" = 1 ]; then
    for peer in $(rotate "$r" "${cancel_peers[@]}"); do
      fork "park-1000000-$peer" 'CancelLatencyBenchmark\.parkMillion$' -p peer=$peer "${million_ss[@]}"
    done
  fi
  for peer in $(rotate "$r" WEFT JDK_STS); do
    fork "forkjoin-$peer" '\.ForkJoinBenchmark\.' -p n=10000 -p peer=$peer "${avgt[@]}"
  done
  for method in $(rotate "$r" weftIsRequested volatileRead handlerSlot); do
    fork "check-$method" "CheckCostBenchmark\\.$method\$" "${avgt_check[@]}"
  done
  fork "critical-enterExit" 'CriticalSectionBenchmark\.enterExit$' "${avgt_check[@]}"
  for peer in $(rotate "$r" WEFT JDK_STS RAW KOTLIN); do
    fork "memory-$peer" 'MemoryFootprintBenchmark' -p n=100000 -p peer=$peer "${mem[@]}"
  done
  if [ "$context" = 1 ]; then
    for peer in $(rotate "$r" NO_CONTEXT THREAD_LOCALS_3); do
      fork "context-$peer" '\.ContextForkJoinBenchmark\.' -p n=10000 -p peer=$peer "${avgt[@]}"
    done
  fi
done

"$here/run.sh" --class dev.weft.jmh.Compare -o "$results/$stamp-$kind.txt" "${files[@]}"
echo >&2
echo "interleave.sh: $rounds rounds$([ "$smoke" = 1 ] && echo ' (smoke: not a measurement)'), $(( $(date +%s) - start )) s;" \
     "table $results/$stamp-$kind.txt" >&2

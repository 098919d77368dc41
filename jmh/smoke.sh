#!/usr/bin/env bash
# JMH harness smoke pass, for CI: every benchmark once, at its smallest parameters, one fork, no
# warm-up, one iteration; then the report tool over the result. Builds nothing (run after
# `mvn verify`, which builds jmh/target/benchmarks.jar). Not a measurement: asserts nothing about
# time, only that every benchmark runs to completion (-foe true: any exception fails the pass).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/target/smoke"
mkdir -p "$out"
start=$(date +%s)

# n=1 is the smallest N of every benchmark that has one (ForkJoin, CancelLatency, MemoryFootprint;
# CancelLatency.parkMillion too: its million is a parameter); -r/-w bound the time-based benchmarks
# (SingleShotTime ignores them). Every peer runs, the KOTLIN peer (Kotlin coroutines) included: in
# CancelLatency.park, .sleep and .parkMillion and in MemoryFootprint (checked = false and true).
# Not a measurement, so it ignores JMH's machine-wide lock (another JMH run may be measuring).
if ! WEFT_JMH_JVM_OPTS="-Djmh.ignoreLock=true" "$here/run.sh" -f 1 -wi 0 -i 1 -w 100ms -r 100ms -p n=1 -foe true \
      -rf json -rff "$out/smoke.json" > "$out/smoke.log" 2>&1; then
  tail -n 60 "$out/smoke.log" >&2
  echo "JMH smoke pass FAILED (full log: $out/smoke.log)" >&2
  exit 1
fi
"$here/run.sh" --class dev.weft.jmh.Compare -o "$out/smoke.txt" "$out/smoke.json" > /dev/null
runs=$(grep -c '"benchmark"' "$out/smoke.json")
kotlin=$(grep -c '"KOTLIN"' "$out/smoke.json" || true)
if [ "$kotlin" -lt 5 ]; then      # park, sleep, parkMillion, MemoryFootprint x 2
  echo "JMH smoke pass FAILED: $kotlin KOTLIN runs in $out/smoke.json, expected 5 (is the Kotlin peer in benchmarks.jar?)" >&2
  exit 1
fi
echo "JMH smoke pass: $runs benchmark runs ($kotlin of the KOTLIN peer) in $(( $(date +%s) - start )) s (log, json and table in $out)"

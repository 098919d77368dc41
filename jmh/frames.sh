#!/usr/bin/env bash
# What a parked child's stack is made of: MemoryFootprintBenchmark (N = 100 000 parked children,
# unchecked) once per peer and per fork, under a JFR recording; then, per run, the stack bytes per
# child and the physical frames of the stacks being frozen (ParkedFrames: stack-chunk allocation
# samples, each frame with the methods the JIT inlined into it).
#
#   jmh/frames.sh [peers, default "WEFT JDK_STS RAW"] [forks per peer, default 2]
#   WEFT_FRAMES_JVM_ARGS="-XX:CompileCommand=quiet -XX:CompileCommand=dontinline,dev.weft.Task::exit" jmh/frames.sh WEFT 3
#
# Output: jmh/target/frames/<peer>-<fork>.{jfr,log}, and the summary on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
peers="${1:-WEFT JDK_STS RAW}"
forks="${2:-2}"
out="$here/target/frames"
mkdir -p "$out"
for peer in $peers; do
  for fork in $(seq 1 "$forks"); do
    jfr="$out/$peer-$fork.jfr" log="$out/$peer-$fork.log"
    rm -f "$jfr"
    "$here/run.sh" MemoryFootprintBenchmark -p n=100000 -p checked=false -p peer="$peer" -f 1 -wi 3 -i 2 \
      -jvmArgsAppend "-XX:StartFlightRecording:filename=$jfr,settings=profile ${WEFT_FRAMES_JVM_ARGS:-}" > "$log" 2>&1 || {
        tail -n 30 "$log" >&2; echo "frames.sh: the JMH run failed (log: $log)" >&2; exit 1; }
    echo "== $peer, fork $fork: stack bytes per child $(grep 'stackBytesPerChild:' "$log" | awk '{print $2}' | paste -sd' ')"
    "$here/run.sh" --class dev.weft.jmh.ParkedFrames "$jfr" 2
  done
done

#!/usr/bin/env bash
# Where the time goes: one JMH run under async-profiler, then the hottest frames (self time) and
# the Weft frames (inclusive time), as shares of all samples.
#
#   jmh/profile.sh <label> <JMH arguments...>
#   jmh/profile.sh fj-weft '\.ForkJoinBenchmark\.' -p n=10000 -p peer=WEFT -f 1 -wi 3 -w 1s -i 5 -r 1s
#   jmh/profile.sh fj-sts  '\.ForkJoinBenchmark\.' -p n=10000 -p peer=JDK_STS -f 1 -wi 3 -w 1s -i 5 -r 1s
#   jmh/profile.sh cancel  'CancelLatencyBenchmark\.park$' -p n=100000 -p peer=WEFT_CANCEL -f 1 -wi 3 -i 10
#
# The profiler is async-profiler's native library from Maven Central
# (tools.profiler:async-profiler, version $WEFT_ASYNC_PROFILER or 4.6), fetched once by Maven into
# the local repository and unpacked into jmh/target/async-profiler/. Linux x64 or arm64 only. It
# samples with the interval timer (event=itimer, every 1 ms of CPU), which needs no perf_events
# permission, so it works in containers. Output: jmh/target/profiles/<label>/ (collapsed stacks, one
# line per stack, and JMH's console output), and the summary on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 2 ]; then
  echo "usage: jmh/profile.sh <label> <JMH arguments...>" >&2
  exit 2
fi
label="$1"; shift
version="${WEFT_ASYNC_PROFILER:-4.6}"
case "$(uname -m)" in
  x86_64|amd64) arch=linux-x64 ;;
  aarch64|arm64) arch=linux-arm64 ;;
  *) echo "profile.sh: async-profiler ships no library for $(uname -s) $(uname -m)" >&2; exit 1 ;;
esac
lib="$here/target/async-profiler/$version/$arch/libasyncProfiler.so"
if [ ! -f "$lib" ]; then
  repo="$(mvn -B -q -Dstyle.color=never help:evaluate -Dexpression=settings.localRepository -DforceStdout 2>/dev/null \
    | sed 's/\x1b\[[0-9;]*m//g' || true)"
  [ -d "$repo" ] || repo="$HOME/.m2/repository"
  jar="$repo/tools/profiler/async-profiler/$version/async-profiler-$version.jar"
  if [ ! -f "$jar" ]; then
    mvn -B -q dependency:get -Dartifact="tools.profiler:async-profiler:$version" -Dtransitive=false >&2 || {
      echo "profile.sh: could not fetch tools.profiler:async-profiler:$version from Maven Central" >&2; exit 1; }
  fi
  mkdir -p "$here/target/async-profiler/$version"
  (cd "$here/target/async-profiler/$version" && unzip -o -q "$jar" "$arch/libasyncProfiler.so")
fi
out="$here/target/profiles/$label"
rm -rf "$out" && mkdir -p "$out"
"$here/run.sh" "$@" -prof "async:libPath=$lib;output=collapsed;event=itimer;interval=1000000;dir=$out" > "$out/jmh.log" 2>&1 || {
  tail -n 30 "$out/jmh.log" >&2; echo "profile.sh: the JMH run failed (log: $out/jmh.log)" >&2; exit 1; }
grep -A3 '^Benchmark' "$out/jmh.log" | grep -v ':async' || true
python3 - "$out" <<'PY'
import collections, glob, sys
files = glob.glob(sys.argv[1] + '/**/collapsed-*.csv', recursive=True)
if not files:
    sys.exit("profile.sh: no collapsed stacks were written (see jmh.log)")
selfc, incl, total = collections.Counter(), collections.Counter(), 0
for f in files:
    for line in open(f):
        stack, _, count = line.rstrip().rpartition(' ')
        n = int(count)
        total += n
        frames = stack.split(';')
        selfc[frames[-1]] += n
        for fr in set(frames):
            incl[fr] += n
print(f"{total} samples (1 ms of CPU each), {files[0]}")
print("self time, hottest frames:")
for k, v in selfc.most_common(25):
    print(f"  {100 * v / total:5.1f} %  {k}")
print("inclusive time, Weft frames:")
for k, v in incl.most_common():
    if k.startswith('dev/weft/') and '/jmh/' not in k:
        print(f"  {100 * v / total:5.1f} %  {k}")
PY

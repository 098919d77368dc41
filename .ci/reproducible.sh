#!/usr/bin/env bash
# Reproducible-build check: builds every jar twice from clean and compares them byte for byte.
# The jars are identical because the build fixes every entry's time (project.build.outputTimestamp
# in the parent pom, and `jar --date` for core's module descriptor) and the entry order.
#
#   .ci/reproducible.sh            two clean builds (mvn clean package, tests not compiled)
#   .ci/reproducible.sh --reuse    the jars already in */target are the first build (CI: after
#                                  `mvn verify`), then one clean build
# Exits non-zero, naming each jar and entry that differs, if any jar is not identical.
set -euo pipefail
cd "$(dirname "$0")/.."
unset JAVA_HOME

work="$(mktemp -d "${TMPDIR:-/tmp}/weft-repro.XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

build() {
  mvn -B -ntp -q clean package -Dmaven.test.skip=true "$@" >"$work/build.log" 2>&1 || {
    tail -n 40 "$work/build.log" >&2
    echo "reproducible.sh: the build failed (log above)" >&2
    exit 1
  }
}
keep() {  # copies the jars of */target to $work/$1, keeping their paths
  local f n=0
  mkdir -p "$work/$1"
  for f in */target/*.jar; do
    [ -f "$f" ] || continue
    case "${f##*/}" in original-*) continue;; esac   # the shade plugin's copy of a replaced jar
    mkdir -p "$work/$1/$(dirname "$f")"
    cp "$f" "$work/$1/$f"
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || { echo "reproducible.sh: no jar in */target after the build" >&2; exit 1; }
}

if [ "${1:-}" = "--reuse" ]; then
  keep first
else
  build
  keep first
fi
build
keep second

entries() {  # one line per entry of a jar: name, CRC-32, date, time
  unzip -v "$1" | awk 'NF >= 8 && $7 ~ /^[0-9a-f]+$/ && length($7) == 8 {print $8, $7, $5, $6}'
}
differ=0
jars=0
for a in $(cd "$work/first" && find . -name '*.jar' | sort); do
  jars=$((jars + 1))
  b="$work/second/$a"
  if [ ! -f "$b" ]; then
    echo "reproducible.sh: ${a#./} is missing from the second build" >&2; differ=1; continue
  fi
  if ! cmp -s "$work/first/$a" "$b"; then
    differ=1
    echo "reproducible.sh: ${a#./} differs between the two builds" >&2
    if changes="$(diff <(entries "$work/first/$a") <(entries "$b"))"; then
      echo "  same entries, CRCs and times: the difference is in the zip metadata (order, extra fields)" >&2
    else
      echo "  entries that differ (< first build, > second; name, CRC-32, date, time):" >&2
      sed 's/^/  /' <<<"$changes" >&2
    fi
  fi
done
for b in $(cd "$work/second" && find . -name '*.jar' | sort); do
  [ -f "$work/first/$b" ] || { echo "reproducible.sh: ${b#./} is missing from the first build" >&2; differ=1; }
done
if [ "$differ" -ne 0 ]; then
  echo "reproducible.sh: FAILED: the build is not reproducible (see above)" >&2
  exit 1
fi
echo "Reproducible: $jars jars identical byte for byte across two builds ($(( $(date +%s) - start )) s)"

#!/usr/bin/env bash
# `mvn verify` as on a machine whose only JDK is 21: the JDK of .ci/jdk21.sh is the only toolchain
# Maven may use (a generated toolchains.xml, passed with -t, and discovery of installed JDKs off),
# whatever else is installed. Proves that the whole build, the tests and the jars work on JDK 21,
# and that the jmh module then leaves the JDK_STS peer out with its one-line notice.
#
#   .ci/jdk21-only.sh [extra Maven arguments]      e.g. -Dmaven.repo.local=/tmp/fresh-m2
# Not part of .ci/run (it repeats the whole build); RELEASING.md gives its timing.
set -euo pipefail
cd "$(dirname "$0")/.."
unset JAVA_HOME

jdk21="$(.ci/jdk21.sh)"
version="$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$jdk21/release")"
work="$(mktemp -d "${TMPDIR:-/tmp}/weft-jdk21-only.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cat >"$work/toolchains.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<toolchains xmlns="http://maven.apache.org/TOOLCHAINS/1.1.0">
  <toolchain>
    <type>jdk</type>
    <provides>
      <version>$version</version>
      <vendor>Debian</vendor>
    </provides>
    <configuration>
      <jdkHome>$jdk21</jdkHome>
    </configuration>
  </toolchain>
</toolchains>
XML

start=$(date +%s)
mvn -B -ntp -t "$work/toolchains.xml" -Dtoolchain.jdk.discover=false "$@" verify 2>&1 | tee "$work/build.log"
# What the log must show: JDK 21 for every module, and the notice instead of a JDK_STS build.
if grep -E '^\[INFO\] Toolchain in [a-z-]+: JDK\[' "$work/build.log" | grep -v -F "JDK[$jdk21]" >&2; then
  echo "jdk21-only.sh: FAILED: a plugin used another JDK than $jdk21 (above)" >&2
  exit 1
fi
grep -q "weft-jmh: the JDK_STS peer is left out" "$work/build.log" \
  || { echo "jdk21-only.sh: FAILED: no JDK_STS notice in the log" >&2; exit 1; }
echo "mvn verify with only JDK $version discoverable: passed in $(( $(date +%s) - start )) s"

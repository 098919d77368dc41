#!/usr/bin/env bash
# Runs jmh/target/benchmarks.jar with a JDK found on this machine (not the `java` on PATH, not
# JAVA_HOME), with --enable-preview for the JDK_STS peer.
#
#   jmh/run.sh [JMH options]                 e.g. jmh/run.sh -l, jmh/run.sh CancelLatency.park -p n=10000
#   jmh/run.sh --class <main class> [args]   runs another main class of the jar (compare.sh uses it)
#   jmh/run.sh --print-java                  prints the java binary it would use
#   WEFT_JMH_JVM_OPTS="-Dx=y" jmh/run.sh ...   extra options for the JMH host JVM
#
# JDK choice: $WEFT_JMH_JAVA (a JDK home or a java binary) if set; otherwise a JDK 25 found under
# the usual install directories, by the JAVA_VERSION in its `release` file (JDK_STS is compiled
# against the JDK 25 preview API, which loads on JDK 25 only); otherwise the newest JDK >= 21 there,
# with a warning: everything runs except the JDK_STS peer.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
jar="$here/target/benchmarks.jar"
want=25

# shellcheck source=../tools/jdk.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tools/jdk.sh"
find_java() {
  weft_find_java "jmh/run.sh" "${WEFT_JMH_JAVA:-}" "$want"
}

java_bin="$(find_java)"
if [ "${1:-}" = "--print-java" ]; then
  echo "$java_bin"
  exit 0
fi
if [ ! -f "$jar" ]; then
  echo "run.sh: $jar is missing; build it with: mvn -B -pl jmh -am package -DskipTests" >&2
  exit 1
fi
if [ "${1:-}" = "--class" ]; then
  main="$2"
  shift 2
  exec "$java_bin" ${WEFT_JMH_JVM_OPTS:-} -cp "$jar" "$main" "$@"
fi
exec "$java_bin" --enable-preview ${WEFT_JMH_JVM_OPTS:-} -jar "$jar" "$@"

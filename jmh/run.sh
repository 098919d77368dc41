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

feature_of() {  # the feature version in a JDK's release file, or nothing
  sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" 2>/dev/null | head -n 1
}

find_java() {
  if [ -n "${WEFT_JMH_JAVA:-}" ]; then
    if [ -x "$WEFT_JMH_JAVA/bin/java" ]; then echo "$WEFT_JMH_JAVA/bin/java"; return; fi
    if [ -x "$WEFT_JMH_JAVA" ]; then echo "$WEFT_JMH_JAVA"; return; fi
    echo "run.sh: WEFT_JMH_JAVA=$WEFT_JMH_JAVA is neither a JDK home nor a java binary" >&2
    return 1
  fi
  local best="" best_feature=0 home f
  for home in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* \
              "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* "$HOME"/.gradle/jdks/* \
              /Library/Java/JavaVirtualMachines/*/Contents/Home ${JAVA_HOME:+"$JAVA_HOME"}; do
    [ -x "$home/bin/java" ] || continue
    f="$(feature_of "$home")"
    [ -n "$f" ] || continue
    if [ "$f" -eq "$want" ]; then echo "$home/bin/java"; return; fi
    if [ "$f" -ge 21 ] && [ "$f" -gt "$best_feature" ]; then best="$home/bin/java"; best_feature="$f"; fi
  done
  if [ -n "$best" ]; then
    echo "run.sh: no JDK $want found; using JDK $best_feature ($best): the JDK_STS peer will not run" >&2
    echo "$best"
    return
  fi
  echo "run.sh: no JDK >= 21 found under the usual directories; set WEFT_JMH_JAVA to a JDK $want home" >&2
  return 1
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

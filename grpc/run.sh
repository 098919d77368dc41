#!/usr/bin/env bash
# Runs a main class of the grpc module's test classpath (the benchmark, the sample) with a JDK >= 21
# found on this machine, not the `java` on PATH nor JAVA_HOME, as jmh/run.sh does.
#
#   grpc/run.sh <main class> [args]     e.g. grpc/run.sh dev.weft.grpc.sample.GrpcFanOutSample
#   WEFT_GRPC_JAVA=/path/to/jdk grpc/run.sh ...    use that JDK (a JDK home or a java binary)
#   WEFT_GRPC_NO_BUILD=1 grpc/run.sh ...           skip the Maven build (classes already compiled)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

feature_of() {  # the feature version in a JDK's release file, or nothing
  sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" 2>/dev/null | head -n 1
}

find_java() {
  if [ -n "${WEFT_GRPC_JAVA:-}" ]; then
    if [ -x "$WEFT_GRPC_JAVA/bin/java" ]; then echo "$WEFT_GRPC_JAVA/bin/java"; return; fi
    if [ -x "$WEFT_GRPC_JAVA" ]; then echo "$WEFT_GRPC_JAVA"; return; fi
    echo "run.sh: WEFT_GRPC_JAVA=$WEFT_GRPC_JAVA is neither a JDK home nor a java binary" >&2
    return 1
  fi
  local best="" best_feature=0 home f
  for home in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* \
              "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* "$HOME"/.gradle/jdks/* \
              /Library/Java/JavaVirtualMachines/*/Contents/Home ${JAVA_HOME:+"$JAVA_HOME"}; do
    [ -x "$home/bin/java" ] || continue
    f="$(feature_of "$home")"
    [ -n "$f" ] || continue
    if [ "$f" -ge 21 ] && [ "$f" -gt "$best_feature" ]; then best="$home/bin/java"; best_feature="$f"; fi
  done
  if [ -n "$best" ]; then echo "$best"; return; fi
  echo "run.sh: no JDK >= 21 found under the usual directories; set WEFT_GRPC_JAVA to a JDK home" >&2
  return 1
}

if [ $# -lt 1 ]; then
  echo "usage: grpc/run.sh <main class> [args]" >&2
  exit 2
fi
java_bin="$(find_java)"
cp_file="$here/target/test-classpath.txt"
if [ -z "${WEFT_GRPC_NO_BUILD:-}" ] || [ ! -f "$cp_file" ]; then
  (cd "$root" && mvn -B -ntp -q -pl grpc -am test-compile dependency:build-classpath \
      -Dmdep.outputFile='${project.build.directory}/test-classpath.txt' -Dmdep.includeScope=test)
fi
main="$1"
shift
exec "$java_bin" -cp "$here/target/test-classes:$here/target/classes:$(cat "$cp_file")" "$main" "$@"

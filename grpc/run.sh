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

# shellcheck source=../tools/jdk.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tools/jdk.sh"
find_java() {
  weft_find_java "grpc/run.sh" "${WEFT_GRPC_JAVA:-}" ""
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

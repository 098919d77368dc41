#!/usr/bin/env bash
# Runs one sample class (or the tour) with a JDK 21 or later found on this machine, not the `java`
# on PATH (which may be older) and not JAVA_HOME. Run the build first, once:
#   mvn -q -pl samples -am -DskipTests package
#
#   samples/run.sh Sample03_StuckWorker            a sample, by its class name
#   samples/run.sh Sample06_GracefulExit serve     with its arguments (Ctrl-C stops the service)
#   samples/run.sh Tour 3                          the tour, or one stop of it
#   samples/run.sh --print-java                    prints the java binary it would use
#
# JDK choice, as jmh/run.sh does it: $WEFT_JAVA (a JDK home or a java binary) if set; otherwise the
# newest JDK >= 21 under the usual install directories, by the JAVA_VERSION in its `release` file.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

# shellcheck source=../tools/jdk.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tools/jdk.sh"
find_java() {
  weft_find_java "samples/run.sh" "${WEFT_JAVA:-}" ""
}

java_bin="$(find_java)"
if [ "${1:-}" = "--print-java" ]; then
  echo "$java_bin"
  exit 0
fi
if [ $# -eq 0 ]; then
  echo "usage: samples/run.sh SampleNN_Name [args...]   (or: Tour [all|N|name])" >&2
  exit 2
fi
classes="$root/core/target/classes:$root/samples/target/classes"
if [ ! -f "$root/samples/target/classes/dev/weft/samples/Tour.class" ] || [ ! -d "$root/core/target/classes/dev/weft" ]; then
  echo "run.sh: the samples are not built; build them once with: mvn -q -pl samples -am -DskipTests package" >&2
  exit 1
fi
main="$1"
shift
case "$main" in
  *.*) ;;                          # a fully qualified class name
  *) main="dev.weft.samples.$main";;
esac
if [ ! -f "$root/samples/target/classes/${main//.//}.class" ]; then
  echo "run.sh: no sample class $main; the samples are: $(cd "$root/samples/target/classes/dev/weft/samples" && ls Sample*_*.class | grep -v '\$' | sed 's/\.class$//' | tr '\n' ' ')" >&2
  exit 2
fi
exec "$java_bin" -cp "$classes" "$main" "$@"

# Sourced by jmh/run.sh, samples/run.sh and grpc/run.sh: finds a JDK on this machine, not the
# `java` on PATH (which may be older than 21) and not JAVA_HOME.
#
#   weft_find_java WHO OVERRIDE [PREFERRED]
#
# Prints a java binary: OVERRIDE (a JDK home or a java binary) when it is set; otherwise a JDK of
# feature release PREFERRED if one is installed; otherwise the newest JDK >= 21 under the usual
# install directories, read from the JAVA_VERSION of its `release` file (with a warning when
# PREFERRED was asked for). WHO names the caller in messages. Returns 1 with a message when there
# is none.

weft_feature_of() {  # the feature version in a JDK's release file, or nothing
  sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" 2>/dev/null | head -n 1
}

weft_find_java() {
  local who="$1" override="${2:-}" want="${3:-}"
  if [ -n "$override" ]; then
    if [ -x "$override/bin/java" ]; then echo "$override/bin/java"; return; fi
    if [ -x "$override" ]; then echo "$override"; return; fi
    echo "$who: $override is neither a JDK home nor a java binary" >&2
    return 1
  fi
  local best="" best_feature=0 home f
  for home in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* \
              "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* "$HOME"/.gradle/jdks/* \
              /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -x "$home/bin/java" ] || continue
    f="$(weft_feature_of "$home")"
    [ -n "$f" ] || continue
    if [ -n "$want" ] && [ "$f" -eq "$want" ]; then echo "$home/bin/java"; return; fi
    if [ "$f" -ge 21 ] && [ "$f" -gt "$best_feature" ]; then best="$home/bin/java"; best_feature="$f"; fi
  done
  if [ -n "$best" ]; then
    if [ -n "$want" ]; then
      echo "$who: no JDK $want found; using JDK $best_feature ($best)" >&2
    fi
    echo "$best"
    return
  fi
  echo "$who: no JDK >= 21 found under the usual directories; point the override variable at a JDK home" >&2
  return 1
}

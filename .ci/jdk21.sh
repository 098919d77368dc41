#!/usr/bin/env bash
# Prepares a real JDK 21 for CI's second test leg, and prints its home on stdout (the only line
# printed on stdout; progress goes to stderr).
#
# Debian bookworm has no JDK 21, and trixie's openjdk-21 needs glibc 2.38 (bookworm has 2.36). So
# this script, without touching the system's packages:
#   1. downloads trixie's openjdk-21-jre-headless, openjdk-21-jdk-headless, libc6 and zlib1g with
#      `apt-get download`, using a private apt state directory and the mirror URI of this machine's
#      own Debian sources entry (with suite trixie);
#   2. unpacks them with `dpkg -x` into the cache directory;
#   3. with patchelf (installed from Debian if missing), sets every executable ELF of the JDK
#      (bin/*, lib/jspawnhelper, lib/jexec) to use the unpacked ld-linux-x86-64.so.2, and sets the
#      run path of the executables and of every lib/*.so to the unpacked libc, $ORIGIN/../lib and
#      $ORIGIN/../lib/server;
#   4. repoints the JDK's symbolic links into /etc/java-21-openjdk at the unpacked copy.
# The result is cached (default ~/.cache/weft/jdk21, or $WEFT_JDK21_CACHE): a second run checks it
# and returns in about a second. Any failure exits non-zero with a message: CI must fail loudly,
# never skip the JDK 21 leg.
#
#   .ci/jdk21.sh            prepares (or reuses) the JDK and prints its home
#   .ci/jdk21.sh --clean    removes the cache first
set -euo pipefail

cache="${WEFT_JDK21_CACHE:-$HOME/.cache/weft/jdk21}"
suite=trixie
packages=(openjdk-21-jre-headless openjdk-21-jdk-headless libc6 zlib1g)
stamp_version=1   # bump when this script changes what it produces

say() { echo "jdk21.sh: $*" >&2; }
die() { echo "jdk21.sh: FAILED: $*" >&2; exit 1; }
trap 'die "line $LINENO: \"$BASH_COMMAND\" exited with status $?"' ERR

if [ "${1:-}" = "--clean" ]; then rm -rf "$cache"; shift; fi

root="$cache/root"
home="$root/usr/lib/jvm/java-21-openjdk-amd64"
stamp="$cache/ready"

check() {  # the prepared JDK runs and is a 21
  local out
  out="$("$home/bin/java" -version 2>&1)" || return 1
  grep -q 'version "21\.' <<<"$out" || return 1
  "$home/bin/javac" -version >/dev/null 2>&1 || return 1
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_version" ]; then
  if check; then echo "$home"; exit 0; fi
  say "the cached JDK in $cache does not run any more; preparing it again"
fi

[ "$(uname -m)" = x86_64 ] || die "only x86_64 is supported (this machine: $(uname -m))"
command -v apt-get >/dev/null && command -v dpkg >/dev/null || die "needs a Debian system (apt-get, dpkg)"

# The mirror: the URI of this machine's own Debian entry for its release (not -security, not a
# third-party source). One-line (sources.list, *.list) and deb822 (*.sources) formats.
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
[ -n "$codename" ] || die "/etc/os-release has no VERSION_CODENAME"
mirror="$(
  {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      # deb [options] URI suite components...
      sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\)[[:space:]]\+\([^[:space:]]\+\).*/\2 \3/p' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      # one "URI suite" line per URI and suite of every enabled stanza of type deb
      awk '
        function flush() {
          if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled !~ /^[ \t]*no/) {
            n = split(uris, u, /[ \t]+/); m = split(suites, s, /[ \t]+/)
            for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) if (u[i] != "" && s[j] != "") print u[i], s[j]
          }
          types = uris = suites = enabled = ""
        }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        tolower($1) == "types:"   { sub(/^[^:]*:/, ""); types = $0 }
        tolower($1) == "uris:"    { sub(/^[^:]*:/, ""); uris = $0 }
        tolower($1) == "suites:"  { sub(/^[^:]*:/, ""); suites = $0 }
        tolower($1) == "enabled:" { sub(/^[^:]*:/, ""); enabled = $0 }
        END { flush() }' "$f"
    done
  } | awk -v c="$codename" '$2 == c && $1 !~ /security/ { print $1; exit }'
)"
[ -n "$mirror" ] || die "no Debian sources entry for suite '$codename' in /etc/apt/sources.list or /etc/apt/sources.list.d; cannot tell which mirror to use"
say "mirror $mirror, suite $suite"

if ! command -v patchelf >/dev/null; then
  say "installing patchelf from Debian"
  apt-get install -y -q patchelf >&2 || { apt-get update -q >&2 && apt-get install -y -q patchelf >&2; } \
    || die "could not install patchelf (apt-get install patchelf)"
fi

rm -rf "$cache"
mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial" "$cache/apt/etc/preferences.d" \
         "$cache/apt/etc/sources.list.d" "$cache/debs" "$root"
: >"$cache/apt/status"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring is missing (package debian-archive-keyring)"
echo "deb [signed-by=$keyring] $mirror $suite main" >"$cache/apt/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$cache/apt/sources.list"
  -o "Dir::Etc::SourceParts=$cache/apt/etc/sources.list.d"
  -o "Dir::Etc::PreferencesParts=$cache/apt/etc/preferences.d"
  -o "Dir::Etc::Preferences=$cache/apt/etc/preferences"
  -o "Dir::State::Lists=$cache/apt/lists"
  -o "Dir::State::status=$cache/apt/status"
  -o "Dir::Cache=$cache/apt"
  -o "Dir::Cache::archives=$cache/apt/archives"
  -o "Debug::NoLocking=1"
  -o "APT::Architecture=amd64"
  -o "APT::Architectures::=amd64"
  -o "Acquire::Languages=none"
  -o "APT::Sandbox::User=root"   # the private directories belong to root, not to _apt
)
say "apt-get update ($suite, private state in $cache/apt)"
apt-get "${apt_opts[@]}" -q update >&2 || die "apt-get update of $suite from $mirror failed"
say "apt-get download ${packages[*]}"
(cd "$cache/debs" && apt-get "${apt_opts[@]}" -q download "${packages[@]}" >&2) \
  || die "apt-get download ${packages[*]} from $mirror $suite failed"
for deb in "$cache"/debs/*.deb; do
  say "dpkg -x $(basename "$deb")"
  dpkg -x "$deb" "$root"
done
rm -rf "$cache/apt" "$cache/debs"   # the unpacked tree is the cache

[ -x "$home/bin/java" ] || die "no bin/java in $home after unpacking"
interp=""
for c in "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$root/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
         "$root/usr/lib64/ld-linux-x86-64.so.2" "$root/lib64/ld-linux-x86-64.so.2"; do
  if [ -e "$c" ]; then interp="$(readlink -f "$c")"; break; fi
done
[ -n "$interp" ] || die "no ld-linux-x86-64.so.2 in the unpacked libc6"
libc_dirs="$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu"
rpath="$libc_dirs:\$ORIGIN/../lib:\$ORIGIN/../lib/server"

is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }
n_exe=0; n_lib=0
# bin/* and the executables in lib/ (jspawnhelper, jexec): real files only (bin/ also holds links)
for f in "$home"/bin/* "$home"/lib/jspawnhelper "$home"/lib/jexec; do
  [ -f "$f" ] && [ ! -L "$f" ] && is_elf "$f" || continue
  f="$(readlink -f "$f")"
  patchelf --set-interpreter "$interp" --set-rpath "$rpath" "$f"
  n_exe=$((n_exe + 1))
done
while IFS= read -r -d '' f; do
  is_elf "$f" || continue
  patchelf --set-rpath "$rpath:\$ORIGIN:\$ORIGIN/.." "$f"   # the last two for lib/server/libjvm.so
  n_lib=$((n_lib + 1))
done < <(find "$home/lib" -name '*.so' -type f -print0)
[ "$n_exe" -gt 0 ] && [ "$n_lib" -gt 0 ] || die "found no ELF files to patch in $home"
say "patched $n_exe executables and $n_lib libraries"

# Links such as lib/jvm.cfg -> /etc/java-21-openjdk/jvm-amd64.cfg, conf -> /etc/java-21-openjdk:
# the unpacked package holds those files under $root/etc/java-21-openjdk.
n_link=0
while IFS= read -r -d '' l; do
  t="$(readlink "$l")"
  case "$t" in
    /etc/java-21-openjdk|/etc/java-21-openjdk/*)
      ln -sfn "$root$t" "$l"
      n_link=$((n_link + 1));;
  esac
done < <(find "$home" -type l -print0)
[ -e "$home/lib/jvm.cfg" ] || die "lib/jvm.cfg does not resolve after repointing the links"
say "repointed $n_link links into /etc/java-21-openjdk"

check || die "the prepared JDK does not run: $("$home/bin/java" -version 2>&1 | head -n 5)"
echo "$stamp_version" >"$stamp"
say "$("$home/bin/java" -version 2>&1 | head -n 1) ready"
echo "$home"

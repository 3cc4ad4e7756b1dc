#!/usr/bin/env bash
# Runs the JUnit tests in lib/*-tests.jar of a GPU bundle (.ci/gpu-bundle.sh puts this file in it) with
# the bundle's runtime; needs no JDK. Arguments go to the JUnit console launcher, e.g. --include-tag gpu.
# Env: JAVA_OPTS (extra JVM options), REPORTS_DIR (default: reports/ next to this file), MOE_RT (an unpacked
# runtime to use instead of rt.tar.gz).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rt=${MOE_RT:-}
if [ -z "$rt" ]; then
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/moe-rt.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  tar -xzf "$here/rt.tar.gz" -C "$tmp" || { echo "run-tests: cannot unpack $here/rt.tar.gz" >&2; exit 3; }
  rt=$tmp/rt
fi
[ -x "$rt/bin/java" ] || { echo "run-tests: no runtime at $rt" >&2; exit 3; }
shopt -s nullglob
jars=("$here"/lib/*.jar)
tests=("$here"/lib/*-tests.jar)
[ ${#tests[@]} -gt 0 ] || { echo "run-tests: no *-tests.jar in $here/lib" >&2; exit 3; }
reports=${REPORTS_DIR:-$here/reports}
mkdir -p "$reports"
cp=$(IFS=:; echo "${jars[*]}")
args=(execute --class-path "$cp" --disable-banner --disable-ansi-colors --fail-if-no-tests --reports-dir "$reports")
selecting=no
for a in "$@"; do case "$a" in --select*) selecting=yes ;; esac; done
if [ "$selecting" = no ]; then
  for t in "${tests[@]}"; do args+=(--scan-class-path "$t"); done
  # surefire's default class names (the launcher alone skips *Tests and *TestCase)
  args+=(--include-classname '^(Test.*|.+[.$]Test.*|.*Tests?|.*TestCase)$')
fi
# shellcheck disable=SC2086  # JAVA_OPTS is split into words on purpose
"$rt/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector ${JAVA_OPTS:-} \
  -jar "$here/$(cat "$here/console.txt")" "${args[@]}" "$@" 2>&1 | tee "$reports/console.log"
rc=${PIPESTATUS[0]}
echo "run-tests: exit $rc; reports in $reports"
exit "$rc"

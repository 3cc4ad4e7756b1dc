#!/usr/bin/env bash
# First use of ./moe on a fresh clone, twice at once: `./moe demo` and `./moe version` start together
# in a clone with nothing built. Both must succeed; exactly one builds, the other waits for that build
# and runs on its jar. Prints the time each took to its first line of output (the demo's first result).
# Usage: .ci/test-first-use.sh [REPO]   (default: this checkout; it clones the committed HEAD)
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$src" "$tmp/repo"
cd "$tmp/repo"
t0=$(date +%s%N)
# Runs ./moe "$@", noting when its first line of output arrived; $1 names the run.
run() {
  local name=$1
  shift
  { local rc=0; ./moe "$@" 2>"$tmp/$name.err" || rc=$?; echo "$rc" >"$tmp/$name.rc"; } | {
    IFS= read -r first || true
    echo $((($(date +%s%N) - t0) / 1000000)) >"$tmp/$name.first-ms"
    { printf '%s\n' "$first"; cat; } >"$tmp/$name.out"
  }
}
run demo demo --seconds 0.2 --sim-steps 20 --tokens 1024 &
run version version &
wait
fail=0
builders=0
for name in demo version; do
  rc=$(cat "$tmp/$name.rc")
  echo "test-first-use: ./moe $name: exit $rc, first output after $(( $(cat "$tmp/$name.first-ms") / 1000 )) s"
  if [ "$rc" != 0 ]; then
    echo "test-first-use: ./moe $name failed:" >&2; tail -n 20 "$tmp/$name.err" >&2; fail=1
  fi
  grep '^moe:' "$tmp/$name.err" | sed 's/^/    /' || true
  if grep -q '^moe: building' "$tmp/$name.err"; then
    builders=$((builders + 1))
  elif ! grep -q 'waiting for it to finish' "$tmp/$name.err"; then
    echo "test-first-use: ./moe $name neither built nor waited for the other's build" >&2; fail=1
  fi
done
if [ "$builders" != 1 ]; then
  echo "test-first-use: $builders commands built the project; expected exactly one (the other waits)" >&2; fail=1
fi
grep -q 'ids cpu vs java: agree' "$tmp/demo.out" || { echo "test-first-use: the demo did not agree:" >&2; cat "$tmp/demo.out" >&2; fail=1; }
[ "$fail" = 0 ] && echo "test-first-use: ok"
exit "$fail"

#!/usr/bin/env bash
# Regenerates the FFM bindings with jextract and diffs them against the checked-in copies (jextract is not in
# our package registries, so the checked-in files are written in exactly its output shape):
#   native/include/moe/moe.h      -> src/main/java/dev/moe/bindings (moe_h and the structs)
#   native/include/moe/moe_mpi.h  -> src/main/java/dev/moe/bindings (moe_mpi_h)
#   native/testkit/moe_testkit.h  -> src/test/java/dev/moe/bindings (moe_testkit_h: the tests' library)
#   bindings/jextract.sh            exit 0 identical, 1 differences (printed), 3 no jextract
#   bindings/jextract.sh --update   overwrite the checked-in files with jextract's output
# JEXTRACT=/path/to/jextract selects the binary (default: jextract on PATH).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
jextract=${JEXTRACT:-$(command -v jextract || true)}
if [ -z "$jextract" ] || [ ! -x "$jextract" ]; then
  echo "jextract.sh: jextract not found (put it on PATH or set JEXTRACT); nothing compared" >&2
  exit 3
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# One header class per header: moe.h -> moe_h (libmoe, libmoe_cuda), moe_mpi.h -> moe_mpi_h (libmoe_mpi),
# moe_testkit.h -> moe_testkit_h (libmoe_testkit). Include filters: only each header's own symbols, derived
# from it so new ones are picked up.
headers=(
  "native/include/moe/moe.h:moe_h:main"
  "native/include/moe/moe_mpi.h:moe_mpi_h:main"
  "native/testkit/moe_testkit.h:moe_testkit_h:test"
)
for entry in "${headers[@]}"; do
  IFS=: read -r rel class dir <<<"$entry"
  header=$root/$rel
  args=()
  for c in $(sed -n 's/^#define \(MOE_[A-Z0-9_]*\) .*/\1/p' "$header" | grep -v '^MOE_MOE_[A-Z_]*H$'); do args+=(--include-constant "$c"); done
  for f in $(sed -n 's/^[a-z].*[ *]\(moe_[a-z0-9_]*\)(.*/\1/p' "$header" | sort -u); do args+=(--include-function "$f"); done
  for s in $(sed -n 's/^typedef struct \(moe_[a-z0-9_]*\) {.*/\1/p' "$header"); do args+=(--include-struct "$s" --include-typedef "$s"); done
  "$jextract" --target-package dev.moe.bindings --header-class-name "$class" --output "$out/$dir" \
    -I "$root/native/include" "${args[@]}" "$header"
done
status=0
for dir in main test; do
  target=$here/src/$dir/java/dev/moe/bindings
  generated=$out/$dir/dev/moe/bindings
  if [ "${1:-}" = "--update" ]; then
    rm -f "$target"/moe_*.java  # jextract's files; package-info.java and the tests (MoeHTest.java) are ours
    cp "$generated"/*.java "$target"/
    echo "jextract.sh: updated $target"
  elif ! diff -ru -x package-info.java -x '[A-Z]*.java' "$target" "$generated"; then
    status=1
  fi
done
[ "${1:-}" = "--update" ] && exit 0
if [ "$status" = 0 ]; then
  echo "jextract.sh: checked-in bindings match jextract's output"
else
  echo "jextract.sh: checked-in bindings differ from jextract's output (run with --update to take it)" >&2
fi
exit "$status"

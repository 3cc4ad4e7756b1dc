#!/usr/bin/env bash
# Regenerates the FFM bindings from native/include/moe/moe.h and moe_mpi.h with jextract and diffs them against the
# hand-maintained copies in src/main/java/dev/moe/bindings (jextract is not in our package registries,
# so the checked-in files are written by hand in exactly its output shape).
#   bindings/jextract.sh            exit 0 identical, 1 differences (printed), 3 no jextract
#   bindings/jextract.sh --update   overwrite the checked-in files with jextract's output
# JEXTRACT=/path/to/jextract selects the binary (default: jextract on PATH).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
target=$here/src/main/java/dev/moe/bindings
jextract=${JEXTRACT:-$(command -v jextract || true)}
if [ -z "$jextract" ] || [ ! -x "$jextract" ]; then
  echo "jextract.sh: jextract not found (put it on PATH or set JEXTRACT); nothing compared" >&2
  exit 3
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# One header class per header: moe.h -> moe_h (libmoe, libmoe_cuda), moe_mpi.h -> moe_mpi_h (libmoe_mpi).
# Include filters: only each header's own symbols, derived from it so new ones are picked up.
for pair in moe:moe_h moe_mpi:moe_mpi_h; do
  header=$root/native/include/moe/${pair%%:*}.h
  args=()
  for c in $(sed -n 's/^#define \(MOE_[A-Z0-9_]*\) .*/\1/p' "$header" | grep -v '^MOE_MOE_\(MPI_\)\?H$'); do args+=(--include-constant "$c"); done
  for f in $(sed -n 's/^[a-z].*[ *]\(moe_[a-z0-9_]*\)(.*/\1/p' "$header" | sort -u); do args+=(--include-function "$f"); done
  for s in $(sed -n 's/^typedef struct \(moe_[a-z0-9_]*\) {.*/\1/p' "$header"); do args+=(--include-struct "$s" --include-typedef "$s"); done
  "$jextract" --target-package dev.moe.bindings --header-class-name "${pair##*:}" --output "$out" \
    -I "$root/native/include" "${args[@]}" "$header"
done
generated=$out/dev/moe/bindings
if [ "${1:-}" = "--update" ]; then
  find "$target" -maxdepth 1 -name '*.java' ! -name package-info.java -delete  # package-info.java is ours
  cp "$generated"/*.java "$target"/
  echo "jextract.sh: updated $target"
  exit 0
fi
if diff -ru -x package-info.java "$target" "$generated"; then
  echo "jextract.sh: checked-in bindings match jextract's output"
else
  echo "jextract.sh: checked-in bindings differ from jextract's output (run with --update to take it)" >&2
  exit 1
fi

#!/usr/bin/env bash
# CI step (no GPU needed): the GPU run's plumbing and the CUDA architecture rules.
#  - cmake/tests/cuda-archs.cmake: 90 and native become 90a, "all" is refused
#  - benchmarks/gpu/run-all.sh against stand-ins for nvidia-smi: no nvidia-smi -> exit 5 ("no-gpu"),
#    a driver older than R580 -> exit 4 naming error 35, no bundle -> exit 3; each writes its summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmake -P "$root/cmake/tests/cuda-archs.cmake"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "gpu-plumbing-test: $*" >&2; exit 1; }
# expect CODE STATUS PATTERN [nvidia-smi output]: runs run-all.sh with PATH holding only the stand-in
expect() {
  local code=$1 status=$2 pattern=$3 smi=${4:-} bin=$work/bin-$1 out=$work/out-$1 rc=0
  mkdir -p "$bin"
  for tool in bash date tee mkdir mktemp cat sed tr cut grep head tail timeout tar rm sleep; do
    ln -sf "$(command -v "$tool")" "$bin/$tool"
  done
  [ -n "$smi" ] && printf '#!/bin/sh\necho "%s"\n' "$smi" > "$bin/nvidia-smi" && chmod +x "$bin/nvidia-smi"
  PATH=$bin OUT=$out MOE_GPU_BUNDLE=$work/no-bundle bash "$root/benchmarks/gpu/run-all.sh" > "$work/log" 2>&1 || rc=$?
  [ "$rc" = "$code" ] || { cat "$work/log"; fail "expected exit $code, got $rc"; }
  grep -q "$pattern" "$work/log" || { cat "$work/log"; fail "no '$pattern' in the output"; }
  grep -q "\"status\": \"$status\"" "$out/summary.json" || { cat "$out/summary.json"; fail "summary status is not $status"; }
  [ -s "$out/summary.md" ] || fail "no summary.md"
  echo "gpu-plumbing-test: exit $code, status $status: ok"
}
expect 5 no-gpu "no GPU: nvidia-smi is not installed"
expect 4 unusable-gpu "cudaErrorInsufficientDriver (35)" "NVIDIA H100 80GB HBM3, 570.124.06, 9.0, 81559 MiB"
expect 3 no-bundle "no bundle at" "NVIDIA H100 80GB HBM3, 580.65.06, 9.0, 81559 MiB"

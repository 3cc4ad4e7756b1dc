#!/usr/bin/env bash
# Builds and runs the native gate timing harness (no JVM): DeepSeek-V3 preset, median of repeated calls,
# for 1 and all OpenMP threads and both kernel variants. Usage: benchmarks/native/run.sh [tokens] [reps]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${MOE_BENCH_BUILD:-$root/benchmarks/target/native-bench}
cmake -S "$root/native" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMOE_CUDA=OFF -DMOE_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" --parallel 2 --target moe_gate_bench >/dev/null
tokens=${1:-4096}
reps=${2:-200}
for kernel in avx2 portable; do
  for threads in 1 "$(nproc)"; do
    OMP_NUM_THREADS=$threads "$build/moe_gate_bench" "$tokens" "$reps" "$kernel" || true
  done
done

#!/usr/bin/env bash
# FP8 benchmarks: `moe bench fp8-gemm` for m in {1, 16, 128} x (n, k) in {(4096, 7168), (7168, 2048)}
# and the grouped layout with 8 experts, each on java (scalar and Vector API) and cpu with the machine's FMA
# peak and read bandwidth measured in the same run (and, when NumPy is installed, FP32 BLAS on the
# dequantised operands for comparison); then the accuracy report. Writes benchmarks/results/fp8/*.json,
# benchmarks/results/fp8-gemm-summary.md, fp8-accuracy.md and fp8-codec.md (JMH). Run on an idle machine (~10 min).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/.mvn/find-jdk.sh"
moe_find_jdk || exit 1
cd "$root"
./mvnw -B -q -DskipTests package
out=benchmarks/results/fp8
mkdir -p "$out"
seconds=${SECONDS_PER_BACKEND:-3}
for nk in "4096 7168" "7168 2048"; do
  set -- $nk
  for m in 1 16 128; do
    ./moe bench fp8-gemm --m "$m" --n "$1" --k "$2" --seconds "$seconds" --json "$out/gemm-m$m-n$1-k$2.json"
  done
  ./moe bench fp8-gemm --m 256 --n "$1" --k "$2" --experts 8 --backends cpu --seconds "$seconds" \
    --json "$out/grouped8-m256-n$1-k$2.json"
done
"$JAVA_HOME/bin/java" -cp benchmarks/target/benchmarks.jar dev.moe.bench.Fp8BenchSummary "$out" > benchmarks/results/fp8-gemm-summary.md
# The alternative a CPU user has: dequantise to FP32 and multiply with BLAS through NumPy (only if NumPy
# is installed; it is not a dependency).
if python3 -c 'import numpy' 2>/dev/null; then
  {
    echo
    echo "FP32 BLAS on the dequantised operands, same machine (benchmarks/numpy_sgemm.py):"
    echo
    python3 benchmarks/numpy_sgemm.py --seconds "$seconds" 1,4096,7168 16,4096,7168 128,4096,7168 1,7168,2048 16,7168,2048 128,7168,2048
  } >> benchmarks/results/fp8-gemm-summary.md
fi
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
  dev.moe.bench.Fp8AccuracyReport benchmarks/results/fp8-accuracy.md > /dev/null
# Codec and block quantisation throughput (JMH): Java scalar, Vector API, native.
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar Fp8CodecBenchmark \
  -rf json -rff "$out/codec-jmh.json" > /dev/null
{
  echo "# FP8 E4M3 codec and 1x128 quantisation (JMH, 2^24 floats)"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) logical CPUs. Java paths single-threaded, native uses OpenMP on all CPUs."
  echo
  "$JAVA_HOME/bin/java" -cp benchmarks/target/benchmarks.jar dev.moe.bench.Fp8CodecReport "$out/codec-jmh.json"
} > benchmarks/results/fp8-codec.md
cat benchmarks/results/fp8-gemm-summary.md benchmarks/results/fp8-codec.md

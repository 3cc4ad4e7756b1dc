#!/usr/bin/env bash
# FP8 benchmarks of issue 5: `moe bench fp8-gemm` for m in {1, 16, 128} x (n, k) in {(4096, 7168), (7168, 2048)}
# and the grouped layout with 8 experts, each on java (scalar and Vector API) and cpu with the machine's FMA
# peak and read bandwidth measured in the same run; then the accuracy report. Writes benchmarks/results/fp8/*.json,
# benchmarks/results/fp8-gemm-summary.md and benchmarks/results/fp8-accuracy.md. Run on an idle machine.
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
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
  dev.moe.bench.Fp8AccuracyReport benchmarks/results/fp8-accuracy.md > /dev/null
cat benchmarks/results/fp8-gemm-summary.md

#!/usr/bin/env bash
# Runs the gate JMH benchmarks and writes benchmarks/results/route-jmh.json and route-summary.md
# (ratios against the Java reference). Run on an otherwise idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/.mvn/find-jdk.sh"
moe_find_jdk || exit 1
cd "$root"
[ -f benchmarks/target/benchmarks.jar ] || ./mvnw -B -q -DskipTests package
out=benchmarks/results
mkdir -p "$out"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar \
  'RouteBenchmark|FfmOverheadBenchmark' -rf json -rff "$out/route-jmh.json" "$@"
{
  echo "# Gate benchmark (JMH), DeepSeek-V3 preset"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) logical CPUs; $("$JAVA_HOME/bin/java" -version 2>&1 | sed -n 1p)"
  echo "Baseline: the pure-Java reference router (single-threaded, scalar). Date: $(date -u +%F)."
  echo
  "$JAVA_HOME/bin/java" -cp benchmarks/target/benchmarks.jar dev.moe.bench.RouteReport "$out/route-jmh.json"
} > "$out/route-summary.md"
cat "$out/route-summary.md"

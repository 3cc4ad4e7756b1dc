#!/usr/bin/env bash
# Runs the load-balancing study (dev.moe.bench.BalancingStudy) and writes its plots, summary.csv and
# tables.md under benchmarks/results/balancing-study/ (~10 minutes on 2 cores). Optional: steps (default 2000).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/.mvn/find-jdk.sh"
moe_find_jdk || exit 1
cd "$root"
./mvnw -B -q -DskipTests package
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
  dev.moe.bench.BalancingStudy benchmarks/results/balancing-study "$@"

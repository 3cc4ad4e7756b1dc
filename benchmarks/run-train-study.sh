#!/usr/bin/env bash
# Runs the training study (dev.moe.bench.TrainStudy) on the English text of Debian's "fortunes" package
# and writes per-run CSVs, summary.csv, summary.md and plots under OUT_DIR.
# Arguments (optional): STEPS (default 1000), SEEDS (default 3), DIM (default 128), OUT_DIR (default
# benchmarks/results/train-study; use another directory for other STEPS or DIM). The full default
# study is 10 arms x 3 seeds (under an hour on 2 idle cores; 3000 steps under two hours); a stopped study continues where it
# left off when started again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/.mvn/find-jdk.sh"
moe_find_jdk || exit 1
cd "$root"
fortunes=/usr/share/games/fortunes
if [ ! -d "$fortunes" ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  echo "run-train-study: installing Debian's fortunes package (the corpus)" >&2
  $sudo apt-get install -y -q fortunes >/dev/null
fi
out=${4:-benchmarks/results/train-study}
mkdir -p "$out"
corpus=$(mktemp)
trap 'rm -f "$corpus"' EXIT
# Every text file of the package, in name order (the .dat files are indexes; .u8 names are links).
find "$fortunes" -maxdepth 1 -type f ! -name '*.dat' -print0 | sort -z | xargs -0 cat > "$corpus"
echo "corpus: $(wc -c < "$corpus") bytes, sha256 $(sha256sum "$corpus" | cut -c1-16)..., from $(dpkg-query -W -f='${Package} ${Version}' fortunes 2>/dev/null || echo fortunes)" \
  | tee "$out/corpus.txt"
./mvnw -B -q -DskipTests package
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
  dev.moe.bench.TrainStudy "$out" "$corpus" "${1:-1000}" "${2:-3}" "${3:-128}"

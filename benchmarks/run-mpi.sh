#!/usr/bin/env bash
# Multi-process figures on one box (ranks as pseudo-nodes): the data-parallel balancing loop
# and the expert-parallel MoE layer under mpirun, 4 ranks. Writes benchmarks/results/mpi/*.txt|json and
# benchmarks/results/mpi-summary.md. Needs Open MPI (apt-get install openmpi-bin libopenmpi-dev).
# With more ranks than cores the ranks share cores (--oversubscribe): times are an upper bound.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=benchmarks/results/mpi
mkdir -p "$out"
np=${RANKS:-4}
run() {  # name, then the moe arguments
  local name=$1; shift
  echo "== mpirun -np $np ./moe $*" | tee "$out/$name.txt"
  mpirun --oversubscribe -np "$np" ./moe "$@" 2>&1 | grep -v ' INFO \|^WARNING: Using incubator' | tee -a "$out/$name.txt"
}
./moe version > /dev/null  # builds once, before the ranks start
run simulate-v3 simulate --mpi --preset deepseek-v3 --steps 500 --tokens-per-step 8192 --csv "$out/simulate-v3.csv"
run simulate-v2 simulate --mpi --preset deepseek-v2 --steps 500 --tokens-per-step 8192 --csv "$out/simulate-v2.csv"
for rpn in 1 2; do
  for combine in exact bf16; do
    run "ep-layer-rpn$rpn-$combine" bench ep-layer --mpi --ranks-per-node "$rpn" --combine "$combine" --check \
      --experts 64 --topk 8 --hidden 1024 --intermediate 256 --tokens 512 --steps 10 --json "$out/ep-layer-rpn$rpn-$combine.json"
  done
done
{
  echo "# MPI runs ($np ranks on one machine, ranks as pseudo-nodes)"
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)); $(mpirun --version | sed -n 1p)."
  echo "Produced by \`benchmarks/run-mpi.sh\`; the ranks share the cores (oversubscribed), so step times are upper bounds."
  echo
  for f in "$out"/*.txt; do
    echo "## $(basename "$f" .txt)"
    echo
    echo '```'
    cat "$f"
    echo '```'
    echo
  done
} > benchmarks/results/mpi-summary.md
rm -f "$out"/*.csv
echo "wrote benchmarks/results/mpi-summary.md"

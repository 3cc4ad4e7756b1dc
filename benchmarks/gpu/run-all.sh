#!/usr/bin/env bash
# The whole GPU validation in one command, for a machine with the driver but no JDK (device calls last at
# most 10 minutes, so the phases share a budget of MOE_GPU_BUDGET_S = 570 s and each has a timeout):
#
#   here:            .ci/gpu-bundle.sh                       (target/gpu-bundle: runtime, jars, launcher)
#   on the GPU:      bash benchmarks/gpu/run-all.sh [PHASE...] (device tool: carry ["target/gpu-bundle"])
#
# Phases, in order (default: all): preflight tests gridcap memcheck racecheck torch bench.
#   preflight  nvidia-smi, the driver (CUDA 13's static runtime needs R580+), `moe version`
#   tests      the gpu-tagged JUnit tests, then `moe check --backend cuda` (one line per kernel)
#   gridcap    the Hopper GEMM tests again with MOE_CUDA_GRID_CAP=3: each block walks hundreds of tiles
#   memcheck, racecheck   compute-sanitizer over the quick CUDA test classes
#   torch      the PyTorch cross-check, where torch is installed
#   bench      the anchor benchmarks (gate at 4096 tokens, FP8 GEMM 4096x4096x7168, grouped, the layer)
# Writes to $OUT (default ./gpu-out): run-all.log, summary.json, summary.md, junit*/, sanitizer-*.log, the
# benchmark JSON. Exit status (summary status): 0 every phase passed (ok); 1 a phase failed or timed out
# (failed); 3 the bundle is missing (no-bundle); 4 a GPU is visible that the library cannot use, the
# reason printed (unusable-gpu); 5 no GPU here, nothing run (no-gpu): never mistaken for a pass.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bundle=${MOE_GPU_BUNDLE:-$root/target/gpu-bundle}
out=${OUT:-$root/gpu-out}
budget=${MOE_GPU_BUDGET_S:-570}
mkdir -p "$out"
exec > >(tee -a "$out/run-all.log") 2>&1
t0=$SECONDS
phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(preflight tests gridcap memcheck racecheck torch bench)
results=()   # "phase|status|seconds|note"
device="none" driver="none" runtime="unknown" status=ok

say() { echo "[run-all $(date -u +%H:%M:%S) +$((SECONDS - t0))s] $*"; }
wants() { local p; for p in "${phases[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }
record() { results+=("$1|$2|$3|$4"); say "phase $1: $2 (${3}s)${4:+ - $4}"; }
json_str() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr -d '\n'; }

summary() {
  local rc=$1 r p st s n
  {
    echo "{"
    echo "  \"status\": \"$status\", \"exit\": $rc, \"seconds\": $((SECONDS - t0)),"
    echo "  \"device\": \"$(json_str "$device")\", \"driver\": \"$(json_str "$driver")\", \"runtime\": \"$(json_str "$runtime")\","
    echo "  \"bundle\": \"$(json_str "$(cat "$bundle/build-info.txt" 2>/dev/null | tr '\n' ' ')")\","
    echo "  \"phases\": ["
    local first=1
    for r in "${results[@]}"; do
      IFS='|' read -r p st s n <<< "$r"
      [ $first = 1 ] || echo ","
      first=0
      printf '    {"phase": "%s", "status": "%s", "seconds": %s, "note": "%s"}' "$p" "$st" "$s" "$(json_str "$n")"
    done
    echo ""
    echo "  ]"
    echo "}"
  } > "$out/summary.json"
  {
    echo "# GPU validation: $status"
    echo
    echo "- device: $device"
    echo "- driver: $driver"
    echo "- runtime: $runtime"
    echo "- bundle: $(cat "$bundle/build-info.txt" 2>/dev/null | tr '\n' ' ')"
    echo "- total: $((SECONDS - t0)) s, exit $rc"
    echo
    echo "| phase | status | seconds | note |"
    echo "|---|---|---|---|"
    for r in "${results[@]}"; do
      IFS='|' read -r p st s n <<< "$r"
      echo "| $p | $st | $s | $n |"
    done
  } > "$out/summary.md"
  say "summary: $out/summary.json, $out/summary.md"
  cat "$out/summary.md"
}
finish() { summary "$1"; exit "$1"; }

# A phase's timeout: its own default, never past the budget (minus 15 s for the summary).
limit() {
  local left=$((budget - (SECONDS - t0) - 15))
  [ "$left" -lt "$1" ] && echo "$((left > 5 ? left : 5))" || echo "$1"
}
# run_phase NAME DEFAULT_TIMEOUT COMMAND...: runs it under timeout, records pass / fail / timeout (with
# SOFT_TIMEOUT set, a timeout is recorded as "incomplete" and fails nothing: the sanitizers are slow).
run_phase() {
  local name=$1 secs start rc
  secs=$(limit "$2")
  shift 2
  say "phase $name: starting (timeout ${secs}s): $*"
  start=$SECONDS
  timeout --kill-after=10 "$secs" "$@"
  rc=$?
  if { [ $rc = 124 ] || [ $rc = 137 ]; } && [ -n "${SOFT_TIMEOUT:-}" ]; then
    record "$name" incomplete $((SECONDS - start)) "stopped after ${secs}s (slow under the tool, not a failure); no error before that"
  elif [ $rc = 124 ] || [ $rc = 137 ]; then
    record "$name" timeout $((SECONDS - start)) "killed after ${secs}s: a hang (the last test or kernel started is above)"
    status=failed
  elif [ $rc != 0 ]; then
    record "$name" failed $((SECONDS - start)) "exit $rc"
    status=failed
  else
    record "$name" passed $((SECONDS - start)) ""
  fi
  return $rc
}

# ---- preflight: a GPU, a driver the library can use, the bundle ------------------------------------
if ! command -v nvidia-smi > /dev/null; then
  status=no-gpu
  say "no GPU: nvidia-smi is not installed here; nothing to validate (exit 5)"
  record preflight skipped 0 "no nvidia-smi"
  finish 5
fi
gpus=$(timeout 30 nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv,noheader 2>&1)
if [ $? != 0 ] || [ -z "$gpus" ] || ! grep -q ',' <<< "$gpus"; then
  status=no-gpu
  say "no GPU: nvidia-smi lists none ($gpus); nothing to validate (exit 5)"
  record preflight skipped 0 "nvidia-smi lists no GPU"
  finish 5
fi
say "GPUs: $gpus"
device=$(printf '%s\n' "$gpus" | head -n 1 | cut -d, -f1 | sed 's/^ *//')
driver=$(printf '%s\n' "$gpus" | head -n 1 | cut -d, -f2 | tr -d ' ')
cap=$(printf '%s\n' "$gpus" | head -n 1 | cut -d, -f3 | tr -d ' ')
device="$device (compute capability $cap)"
if [ "${driver%%.*}" -lt 580 ] 2> /dev/null; then
  status=unusable-gpu
  say "FAIL: the driver is $driver, older than R580, which the CUDA 13 runtime linked into libmoe_cuda.so needs:"
  say "      every CUDA call fails with cudaErrorInsufficientDriver (35), and every gpu test would skip as"
  say "      'no GPU' and look green. Use a machine with driver 580 or newer (exit 4)."
  record preflight failed 0 "driver $driver < R580 (CUDA 13 static runtime: error 35)"
  finish 4
fi
if [ ! -f "$bundle/rt.tar.gz" ] || [ ! -f "$bundle/run-tests.sh" ]; then
  status=no-bundle
  say "FAIL: no bundle at $bundle (build it with .ci/gpu-bundle.sh and carry target/gpu-bundle) (exit 3)"
  record preflight failed 0 "no bundle"
  finish 3
fi
rt_dir=$(mktemp -d "${TMPDIR:-/tmp}/moe-rt.XXXXXX")
trap 'rm -rf "$rt_dir"' EXIT
tar -xzf "$bundle/rt.tar.gz" -C "$rt_dir" || { status=no-bundle; record preflight failed 0 "cannot unpack rt.tar.gz"; finish 3; }
export MOE_RT=$rt_dir/rt
java=$MOE_RT/bin/java
jvm=("$java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "$bundle/lib/*")
runtime="CUDA runtime of the bundle: $(grep -o 'nvcc release [0-9.]*' "$bundle/build-info.txt" 2> /dev/null || echo unknown), static"

if wants preflight; then
  say "phase preflight: moe version"
  version=$(timeout 60 "${jvm[@]}" dev.moe.cli.MoeCli version 2>&1)
  echo "$version"
  cuda_line=$(printf '%s\n' "$version" | grep '^backend cuda' || true)
  # The library's own report of the runtime it links (and the driver it sees), when it gives one.
  lib_versions=$(grep -o 'driver [0-9.]*, runtime [0-9.]*\|no CUDA driver, runtime [0-9.]*' <<< "$cuda_line" | head -n 1)
  [ -n "$lib_versions" ] && runtime="$runtime; library reports: $lib_versions"
  if ! grep -q 'usable .*GPU(s) found' <<< "$cuda_line"; then
    status=unusable-gpu
    say "FAIL: nvidia-smi sees $device (driver $driver) but the library cannot use it: ${cuda_line:-no cuda backend line}"
    say "      (error 35: driver too old for CUDA 13; 'no kernel image': the library lacks this architecture) (exit 4)"
    record preflight failed 0 "library cannot use the GPU: $cuda_line"
    finish 4
  fi
  record preflight passed 0 "$cuda_line"
fi

quick_classes=(--select-class dev.moe.fp8.CudaFp8Test --select-class dev.moe.routing.CudaRouterTest
  --select-class dev.moe.layer.CudaMoeLayerTest --exclude-tag exhaustive --exclude-tag large)
if wants tests; then
  REPORTS_DIR=$out/junit run_phase tests 240 bash "$bundle/run-tests.sh" --include-tag gpu --details=tree
  run_phase check 60 "${jvm[@]}" dev.moe.cli.MoeCli check --backend cuda --json "$out/check-cuda.json"
fi
if wants gridcap; then
  MOE_CUDA_GRID_CAP=3 REPORTS_DIR=$out/junit-gridcap run_phase gridcap 60 bash "$bundle/run-tests.sh" \
    --select-class dev.moe.fp8.CudaFp8Test --select-class dev.moe.layer.CudaMoeLayerTest --exclude-tag exhaustive \
    --details=summary
fi
for tool in memcheck racecheck; do
  wants "$tool" || continue
  if ! command -v compute-sanitizer > /dev/null; then
    record "$tool" skipped 0 "compute-sanitizer not installed"
    continue
  fi
  SOFT_TIMEOUT=1 REPORTS_DIR=$out/junit-$tool run_phase "$tool" 80 compute-sanitizer --tool "$tool" --target-processes all \
    --error-exitcode 9 --log-file "$out/sanitizer-$tool.log" bash "$bundle/run-tests.sh" "${quick_classes[@]}" --details=summary
  tail -n 3 "$out/sanitizer-$tool.log" 2> /dev/null
done
if wants torch; then
  if python3 -c 'import torch; assert torch.cuda.is_available()' 2> /dev/null; then
    mkdir -p "$out/torch"
    run_phase torch 45 python3 "$root/benchmarks/gpu/torch_check.py" "$out/torch" "${jvm[@]}" dev.moe.cli.MoeCli
  else
    record torch skipped 0 "no PyTorch with CUDA here"
  fi
fi
if wants bench; then
  say "anchors: SGLang's fused gate ~25-32 us at 4-5k tokens (goal <= 5 us at 4096); DeepGEMM 1410 TFLOPS on H800 at 4096x4096x7168 (goal >= 1000)"
  cli=("${jvm[@]}" dev.moe.cli.MoeCli bench)
  run_phase bench-gate 40 "${cli[@]}" route --preset deepseek-v3 --tokens 4096 --backends cpu,cuda --seconds 0.5 \
    --json "$out/route-v3-4096.json"
  run_phase bench-gemm 45 "${cli[@]}" fp8-gemm --m 4096 --n 4096 --k 7168 --backends cuda --seconds 0.5 \
    --json "$out/gemm-4096-4096-7168.json"
  run_phase bench-grouped 40 "${cli[@]}" fp8-gemm --m 4096 --n 7168 --k 2048 --experts 8 --backends cuda --seconds 0.5 \
    --json "$out/grouped-w2-e8.json"
  run_phase bench-layer 45 "${cli[@]}" layer --preset deepseek-v3 --shared --tokens 128,4096 --backends cuda \
    --tensor-cores --seconds 0.5 --json "$out/layer-v3.json"
fi
[ "$status" = ok ] && finish 0
finish 1

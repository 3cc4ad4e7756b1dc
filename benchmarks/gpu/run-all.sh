#!/usr/bin/env bash
# Everything the CUDA issue asks of a GPU run, in one command for the device tool (which has minutes, not
# hours): the gpu-tagged tests, the same under compute-sanitizer memcheck and racecheck, then the
# benchmarks against the anchors, all written under $OUT (default ./gpu-out).
#
# On the dev machine:   .ci/gpu-bundle.sh            (builds target/gpu-bundle)
# On the GPU (device tool, carry ["target/gpu-bundle"]):
#   bash benchmarks/gpu/run-all.sh [tests] [sanitize] [torch] [bench] [quick]
# Phases run in that order (default: tests bench); each device call is limited to 10 minutes, so run
# "sanitize" in a call of its own. "quick" shortens the timings. Copy $OUT's files into
# benchmarks/results/gpu/ with the device named.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bundle=$root/target/gpu-bundle
out=${OUT:-$root/gpu-out}
phases=" $* "
[ "$phases" = "  " ] && phases=" tests torch bench "
has() { [[ "$phases" == *" $1 "* ]]; }
quick=
has quick && quick=quick
mkdir -p "$out"
log=$out/run-all.log
exec > >(tee -a "$log") 2>&1

nvidia-smi || echo "run-all: nvidia-smi failed"

# The bundle's runtime (run-tests.sh unpacks rt.tar.gz the same way).
if [ -d "$bundle/rt" ]; then
  rt=$bundle/rt
else
  rt=$(mktemp -d /tmp/moe-rt.XXXX)
  tar -xzf "$bundle/rt.tar.gz" -C "$rt" || { echo "run-all: no runtime in $bundle"; exit 3; }
  [ -x "$rt/bin/java" ] || rt=$(dirname "$(dirname "$(find "$rt" -path '*/bin/java' -print -quit)")")
fi
java=$rt/bin/java
# A hung kernel (say an mbarrier that never completes) must not eat the whole device call: every command
# runs under a timeout, and the test log names the test that was running.
moe() { timeout "${MOE_BENCH_TIMEOUT:-150}" "$java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
  -cp "$bundle/lib/*" dev.moe.cli.MoeCli "$@" || echo "run-all: exit $? from moe $*"; }

echo "== version"; moe version

tests_rc=0
if has tests; then
  echo "== moe check --backend cuda (every CUDA kernel against the Java reference, one line each)"
  moe check --backend cuda --json "$out/check-cuda.json"
  echo "== gpu tests"
  REPORTS_DIR=$out/junit timeout "${MOE_TEST_TIMEOUT:-300}" bash "$bundle/run-tests.sh" --include-tag gpu --details=tree
  tests_rc=$?
  [ "$tests_rc" = 124 ] && echo "run-all: the gpu tests timed out (a hang: see the last test started above)"
fi
if has sanitize && command -v compute-sanitizer > /dev/null; then
  for tool in memcheck racecheck; do
    echo "== compute-sanitizer $tool"
    REPORTS_DIR=$out/junit-$tool timeout "${MOE_SANITIZE_TIMEOUT:-280}" compute-sanitizer --tool "$tool" --target-processes all --error-exitcode 9 \
      bash "$bundle/run-tests.sh" --include-tag gpu > "$out/sanitizer-$tool.log" 2>&1
    echo "compute-sanitizer $tool: exit $? ($(grep -c 'ERROR SUMMARY' "$out/sanitizer-$tool.log") summaries; tail:)"
    tail -n 3 "$out/sanitizer-$tool.log"
  done
fi

if has torch; then
  echo "== cross-check against PyTorch (if installed)"
  mkdir -p "$out/torch"
  python3 "$root/benchmarks/gpu/torch_check.py" "$out/torch" "$java" --enable-native-access=ALL-UNNAMED \
    --add-modules jdk.incubator.vector -cp "$bundle/lib/*" dev.moe.cli.MoeCli
fi
has bench || { echo "run-all: gpu tests exit $tests_rc; results in $out"; exit "$tests_rc"; }
secs=2
[ "$quick" = quick ] && secs=0.5
echo "== gate (anchor: SGLang's fused gate ~25-32 us at 4-5k tokens; goal <= 5 us at 4096)"
for t in 1 16 128 1024 4096 16384; do
  moe bench route --preset deepseek-v3 --tokens "$t" --backends cpu,cuda --seconds "$secs" --json "$out/route-v3-$t.json"
done
echo "== FP8 GEMM (anchor: DeepGEMM 1410 TFLOPS on H800 at m=4096 n=4096 k=7168; goal >= 1000)"
moe bench fp8-gemm --m 4096 --n 4096 --k 7168 --backends cuda --seconds "$secs" --json "$out/gemm-4096-4096-7168.json"
moe bench fp8-gemm --m 4096 --n 7168 --k 2048 --backends cuda --seconds "$secs" --json "$out/gemm-4096-7168-2048.json"
# V3 expert shapes, grouped: w13 (n = 2 x 2048, k = 7168) and w2 (n = 7168, k = 2048), 8 and 32 experts.
for e in 8 32; do
  moe bench fp8-gemm --m $((e * 512)) --n 4096 --k 7168 --experts "$e" --backends cuda --seconds "$secs" \
    --json "$out/grouped-w13-e$e.json"
  moe bench fp8-gemm --m $((e * 512)) --n 7168 --k 2048 --experts "$e" --backends cuda --seconds "$secs" \
    --json "$out/grouped-w2-e$e.json"
done
echo "== GPU-resident MoE layer (V3 routing: 256 experts, top-8; H 1024, I 256, shared expert; Java heap arrays cap the size)"
moe bench layer --preset deepseek-v3 --shared --tokens 1,16,128,1024,4096 \
  --backends cpu,cuda --tensor-cores --seconds "$secs" --json "$out/layer-v3.json"
echo "run-all: gpu tests exit $tests_rc; results in $out"
exit "$tests_rc"

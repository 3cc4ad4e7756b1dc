#!/usr/bin/env bash
# Unit tests of the launcher's build logic (.mvn/launcher-build.sh), without building anything:
# which CUDA architectures it builds for a GPU that nvidia-smi reports (a stand-in nvidia-smi), and
# that a command finding the build lock taken waits for it with a message and then uses the jar.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # $1 = what, $2 = expected, $3 = actual
  if [ "$2" != "$3" ]; then echo "test-launcher: $1: expected '$2', got '$3'" >&2; fail=1; fi
}
root=$tmp/repo
. "$here/.mvn/launcher-build.sh"

# CUDA: none without nvidia-smi or without a GPU; else the GPU's own architecture.
mkdir -p "$tmp/bin" "$tmp/nogpu"
cuda_for() { # $1 = compute capability the stand-in reports ("" = nvidia-smi lists no GPU)
  cat > "$tmp/bin/nvidia-smi" <<SMI
#!/usr/bin/env bash
[ -n "$1" ] || { echo "No devices were found"; exit 6; }
case "\$1" in
  -L) echo "GPU 0: Some GPU (UUID: GPU-0)"; echo "GPU 1: Some GPU (UUID: GPU-1)" ;;
  *) echo "$1"; echo "$1" ;;
esac
SMI
  chmod +x "$tmp/bin/nvidia-smi"
  PATH="$tmp/bin:$PATH" moe_choose_cuda
  echo "${moe_cuda_flags[*]}"
}
PATH="$tmp/nogpu" moe_choose_cuda
expect "no nvidia-smi" "-Dmoe.cuda=OFF" "${moe_cuda_flags[*]}"
expect "nvidia-smi, no GPU" "-Dmoe.cuda=OFF" "$(cuda_for "")"
expect "H100" "-Dmoe.cuda=AUTO -Dmoe.cuda.archs=90a" "$(cuda_for 9.0)"
expect "L4" "-Dmoe.cuda=AUTO -Dmoe.cuda.archs=89" "$(cuda_for 8.9)"
expect "A10" "-Dmoe.cuda=AUTO -Dmoe.cuda.archs=80" "$(cuda_for 8.6)"
expect "a newer GPU" "-Dmoe.cuda=AUTO -Dmoe.cuda.archs=80;89;90a" "$(cuda_for 12.0)"
expect "MOE_CUDA=ON" "-Dmoe.cuda=ON" "$(MOE_CUDA=ON moe_choose_cuda; echo "${moe_cuda_flags[*]}")"

# Locking: a current jar, the lock held by a "build" for 3 s: the command waits, says so, then uses the jar.
mkdir -p "$root/java-src/target" "$root/target" "$root/native"
touch "$root/native/a.cpp"
sleep 1
touch "$root/java-src/target/moe-routing-9-cli.jar"
(flock -x 9; touch "$tmp/locked"; sleep 3) 9>>"$root/target/.moe-build.lock" &
while [ ! -e "$tmp/locked" ]; do sleep 0.1; done
start=$SECONDS
moe_ensure_jar 2>"$tmp/err"
wait
expect "jar after waiting" "$root/java-src/target/moe-routing-9-cli.jar" "$jar"
[ $((SECONDS - start)) -ge 2 ] || { echo "test-launcher: did not wait for the lock" >&2; fail=1; }
grep -q "waiting for it to finish" "$tmp/err" || { echo "test-launcher: no waiting message:" >&2; cat "$tmp/err" >&2; fail=1; }
# A source newer than the jar is found; a current jar with a free lock is used at once, silently.
touch "$root/native/b.cpp"
expect "stale source" "$root/native/b.cpp" "$(moe_find_stale "$jar")"
touch "$jar"
moe_ensure_jar 2>"$tmp/err"
expect "free lock: messages" "" "$(cat "$tmp/err")"
# Where the lock cannot be made (here: target is a file), a current jar is still used.
saved=$root
root=$tmp/readonly
mkdir -p "$root/java-src/target"
touch "$root/java-src/target/moe-routing-9-cli.jar" "$root/target"
moe_ensure_jar 2>"$tmp/err"
expect "no lock file: jar" "$root/java-src/target/moe-routing-9-cli.jar" "$jar"
root=$saved
[ "$fail" = 0 ] && echo "test-launcher: ok"
exit "$fail"

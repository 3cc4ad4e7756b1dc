#!/usr/bin/env bash
# CI step: builds the native CPU library and the tests' library (libmoe_testkit) with AddressSanitizer +
# UBSan (CMake option MOE_SANITIZE) and runs the test suite against them (the exhaustive 2^32 sweeps excluded: they would take minutes under
# ASan). The JVM is not instrumented, so the ASan runtime is preloaded into the test JVM; the JVM's own
# SIGSEGV handling (implicit null checks) stays with the JVM (handle_segv=0). A finding aborts the test
# JVM, fails the build and leaves its report in */target/asan-report.* (printed below).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. .mvn/find-jdk.sh
moe_find_jdk || exit 1
build=target/asan
cmake -S native -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOE_SANITIZE=ON -DMOE_CUDA=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)" >/dev/null
asan=$(gcc -print-file-name=libasan.so)
opts="detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:use_sigaltstack=0:halt_on_error=1:exitcode=86"
opts="$opts:log_path=target/asan-report"
rm -f bindings/target/asan-report.* java-src/target/asan-report.*
status=0
./mvnw -B verify -pl bindings,java-src -DexcludedGroups=exhaustive,gpu,mpi,glibc-malloc -Dmoe.native.path="$root/$build/libmoe.so:$root/$build/libmoe_testkit.so" \
  -Dmoe.test.preload="$asan" -Dmoe.test.asan.options="$opts" \
  -Dmoe.test.ubsan.options="print_stacktrace=1:halt_on_error=1:log_path=target/asan-report" || status=$?
for report in bindings/target/asan-report.* java-src/target/asan-report.*; do
  [ -f "$report" ] && { echo "== $report"; cat "$report"; status=1; }
done
[ "$status" = 0 ] && echo "sanitize: all tests passed against the ASan/UBSan build of libmoe and libmoe_testkit"
exit "$status"

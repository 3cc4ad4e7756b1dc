#!/bin/sh
# CUDA compiler launcher (MOE_CUDA_KERNEL_CHECK): runs the nvcc command line it is given and keeps what
# ptxas reports with -Xptxas -v in <object>.ptxas.log, for cmake/MoeCheckKernels.cmake; every other
# message still reaches the build log.
obj=
prev=
for arg in "$@"; do
  [ "$prev" = "-o" ] && obj=$arg
  prev=$arg
done
[ -n "$obj" ] || exec "$@"
"$@" 2> "$obj.ptxas.tmp"
rc=$?
grep -v -e '^ptxas info' -e '^ *[0-9]* bytes stack frame' "$obj.ptxas.tmp" >&2
mv -f "$obj.ptxas.tmp" "$obj.ptxas.log"
exit $rc

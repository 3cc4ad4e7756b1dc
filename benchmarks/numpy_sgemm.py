#!/usr/bin/env python3
"""What a CPU user would do instead of the FP8 GEMM: dequantise to FP32 and call BLAS through NumPy.

Times C = A @ B.T in FP32 (OpenBLAS sgemm, or sgemv for m = 1) for each shape given as m,n,k and prints
one Markdown table row per shape: median milliseconds, GFLOP/s and GB/s (B's FP32 bytes read once).
Used by run-fp8.sh only when NumPy is installed; NumPy is not a dependency of the project.

Usage: numpy_sgemm.py [--seconds S] m,n,k [m,n,k ...]
"""
import sys
import time

import numpy as np


def measure(fn, seconds):
    fn()  # warm-up: BLAS threads, page faults
    times = []
    end = time.perf_counter() + seconds
    while len(times) < 3 or time.perf_counter() < end:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main(argv):
    seconds = 2.0
    if len(argv) >= 2 and argv[0] == "--seconds":
        seconds = float(argv[1])
        argv = argv[2:]
    if not argv:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    rng = np.random.default_rng(1)
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except (TypeError, KeyError):  # NumPy before 1.25 prints its config only
        blas = "BLAS"
    print(f"| m | n | k | NumPy {np.__version__} ({blas}) | ms | GFLOP/s | GB/s (B in FP32) |")
    print("|---|---|---|---|---|---|---|")
    for shape in argv:
        m, n, k = (int(x) for x in shape.split(","))
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((n, k), dtype=np.float32)
        if m == 1:
            v = a[0]
            median = measure(lambda: b @ v, seconds)
            op = "sgemv"
        else:
            bt = b.T
            median = measure(lambda: a @ bt, seconds)
            op = "sgemm"
        gflops = 2.0 * m * n * k / median / 1e9
        gbs = 4.0 * n * k / median / 1e9
        print(f"| {m} | {n} | {k} | {op} | {median * 1e3:.3f} | {gflops:.1f} | {gbs:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Cross-checks the CUDA backend's FP8 results against PyTorch, where PyTorch is installed (the GPU
machine may not have it; the script then says so and exits 0).

  python3 benchmarks/gpu/torch_check.py DIR MOE...

DIR is a scratch folder; MOE is the command that runs the CLI (e.g. the bundle's java invocation).
1. quantisation: `moe fp8 quantize --backend cuda` codes must equal torch's float8_e4m3fn cast of x / scale
   with the same scales (torch rounds to nearest even and saturates like the spec's e4m3fn codec: values
   are clamped to +-448 first, since torch's cast of larger values gives NaN);
2. GEMM: `moe fp8 gemm --backend cuda` against torch.matmul of the dequantised operands in float64,
   relative error per output within 1e-5 of sum |a||b| (FP32 chunk sums and promotion).
"""
import subprocess
import sys

try:
    import numpy as np
except ImportError:  # the GPU machine may lack it too
    np = None


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("torch_check: %s failed: %s" % (" ".join(cmd), r.stderr.strip()))


def dequantize(q, scales, rows_per_tile):
    import torch
    x = torch.from_numpy(q).view(torch.float8_e4m3fn).to(torch.float64).numpy()
    s = np.repeat(np.repeat(scales.astype(np.float64), rows_per_tile, axis=0)[: q.shape[0]], 128, axis=1)[:, : q.shape[1]]
    return x * s


def main():
    try:
        import torch
    except ImportError:
        torch = None
    if torch is None or np is None:
        print("torch_check: PyTorch or NumPy is not installed here; skipped")
        return 0
    out, moe = sys.argv[1], sys.argv[2:]
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((300, 1000)) * np.exp2(rng.integers(-6, 7, (300, 1000)))).astype(np.float32)
    np.save(out + "/x.npy", x)
    failures = 0
    for block, rows in (("1x128", 1), ("128x128", 128)):
        run(moe + ["fp8", "quantize", "--backend", "cuda", "--block", block, "--in", out + "/x.npy",
                   "--out-q", out + "/q.npy", "--out-scales", out + "/s.npy"])
        q, s = np.load(out + "/q.npy"), np.load(out + "/s.npy")
        full = np.repeat(np.repeat(s, rows, axis=0)[: x.shape[0]], 128, axis=1)[:, : x.shape[1]]
        want = torch.from_numpy(np.clip(x / full, -448, 448)).to(torch.float8_e4m3fn).view(torch.uint8).numpy()
        bad = int(np.count_nonzero(want != q))
        print("torch_check: quantize %s: %d of %d codes differ from torch.float8_e4m3fn" % (block, bad, q.size))
        failures += bad != 0
    a = rng.standard_normal((257, 1000)).astype(np.float32)
    b = rng.standard_normal((300, 1000)).astype(np.float32)
    np.save(out + "/a.npy", a)
    np.save(out + "/b.npy", b)
    run(moe + ["fp8", "gemm", "--backend", "cuda", "--a", out + "/a.npy", "--b", out + "/b.npy", "--out", out + "/c.npy"])
    c = np.load(out + "/c.npy").astype(np.float64)
    for name, m, block, rows in (("a", a, "1x128", 1), ("b", b, "128x128", 128)):
        run(moe + ["fp8", "quantize", "--backend", "cuda", "--block", block, "--in", out + "/%s.npy" % name,
                   "--out-q", out + "/%sq.npy" % name, "--out-scales", out + "/%ss.npy" % name])
    da = dequantize(np.load(out + "/aq.npy"), np.load(out + "/as.npy"), 1)
    db = dequantize(np.load(out + "/bq.npy"), np.load(out + "/bs.npy"), 128)
    want = torch.matmul(torch.from_numpy(da), torch.from_numpy(db).T).numpy()
    bound = np.abs(da) @ np.abs(db).T
    worst = float(np.max(np.abs(c - want) / np.maximum(bound, 1e-30)))
    print("torch_check: gemm 257x300x1000: worst |c - torch| / sum|a||b| = %.2e (limit 1e-5)" % worst)
    failures += worst > 1e-5
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

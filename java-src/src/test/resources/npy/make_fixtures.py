#!/usr/bin/env python3
"""Regenerates the .npy fixtures read by the dev.moe.io tests (needs numpy >= 1.17).

Run from anywhere:  python3 make_fixtures.py
The Java tests hard-code the values below; keep the two in sync.
"""
import io
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, array):
    with open(os.path.join(HERE, name), "wb") as f:
        np.save(f, array)


def main():
    # --- files numpy wrote, read by NpyReadFixturesTest -------------------------------------------
    save("f4_3x4.npy", np.array([[0.0, -0.0, 1.5, -2.25],
                                 [3.0e-8, 1e-45, 3.4028235e38, -np.inf],
                                 [np.inf, np.nan, 0.1, 100.0]], dtype="<f4"))
    save("f8_6.npy", np.array([0.1, -1e300, 1.0 / 3.0, 5e-324, -0.0, 16777217.0], dtype="<f8"))
    save("i4_2x3.npy", np.array([[-2**31, -1, 0], [1, 123456789, 2**31 - 1]], dtype="<i4"))
    save("i8_2x2.npy", np.array([[-2**63, -1], [2**40, 2**63 - 1]], dtype="<i8"))
    save("u1_4x4.npy", np.arange(0, 256, 17, dtype="|u1").reshape(4, 4))
    save("f4_0d.npy", np.array(-7.5, dtype="<f4"))
    save("i4_5.npy", np.array([10, 20, 30, 40, 50], dtype="<i4"))
    save("f4_0x8.npy", np.zeros((0, 8), dtype="<f4"))
    with open(os.path.join(HERE, "f4_2x3_v2.npy"), "wb") as f:
        np.lib.format.write_array(f, np.arange(6, dtype="<f4").reshape(2, 3), version=(2, 0))
    # rejected ones
    save("fortran_f4_2x3.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
    save("big_endian_f4.npy", np.arange(4, dtype=">f4"))
    save("f2_4.npy", np.arange(4, dtype="<f2"))

    # --- what np.save writes, compared byte for byte with what Npy.write writes (NpyWriteTest) -----
    expected = {
        "f4_3x4.npy": np.arange(12, dtype="<f4").reshape(3, 4) * np.float32(0.25),
        "f8_5.npy": np.array([0.5, -1.25, 1e300, -0.0, 3.0], dtype="<f8"),
        "i4_3x4.npy": np.arange(-6, 6, dtype="<i4").reshape(3, 4),
        "i8_2x3.npy": np.array([[-2**63, 0, 2**63 - 1], [1, -1, 2**40]], dtype="<i8"),
        "u1_5.npy": np.array([0, 1, 127, 128, 255], dtype="|u1"),
        "f4_0d.npy": np.array(42.0, dtype="<f4"),
        "i4_5.npy": np.array([1, 2, 3, 4, 5], dtype="<i4"),
        "f4_0x8.npy": np.zeros((0, 8), dtype="<f4"),
        "i8_1000000x0.npy": np.zeros((1000000, 0), dtype="<i8"),
        # a header whose padding is a full 64 bytes (numpy never pads by 0)
        "f4_pad64.npy": np.arange(100, dtype="<f4").reshape((1,) * 13 + (100,)),
    }
    for name, array in expected.items():
        save(os.path.join("expected", name), array)
    with open(os.path.join(HERE, "expected", "f4_pad64.npy"), "rb") as f:
        header = f.read()[10:].split(b"\n")[0]
    growth = 21 - len("1")
    assert len(header) - len(header.rstrip(b" ")) - growth == 64, "f4_pad64 no longer has 64 bytes of padding"

if __name__ == "__main__":
    main()

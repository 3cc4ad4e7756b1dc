package dev.moe.fp8;

/**
 * The scalar Java reference of the FP8 block-scaled GEMM (docs/specification.md §i.2–§i.3): C = A·Bᵀ with A [M, K]
 * in 1×128 tiles and B [N, K] in 128×128 blocks. For each K-chunk c of 128 (the last may be
 * shorter) the products of decoded E4M3 values (exact in FP32) are summed in FP32 in increasing k,
 * and the chunk sum is "promoted": {@code acc += sum * (sa[m, c] * sb[n / 128, c])}, acc in FP32.
 * The native kernels sum inside a chunk in another order, so they agree with this to FP32 rounding.
 */
public final class Fp8GemmReference {
    private static final float[] DECODE = new float[256];

    static {
        for (int code = 0; code < 256; code++) {
            DECODE[code] = E4m3.decode((byte) code);
        }
    }

    private Fp8GemmReference() {}

    /**
     * C = A·Bᵀ; see {@link Fp8Gemm#gemm(QuantizedTensor, QuantizedTensor)} for the checks.
     *
     * @param a activations [M, K] in 1×128 tiles
     * @param b weights [N, K] in 128×128 blocks
     * @return C float [M, N], row-major
     * @throws IllegalArgumentException if the tile shapes or K do not match, a code is NaN or a scale is not finite
     */
    public static float[] gemm(QuantizedTensor a, QuantizedTensor b) {
        Fp8Gemm.checkPair(a, b);
        float[] c = new float[a.rows() * b.rows()];
        gemm(a.rows(), b.rows(), a.cols(), a.codes(), 0, a.scales(), 0, b.codes(), 0, b.scales(), 0, c, 0);
        return c;
    }

    /**
     * The kernel on raw arrays: rows {@code m} of A from row offset {@code aRow} (codes and 1×128
     * scales), one weight matrix starting at {@code bOff} codes / {@code sbOff} scales, output rows at {@code cRow}.
     */
    static void gemm(int m, int n, int k, byte[] a, int aRow, float[] sa, int saRow, byte[] b, int bOff, float[] sb,
                     int sbOff, float[] c, int cRow) {
        int kc = Math.ceilDiv(k, Fp8Block.TILE_COLS);
        for (int i = 0; i < m; i++) {
            int ar = (aRow + i) * k;
            int sar = (saRow + i) * kc;
            for (int j = 0; j < n; j++) {
                int br = bOff + j * k;
                int sbr = sbOff + (j / Fp8Block.TILE_COLS) * kc;
                float acc = 0f;
                for (int ch = 0; ch < kc; ch++) {
                    int k0 = ch * Fp8Block.TILE_COLS;
                    int k1 = Math.min(k, k0 + Fp8Block.TILE_COLS);
                    float sum = 0f;
                    for (int q = k0; q < k1; q++) {
                        sum += DECODE[a[ar + q] & 0xFF] * DECODE[b[br + q] & 0xFF];
                    }
                    acc += sum * (sa[sar + ch] * sb[sbr + ch]);
                }
                c[(cRow + i) * n + j] = acc;
            }
        }
    }
}

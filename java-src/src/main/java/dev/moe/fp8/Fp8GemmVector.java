package dev.moe.fp8;

import java.util.stream.IntStream;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The FP8 block-scaled GEMM in pure Java with the Vector API (jdk.incubator.vector): the same
 * numerics contract as the native kernel (FP32 sums per 128-K chunk in a lane order of its own,
 * promoted by sa·sb into an FP32 result), agreeing with {@link Fp8GemmReference} to FP32 rounding.
 * Per 128-K chunk, B rows are decoded once per 64-row block and a 4×2 register tile of FMAs runs
 * over decoded A rows; rows of C are split across the common fork-join pool.
 *
 * <p>Needs {@code --add-modules jdk.incubator.vector}; use {@link Fp8Gemm#vector()}, which checks
 * for the module, rather than this class directly.
 */
final class Fp8GemmVector {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    private static final int L = S.length();
    private static final int KB = Fp8Block.TILE_COLS;
    private static final int NB = 64;
    private static final float[] DECODE = new float[256];

    static {
        for (int code = 0; code < 256; code++) {
            DECODE[code] = E4m3.decode((byte) code);
        }
    }

    private Fp8GemmVector() {}

    /** C [M, N] = A·Bᵀ; operands already checked by {@link Fp8Gemm}. */
    static float[] gemm(QuantizedTensor a, QuantizedTensor b) {
        int m = a.rows();
        int n = b.rows();
        int k = a.cols();
        int kc = Math.ceilDiv(k, KB);
        int kp = kc * KB;  // rows padded with zeros to whole chunks, so every chunk is whole vectors
        float[] af = new float[m * kp];
        for (int i = 0; i < m; i++) {
            for (int q = 0; q < k; q++) {
                af[i * kp + q] = DECODE[a.codes()[i * k + q] & 0xFF];
            }
        }
        float[] c = new float[m * n];
        int blocks = Math.ceilDiv(n, NB);
        IntStream.range(0, blocks).parallel().forEach(blk -> block(a, b, af, c, blk * NB, Math.min(n, blk * NB + NB), kc, kp));
        return c;
    }

    private static void block(QuantizedTensor a, QuantizedTensor b, float[] af, float[] c, int n0, int n1, int kc, int kp) {
        int m = a.rows();
        int n = b.rows();
        int k = b.cols();
        int rows = n1 - n0;
        float[] bf = new float[rows * KB];
        for (int ch = 0; ch < kc; ch++) {
            int k0 = ch * KB;
            int len = Math.min(KB, k - k0);
            java.util.Arrays.fill(bf, 0f);
            for (int j = 0; j < rows; j++) {
                int src = (n0 + j) * k + k0;
                for (int q = 0; q < len; q++) {
                    bf[j * KB + q] = DECODE[b.codes()[src + q] & 0xFF];
                }
            }
            for (int i0 = 0; i0 < m; i0 += 4) {
                int mi = Math.min(4, m - i0);
                for (int j0 = 0; j0 < rows; j0 += 2) {
                    int nj = Math.min(2, rows - j0);
                    tile(af, bf, c, a.scales(), b.scales(), i0, mi, j0, nj, n0, n, ch, kc, kp);
                }
            }
        }
    }

    /** Up to 4 rows of A × 2 rows of B over one chunk, accumulated into C with the chunk's scales. */
    private static void tile(float[] af, float[] bf, float[] c, float[] sa, float[] sb, int i0, int mi, int j0, int nj, int n0,
                             int n, int ch, int kc, int kp) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        int a0 = i0 * kp + ch * KB;
        int a1 = mi > 1 ? a0 + kp : a0;
        int a2 = mi > 2 ? a0 + 2 * kp : a0;
        int a3 = mi > 3 ? a0 + 3 * kp : a0;
        int b0 = j0 * KB;
        int b1 = nj > 1 ? b0 + KB : b0;
        for (int q = 0; q < KB; q += L) {
            FloatVector v0 = FloatVector.fromArray(S, bf, b0 + q);
            FloatVector v1 = FloatVector.fromArray(S, bf, b1 + q);
            FloatVector x = FloatVector.fromArray(S, af, a0 + q);
            c00 = x.fma(v0, c00);
            c01 = x.fma(v1, c01);
            x = FloatVector.fromArray(S, af, a1 + q);
            c10 = x.fma(v0, c10);
            c11 = x.fma(v1, c11);
            x = FloatVector.fromArray(S, af, a2 + q);
            c20 = x.fma(v0, c20);
            c21 = x.fma(v1, c21);
            x = FloatVector.fromArray(S, af, a3 + q);
            c30 = x.fma(v0, c30);
            c31 = x.fma(v1, c31);
        }
        FloatVector[][] acc = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
        for (int i = 0; i < mi; i++) {
            float s = sa[(i0 + i) * kc + ch];
            for (int j = 0; j < nj; j++) {
                int col = n0 + j0 + j;
                float sum = acc[i][j].reduceLanes(VectorOperators.ADD);
                c[(i0 + i) * n + col] += sum * (s * sb[(col / KB) * kc + ch]);
            }
        }
    }
}

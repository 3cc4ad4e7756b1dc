package dev.moe.fp8;

import java.util.stream.IntStream;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The FP8 block-scaled GEMM in pure Java with the Vector API (jdk.incubator.vector), with the same
 * numerics contract as the native kernel: FP32 sums per 128-K chunk in a lane order of its own,
 * promoted by sa·sb into the FP32 result, so it agrees with {@link Fp8GemmReference} to FP32 rounding.
 *
 * <p>B is decoded eight codes at a time without a table: each byte is sign-extended to 32 bits,
 * shifted left by 20 and masked, which is the E4M3 value times 2^-120 as an FP32 bit pattern
 * (subnormal codes become FP32 subnormals, which Java always honours). A is pre-scaled by 2^64 so that
 * products stay normal; the remaining 2^56 goes into the chunk scale. Small m (≤ 4) streams each row
 * of B once for all rows of A; larger m decodes a block of 64 B rows per chunk into 16-column panels
 * and runs a 6×16 register tile over them, as the native kernel does. Column blocks are split across the common fork-join pool.
 *
 * <p>Needs {@code --add-modules jdk.incubator.vector}; use {@link Fp8Gemm#vector()}, which checks
 * for the module, rather than this class directly.
 */
final class Fp8GemmVector {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final int L = F.length();
    private static final int KB = Fp8Block.TILE_COLS;
    private static final int NB = 64;
    private static final float A_SCALE = 0x1p64f;
    private static final float UNSCALE = 0x1p56f;
    private static final int MASK = 0x87F00000;
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
        int kp = kc * KB;  // rows padded with zeros to whole chunks: every chunk is whole vectors
        float[] af = new float[m * kp];
        for (int i = 0; i < m; i++) {
            for (int q = 0; q < k; q++) {
                af[i * kp + q] = DECODE[a.codes()[i * k + q] & 0xFF] * A_SCALE;
            }
        }
        float[] c = new float[m * n];
        if (m == 0 || n == 0) {
            return c;
        }
        int blocks = Math.ceilDiv(n, NB);
        IntStream.range(0, blocks).parallel().forEach(blk -> {
            int n0 = blk * NB;
            int n1 = Math.min(n, n0 + NB);
            if (m <= 4) {
                gemvBlock(a, b, af, c, n0, n1, kc, kp);
            } else {
                tiledBlock(a, b, af, c, n0, n1, kc, kp);
            }
        });
        return c;
    }

    /** FP32 bit pattern of 8 codes from {@code codes[off..off+8)}: the values times 2^-120. */
    private static FloatVector decode8(byte[] codes, int off) {
        IntVector v = (IntVector) ByteVector.fromArray(B8, codes, off).convertShape(VectorOperators.B2I, I, 0);
        return v.lanewise(VectorOperators.LSHL, 20).and(MASK).reinterpretAsFloats();
    }

    /**
     * m ≤ 4: each B row is decoded once, eight codes at a time, straight into FMAs for every row of A;
     * each chunk's sums are promoted with their scale into vector totals, reduced once per output.
     */
    private static void gemvBlock(QuantizedTensor a, QuantizedTensor b, float[] af, float[] c, int n0, int n1, int kc, int kp) {
        int m = a.rows();
        int n = b.rows();
        int k = b.cols();
        byte[] codes = b.codes();
        FloatVector[] total = new FloatVector[m];
        float[] rest = new float[m];
        for (int j = n0; j < n1; j++) {
            java.util.Arrays.fill(total, FloatVector.zero(F));
            java.util.Arrays.fill(rest, 0f);
            for (int ch = 0; ch < kc; ch++) {
                int k0 = ch * KB;
                int len = Math.min(KB, k - k0);
                int src = j * k + k0;
                float sb = b.scales()[(j / KB) * kc + ch] * UNSCALE;
                int whole = src + len <= codes.length - L ? len / (2 * L) * (2 * L) : 0;
                for (int i = 0; i < m; i++) {
                    int ao = i * kp + k0;
                    FloatVector s0 = FloatVector.zero(F);
                    FloatVector s1 = FloatVector.zero(F);
                    for (int q = 0; q < whole; q += 2 * L) {
                        s0 = FloatVector.fromArray(F, af, ao + q).fma(decode8(codes, src + q), s0);
                        s1 = FloatVector.fromArray(F, af, ao + q + L).fma(decode8(codes, src + q + L), s1);
                    }
                    float tail = 0f;
                    for (int q = whole; q < len; q++) {
                        tail += af[ao + q] * (DECODE[codes[src + q] & 0xFF] * 0x1p-120f);
                    }
                    float scale = a.scales()[i * kc + ch] * sb;
                    total[i] = s0.add(s1).fma(FloatVector.broadcast(F, scale), total[i]);
                    rest[i] += tail * scale;
                }
            }
            for (int i = 0; i < m; i++) {
                c[i * n + j] = total[i].reduceLanes(VectorOperators.ADD) + rest[i];
            }
        }
    }

    private static final int MR = 6;
    private static final int NR = 16;

    /**
     * m > 4: per chunk, the block's B rows are decoded into panels of 16 columns laid out [k][16], and
     * a 6×16 register tile (12 vector accumulators, A broadcast) runs over them, as the native kernel does.
     */
    private static void tiledBlock(QuantizedTensor a, QuantizedTensor b, float[] af, float[] c, int n0, int n1, int kc, int kp) {
        int m = a.rows();
        int n = b.rows();
        int k = b.cols();
        int panels = Math.ceilDiv(n1 - n0, NR);
        float[] bp = new float[panels * KB * NR];
        float[] row = new float[KB];
        float[] acc = new float[MR * NR];
        for (int ch = 0; ch < kc; ch++) {
            int k0 = ch * KB;
            int len = Math.min(KB, k - k0);
            java.util.Arrays.fill(bp, 0f);
            for (int j = 0; j < n1 - n0; j++) {
                int src = (n0 + j) * k + k0;
                int q = 0;
                for (; q + L <= len && src + q + L <= b.codes().length; q += L) {
                    decode8(b.codes(), src + q).intoArray(row, q);
                }
                for (; q < len; q++) {
                    row[q] = DECODE[b.codes()[src + q] & 0xFF] * 0x1p-120f;
                }
                int base = (j / NR) * KB * NR + j % NR;
                for (q = 0; q < len; q++) {
                    bp[base + q * NR] = row[q];
                }
            }
            for (int i0 = 0; i0 < m; i0 += MR) {
                int mi = Math.min(MR, m - i0);
                for (int p = 0; p < panels; p++) {
                    micro(af, i0, mi, kp, k0, len, bp, p * KB * NR, acc);
                    int col0 = n0 + p * NR;
                    int cols = Math.min(NR, n1 - col0);
                    float sb = b.scales()[(col0 / KB) * kc + ch] * UNSCALE;
                    for (int i = 0; i < mi; i++) {
                        float s = a.scales()[(i0 + i) * kc + ch] * sb;
                        int co = (i0 + i) * n + col0;
                        for (int j = 0; j < cols; j++) {
                            c[co + j] += acc[i * NR + j] * s;
                        }
                    }
                }
            }
        }
    }

    /** acc[i][j] = Σ_q A[i0+i][k0+q]·panel[q][j] over len q (rows past mi repeat row i0). */
    private static void micro(float[] af, int i0, int mi, int kp, int k0, int len, float[] bp, int pb, float[] acc) {
        int r0 = i0 * kp + k0;
        int r1 = mi > 1 ? r0 + kp : r0;
        int r2 = mi > 2 ? r0 + 2 * kp : r0;
        int r3 = mi > 3 ? r0 + 3 * kp : r0;
        int r4 = mi > 4 ? r0 + 4 * kp : r0;
        int r5 = mi > 5 ? r0 + 5 * kp : r0;
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
        for (int q = 0; q < len; q++) {
            FloatVector b0 = FloatVector.fromArray(F, bp, pb + q * NR);
            FloatVector b1 = FloatVector.fromArray(F, bp, pb + q * NR + L);
            FloatVector x = FloatVector.broadcast(F, af[r0 + q]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, af[r1 + q]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, af[r2 + q]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, af[r3 + q]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, af[r4 + q]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, af[r5 + q]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        c00.intoArray(acc, 0);
        c01.intoArray(acc, L);
        c10.intoArray(acc, NR);
        c11.intoArray(acc, NR + L);
        c20.intoArray(acc, 2 * NR);
        c21.intoArray(acc, 2 * NR + L);
        c30.intoArray(acc, 3 * NR);
        c31.intoArray(acc, 3 * NR + L);
        c40.intoArray(acc, 4 * NR);
        c41.intoArray(acc, 4 * NR + L);
        c50.intoArray(acc, 5 * NR);
        c51.intoArray(acc, 5 * NR + L);
    }
}

package dev.moe.fp8;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The FP8 E4M3 format of the DeepSeek-V3 recipe (OCP "e4m3fn"): code {@code S EEEE MMM}, exponent bias 7.
 *
 * <ul>
 *   <li>normal, E = 1..15: (−1)^S · 2^(E−7) · (1 + M/8), with E = 15 only for M ≤ 6; the largest finite
 *       value is 448 ({@code 0x7E});</li>
 *   <li>subnormal, E = 0: (−1)^S · 2^−6 · (M/8); {@code 0x00} and {@code 0x80} are +0 and −0;</li>
 *   <li>no infinities; {@code 0x7F} and {@code 0xFF} are the only NaNs.</li>
 * </ul>
 *
 * <p>This is the reference the native kernels ({@code moe_fp8_e4m3_*} in moe.h) reproduce bit for bit.
 * Encoding saturates: |x| is clamped to 448 before rounding, so every finite value and ±∞ maps to a
 * finite code (±448 at the ends); rounding is to nearest, ties to even; NaN encodes as {@code 0x7F}
 * whatever its sign; the sign of zero is kept.
 */
public final class E4m3 {
    /** The largest finite E4M3 value. */
    public static final float MAX = 448.0f;
    /** The NaN code {@link #encode} produces. */
    public static final byte NAN = 0x7F;

    private static final int ABS_MASK = 0x7fffffff;
    private static final int INF_BITS = 0x7f800000;
    private static final int MAX_BITS = Float.floatToRawIntBits(MAX);
    /** Biased float exponent of 2^−6, the smallest normal E4M3 magnitude. */
    private static final int MIN_NORMAL_EXP = 127 - 6;

    private E4m3() {}

    /**
     * The E4M3 code nearest to {@code x} (ties to even), saturating at ±448.
     *
     * <p>Works on the float's bits with exact integer arithmetic: in the normal range the 23-bit
     * significand is rounded to 3 bits (a carry moves into the exponent, which is rebiased from 127 to
     * 7); below 2^−6, |x| is rounded to a multiple of the subnormal step 2^−9.
     *
     * @param x any float, including ±∞ and NaN
     * @return the code; {@link #NAN} for NaN
     */
    public static byte encode(float x) {
        int bits = Float.floatToRawIntBits(x);
        int sign = (bits >>> 24) & 0x80;
        int a = bits & ABS_MASK;
        if (a > INF_BITS) {
            return NAN;
        }
        if (a >= MAX_BITS) {  // saturate, including +-inf (spec decision: clamp before rounding)
            return (byte) (sign | 0x7E);
        }
        int exp = a >>> 23;
        if (exp >= MIN_NORMAL_EXP) {
            // Keep the top 3 significand bits; round half to even on the 20 dropped ones.
            int rounded = (a + 0x7ffff + ((a >>> 20) & 1)) >>> 20;
            return (byte) (sign | (rounded - ((127 - 7) << 3)));
        }
        // Subnormal target: |x| / 2^-9 = m / 2^(141 - exp) for the significand m with its hidden bit.
        if (exp < 117) {  // |x| < 2^-10 (float subnormals included): below half a step, rounds to 0
            return (byte) sign;
        }
        int m = (a & 0x7fffff) | 0x800000;
        int shift = 141 - exp;  // 21..24
        int q = m >>> shift;
        int rem = m & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rem > half || (rem == half && (q & 1) != 0)) {
            q++;  // q may become 8: code 0x08 is 2^-6, the smallest normal, as it should be
        }
        return (byte) (sign | q);
    }

    /**
     * The exact value of an E4M3 code.
     *
     * @param code an E4M3 code
     * @return its value; {@code 0x7F} and {@code 0xFF} give {@link Float#NaN}
     */
    public static float decode(byte code) {
        int c = code & 0xff;
        int mag = c & 0x7f;
        if (mag == 0x7f) {
            return Float.NaN;
        }
        int exp = mag >>> 3;
        int man = mag & 7;
        float v = exp == 0 ? Math.scalb((float) man, -9) : Math.scalb(1.0f + man / 8.0f, exp - 7);
        return (c & 0x80) != 0 ? -v : v;
    }

    /**
     * Whether a code is NaN.
     *
     * @param code an E4M3 code
     * @return true for the two NaN codes, {@code 0x7F} and {@code 0xFF}
     */
    public static boolean isNaN(byte code) {
        return (code & 0x7f) == 0x7f;
    }

    /**
     * The first NaN code in {@code codes}: eight bytes at a time, since a checkpoint's weights run to
     * gigabytes.
     *
     * @param codes E4M3 codes
     * @return the index of the first {@code 0x7F} or {@code 0xFF}, or -1 if there is none
     */
    public static int indexOfNaN(byte[] codes) {
        int i = 0;
        for (; i + Long.BYTES <= codes.length; i += Long.BYTES) {
            long magnitudes = (long) WORDS.get(codes, i) & 0x7F7F7F7F7F7F7F7FL;
            long zeroWhereNaN = magnitudes ^ 0x7F7F7F7F7F7F7F7FL;
            // Sets the high bit of every byte that is 0 (the classic has-zero-byte test); no false positives.
            if (((zeroWhereNaN - 0x0101010101010101L) & ~zeroWhereNaN & 0x8080808080808080L) != 0) {
                break;
            }
        }
        for (; i < codes.length; i++) {
            if (isNaN(codes[i])) {
                return i;
            }
        }
        return -1;
    }

    private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
}

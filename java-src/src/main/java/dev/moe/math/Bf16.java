package dev.moe.math;

/** bfloat16: the upper 16 bits of an FP32, rounded to nearest even. */
public final class Bf16 {
    private Bf16() {}

    /**
     * The BF16 nearest to {@code v} (ties to even); NaN stays a (quiet) NaN.
     *
     * @param v an FP32 value
     * @return its BF16 bits
     */
    public static short encode(float v) {
        int bits = Float.floatToRawIntBits(v);
        int h = Float.isNaN(v) ? (bits >>> 16) | 0x40 : (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16;
        return (short) h;
    }

    /**
     * The FP32 value of a BF16 (exact).
     *
     * @param h BF16 bits
     * @return the value
     */
    public static float decode(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }
}

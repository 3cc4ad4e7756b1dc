package dev.moe.fp8;

import java.util.Objects;

/**
 * The Java reference of FP8 block quantisation (DeepSeek-V3 recipe), which the native kernel
 * ({@code moe_fp8_quantize_cpu}) reproduces bit for bit.
 *
 * <p>Per tile: {@code amax = max |x|}; {@code scale = max(amax, 1e-4f) / 448f}; with power-of-two
 * ("ue8m0") scales, {@code scale = 2^ceil(log2 scale)}; then {@code q = E4m3.encode(x / scale)}, all in
 * FP32. Because the tile maximum maps to at most 448, saturation never clips a finite input.
 */
public final class BlockQuantizer {
    /** Floor of amax, so an all-zero tile gets a positive scale. */
    public static final float AMAX_FLOOR = 1e-4f;

    private BlockQuantizer() {}

    /**
     * Quantises x [rows, cols] (C order).
     *
     * @param x     float [rows*cols], row-major, every value finite
     * @param rows  number of rows, &ge; 0
     * @param cols  number of columns, &ge; 0
     * @param block the tile shape
     * @param pow2  round each scale up to a power of two
     * @return the codes and scales (new arrays)
     * @throws IllegalArgumentException if the shape does not match {@code x.length}
     * @throws NonFiniteTensorException naming the first NaN or infinite element
     */
    public static QuantizedTensor quantize(float[] x, int rows, int cols, Fp8Block block, boolean pow2) {
        requireShape(x, rows, cols);
        requireFinite(x, cols);
        Objects.requireNonNull(block, "block");
        int tileRows = block.tileRows();
        int tilesPerRow = Math.ceilDiv(cols, Fp8Block.TILE_COLS);
        byte[] codes = new byte[x.length];
        float[] scales = new float[(int) block.scaleCount(rows, cols)];
        for (int r0 = 0; r0 < rows; r0 += tileRows) {
            int r1 = Math.min(r0 + tileRows, rows);
            for (int c0 = 0; c0 < cols; c0 += Fp8Block.TILE_COLS) {
                int c1 = Math.min(c0 + Fp8Block.TILE_COLS, cols);
                float amax = 0.0f;
                for (int r = r0; r < r1; r++) {
                    for (int c = c0; c < c1; c++) {
                        amax = Math.max(amax, Math.abs(x[r * cols + c]));
                    }
                }
                float scale = tileScale(amax, pow2);
                scales[(r0 / tileRows) * tilesPerRow + c0 / Fp8Block.TILE_COLS] = scale;
                for (int r = r0; r < r1; r++) {
                    for (int c = c0; c < c1; c++) {
                        codes[r * cols + c] = E4m3.encode(x[r * cols + c] / scale);
                    }
                }
            }
        }
        return new QuantizedTensor(rows, cols, block, pow2, codes, scales);
    }

    /**
     * The scale of a tile: {@code max(amax, 1e-4f) / 448f}, rounded up to a power of two when {@code pow2}.
     *
     * @param amax the largest magnitude in the tile, finite and &ge; 0
     * @param pow2 round up to a power of two
     * @return the scale, positive
     */
    public static float tileScale(float amax, boolean pow2) {
        float scale = Math.max(amax, AMAX_FLOOR) / E4m3.MAX;
        return pow2 ? ceilPow2(scale) : scale;
    }

    /**
     * 2^ceil(log2 s) for a positive normal float, exactly: s itself if its significand is 1, else the
     * next power of two (clear the significand bits, add one to the exponent).
     *
     * @param s a positive normal float
     * @return the smallest power of two &ge; s
     * @throws IllegalArgumentException if {@code s} is not a positive, finite normal float
     */
    public static float ceilPow2(float s) {
        if (!(s >= Float.MIN_NORMAL) || !Float.isFinite(s)) {
            throw new IllegalArgumentException("ceilPow2 needs a positive normal float, got " + s);
        }
        int bits = Float.floatToRawIntBits(s);
        if ((bits & 0x7fffff) == 0) {
            return s;
        }
        return Float.intBitsToFloat((bits & 0xff800000) + 0x800000);
    }

    /**
     * Dequantises: decode(q) * scale of its tile, for every element.
     *
     * @param t a quantised matrix
     * @return float [rows*cols], row-major
     */
    public static float[] dequantize(QuantizedTensor t) {
        float[] out = new float[t.codes().length];
        for (int r = 0; r < t.rows(); r++) {
            for (int c = 0; c < t.cols(); c++) {
                out[r * t.cols() + c] = E4m3.decode(t.codes()[r * t.cols() + c]) * t.scaleAt(r, c);
            }
        }
        return out;
    }

    /** Throws unless rows, cols >= 0 and rows * cols == x.length. */
    static void requireShape(float[] x, long rows, long cols) {
        Objects.requireNonNull(x, "x");
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("FP8 quantisation: negative shape [" + rows + ", " + cols + "]");
        }
        if (Math.multiplyHigh(rows, cols) != 0 || rows * cols != x.length) {
            throw new IllegalArgumentException("FP8 quantisation: shape [" + rows + ", " + cols + "] does not hold the "
                    + x.length + " input values");
        }
    }

    /** Throws {@link NonFiniteTensorException} for the first NaN or infinity, in row-major order. */
    static void requireFinite(float[] x, int cols) {
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                throw new NonFiniteTensorException(i / cols, i % cols, x[i]);
            }
        }
    }
}

package dev.moe.fp8;

import java.util.Locale;

/**
 * The tile shape of block quantisation (DeepSeek-V3: 1x128 for activations, 128x128 for weights).
 * Each tile gets one FP32 scale; tiles at the right and bottom edges hold what is left.
 */
public enum Fp8Block {
    /** One row by 128 consecutive columns; scales [R, ceil(C/128)]. */
    ROW_1X128("1x128", 1, 0),
    /** 128 rows by 128 columns; scales [ceil(R/128), ceil(C/128)]. */
    TILE_128X128("128x128", 128, 1);

    /** Columns per tile, for both shapes. */
    public static final int TILE_COLS = 128;

    private final String cliName;
    private final int tileRows;
    private final int nativeCode;

    Fp8Block(String cliName, int tileRows, int nativeCode) {
        this.cliName = cliName;
        this.tileRows = tileRows;
        this.nativeCode = nativeCode;
    }

    /** {@return the command-line name, {@code 1x128} or {@code 128x128}} */
    public String cliName() {
        return cliName;
    }

    /** {@return rows per tile (1 or 128)} */
    public int tileRows() {
        return tileRows;
    }

    /** The C ABI's MOE_FP8_BLOCK_* value. */
    int nativeCode() {
        return nativeCode;
    }

    /**
     * The shape of the scale matrix for an [rows, cols] input.
     *
     * @param rows input rows, &ge; 0
     * @param cols input columns, &ge; 0
     * @return {ceil(rows/tileRows), ceil(cols/128)}
     * @throws IllegalArgumentException if a dimension is negative
     */
    public long[] scaleShape(long rows, long cols) {
        return new long[] {ceilDiv(rows, tileRows), ceilDiv(cols, TILE_COLS)};
    }

    /**
     * Number of scales for an [rows, cols] input.
     *
     * @param rows input rows, &ge; 0
     * @param cols input columns, &ge; 0
     * @return ceil(rows/tileRows) · ceil(cols/128)
     * @throws IllegalArgumentException if a dimension is negative
     * @throws ArithmeticException if the count overflows a long
     */
    public long scaleCount(long rows, long cols) {
        return Math.multiplyExact(ceilDiv(rows, tileRows), ceilDiv(cols, TILE_COLS));
    }

    /**
     * Parses {@code 1x128} or {@code 128x128}, ignoring case and surrounding white space.
     *
     * @param name the command-line name
     * @return the block shape
     * @throws IllegalArgumentException if the name is neither
     */
    public static Fp8Block parse(String name) {
        for (Fp8Block b : values()) {
            if (b.cliName.equals(name.trim().toLowerCase(Locale.ROOT))) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown FP8 block shape '" + name + "' (expected 1x128 or 128x128)");
    }

    private static long ceilDiv(long a, long b) {
        if (a < 0) {
            throw new IllegalArgumentException("negative dimension " + a);
        }
        return Math.ceilDiv(a, b);
    }
}

package dev.moe.fp8;

import java.util.Arrays;
import java.util.Objects;

/**
 * A block-quantised FP8 matrix: E4M3 codes [rows, cols] in C order and one FP32 scale per tile, laid
 * out as {@link Fp8Block#scaleShape}. Element (r, c) stands for {@code decode(codes[r*cols + c]) * scale}
 * of its tile. Equality compares the contents, bit for bit.
 *
 * @param rows   number of rows
 * @param cols   number of columns
 * @param block  the tile shape
 * @param pow2   whether the scales were rounded up to powers of two
 * @param codes  E4M3 codes, {@code rows * cols} of them
 * @param scales tile scales, {@code block.scaleCount(rows, cols)} of them
 */
public record QuantizedTensor(int rows, int cols, Fp8Block block, boolean pow2, byte[] codes, float[] scales) {
    /**
     * Checks that the arrays have the sizes the shape needs (the arrays are kept, not copied).
     *
     * @throws IllegalArgumentException if a dimension is negative or an array has the wrong length
     */
    public QuantizedTensor {
        Objects.requireNonNull(block, "block");
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative shape [" + rows + ", " + cols + "]");
        }
        if (codes.length != (long) rows * cols) {
            throw new IllegalArgumentException("codes: " + codes.length + " values for shape [" + rows + ", " + cols + "]");
        }
        if (scales.length != block.scaleCount(rows, cols)) {
            throw new IllegalArgumentException("scales: " + scales.length + " values, " + block.cliName() + " tiles of ["
                    + rows + ", " + cols + "] need " + block.scaleCount(rows, cols));
        }
    }

    /**
     * The scale of the tile holding element (row, col).
     *
     * @param row element row, 0..rows−1
     * @param col element column, 0..cols−1
     * @return the tile's FP32 scale
     */
    public float scaleAt(int row, int col) {
        int tilesPerRow = Math.ceilDiv(cols, Fp8Block.TILE_COLS);
        return scales[(row / block.tileRows()) * tilesPerRow + col / Fp8Block.TILE_COLS];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantizedTensor t && rows == t.rows && cols == t.cols && block == t.block && pow2 == t.pow2
                && Arrays.equals(codes, t.codes) && Arrays.equals(scales, t.scales);
    }

    @Override
    public int hashCode() {
        return Objects.hash(rows, cols, block, pow2, Arrays.hashCode(codes), Arrays.hashCode(scales));
    }

    @Override
    public String toString() {
        return "QuantizedTensor[" + rows + "x" + cols + ", " + block.cliName() + (pow2 ? ", pow2 scales" : "") + "]";
    }
}

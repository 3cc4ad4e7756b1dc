package dev.moe.fp8;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Java reference of block quantisation: hand examples, tile geometry, scales, error bounds, errors. */
class BlockQuantizerTest {

    static float[] random(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(-8, 8)));
        }
        return x;
    }

    @Test
    void handExampleOneRow() {
        // amax 896 -> scale 896/448 = 2 exactly; 3/2 = 1.5 = 0x3C, -7/2 = -3.5 = 0xC6, 896/2 = 448 = 0x7E.
        QuantizedTensor t = BlockQuantizer.quantize(new float[] {896f, 3f, -7f, 0f, -0f}, 1, 5, Fp8Block.ROW_1X128, false);
        assertArrayEquals(new float[] {2f}, t.scales());
        assertArrayEquals(new byte[] {0x7E, 0x3C, (byte) 0xC6, 0x00, (byte) 0x80}, t.codes());
        assertArrayEquals(new float[] {896f, 3f, -7f, 0f, -0f}, BlockQuantizer.dequantize(t));
    }

    @Test
    void allZeroTileUsesTheAmaxFloor() {
        QuantizedTensor t = BlockQuantizer.quantize(new float[] {0f, -0f, 0f}, 3, 1, Fp8Block.TILE_128X128, false);
        assertArrayEquals(new float[] {1e-4f / 448f}, t.scales());
        assertArrayEquals(new byte[] {0, (byte) 0x80, 0}, t.codes());
        QuantizedTensor p = BlockQuantizer.quantize(new float[] {0f, -0f, 0f}, 3, 1, Fp8Block.TILE_128X128, true);
        assertArrayEquals(new float[] {0x1p-22f}, p.scales(), "2^ceil(log2(1e-4/448)) = 2^-22 (1e-4/448 ~ 2.23e-7)");
    }

    @ParameterizedTest
    @CsvSource({"1.0, 1.0", "1.0000001, 2.0", "0.75, 1.0", "3.0, 4.0", "0.25, 0.25", "1.1754944E-38, 1.1754944E-38",
            "2.2321428E-7, 2.3841858E-7", "1.5E30, 2.5353012E30"})
    void ceilPow2(float s, float expected) {
        assertEquals(expected, BlockQuantizer.ceilPow2(s));
        assertEquals(0, Float.floatToRawIntBits(expected) & 0x7fffff, "a power of two");
        assertTrue(expected >= s && expected / 2 < s, "the smallest power of two >= s");
    }

    @Test
    void ceilPow2RejectsNonNormal() {
        assertThrows(IllegalArgumentException.class, () -> BlockQuantizer.ceilPow2(0f));
        assertThrows(IllegalArgumentException.class, () -> BlockQuantizer.ceilPow2(-1f));
        assertThrows(IllegalArgumentException.class, () -> BlockQuantizer.ceilPow2(Float.NaN));
    }

    @ParameterizedTest(name = "{0}x{1} {2}")
    @CsvSource({"1, 1, ROW_1X128, 1, 1", "3, 130, ROW_1X128, 3, 2", "3, 130, TILE_128X128, 1, 2", "129, 257, TILE_128X128, 2, 3",
            "129, 257, ROW_1X128, 129, 3", "256, 384, TILE_128X128, 2, 3", "0, 5, ROW_1X128, 0, 1", "5, 0, TILE_128X128, 1, 0"})
    void scaleShapes(int rows, int cols, Fp8Block block, long sr, long sc) {
        assertArrayEquals(new long[] {sr, sc}, block.scaleShape(rows, cols));
        QuantizedTensor t = BlockQuantizer.quantize(new float[rows * cols], rows, cols, block, false);
        assertEquals(sr * sc, t.scales().length);
    }

    @Test
    void eachTileScalesByItsOwnMaximum() {
        int rows = 129;
        int cols = 257;
        float[] x = random(rows * cols, 3);
        x[5 * cols + 7] = 1000f;       // tile (0, 0) of 128x128; row 5 tile 0 of 1x128
        x[128 * cols + 256] = -0.5f;   // the 1x1 corner tile (1, 2)
        for (int c = 0; c < 256; c++) {
            x[128 * cols + c] = 0.25f * (c % 3 - 1);
        }
        QuantizedTensor t = BlockQuantizer.quantize(x, rows, cols, Fp8Block.TILE_128X128, false);
        assertEquals(1000f / 448f, t.scaleAt(0, 0));
        assertEquals(0.5f / 448f, t.scaleAt(128, 256));
        assertEquals(0.25f / 448f, t.scaleAt(128, 0));
        for (int tr = 0; tr < 2; tr++) {
            for (int tc = 0; tc < 3; tc++) {
                float amax = 0;
                for (int r = tr * 128; r < Math.min(rows, tr * 128 + 128); r++) {
                    for (int c = tc * 128; c < Math.min(cols, tc * 128 + 128); c++) {
                        amax = Math.max(amax, Math.abs(x[r * cols + c]));
                    }
                }
                assertEquals(Math.max(amax, 1e-4f) / 448f, t.scales()[tr * 3 + tc], "tile " + tr + "," + tc);
            }
        }
        QuantizedTensor rowwise = BlockQuantizer.quantize(x, rows, cols, Fp8Block.ROW_1X128, false);
        assertEquals(1000f / 448f, rowwise.scaleAt(5, 0));
        assertEquals(0.5f / 448f, rowwise.scaleAt(128, 256));
        assertTrue(rowwise.scaleAt(6, 0) < 1000f / 448f);
    }

    @ParameterizedTest(name = "{0} pow2={1}")
    @CsvSource({"ROW_1X128, false", "ROW_1X128, true", "TILE_128X128, false", "TILE_128X128, true"})
    void dequantisedValuesAreWithinHalfAnE4m3Step(Fp8Block block, boolean pow2) {
        int rows = 200;
        int cols = 300;
        float[] x = random(rows * cols, 11);
        QuantizedTensor t = BlockQuantizer.quantize(x, rows, cols, block, pow2);
        float[] d = BlockQuantizer.dequantize(t);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                double s = t.scaleAt(r, c);
                // Normal range: half an ulp of a 3-bit significand, <= 2^-4 |x|; subnormal range: half the
                // step 2^-9, times the scale. The slack covers the FP32 division and multiplication.
                double bound = Math.max(Math.abs(x[i]) * 0x1p-4, s * 0x1p-10) * (1 + 1e-6);
                assertTrue(Math.abs(x[i] - d[i]) <= bound, "(" + r + ", " + c + "): x=" + x[i] + " dequant=" + d[i] + " scale=" + s);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"ROW_1X128", "TILE_128X128"})
    void tileMaximumMapsTo448AndPow2ScalesArePowersOfTwo(Fp8Block block) {
        int rows = 130;
        int cols = 260;
        float[] x = random(rows * cols, 5);
        QuantizedTensor plain = BlockQuantizer.quantize(x, rows, cols, block, false);
        QuantizedTensor pow2 = BlockQuantizer.quantize(x, rows, cols, block, true);
        float[] amax = new float[plain.scales().length];
        int tilesPerRow = Math.ceilDiv(cols, 128);
        for (int i = 0; i < x.length; i++) {
            int tile = (i / cols / block.tileRows()) * tilesPerRow + (i % cols) / 128;
            amax[tile] = Math.max(amax[tile], Math.abs(x[i]));
        }
        int maxima = 0;
        for (int i = 0; i < x.length; i++) {
            int tile = (i / cols / block.tileRows()) * tilesPerRow + (i % cols) / 128;
            if (Math.abs(x[i]) == amax[tile]) {
                assertEquals(448f, Math.abs(E4m3.decode(plain.codes()[i])), "the tile maximum at " + i);
                maxima++;
            }
        }
        assertTrue(maxima >= amax.length);
        for (float s : pow2.scales()) {
            assertEquals(0, Float.floatToRawIntBits(s) & 0x7fffff, s + " is a power of two");
        }
        for (int i = 0; i < pow2.scales().length; i++) {
            float ratio = pow2.scales()[i] / plain.scales()[i];
            assertTrue(ratio >= 1f && ratio < 2f, "pow2 scale is the next power of two up: " + ratio);
        }
    }

    @Test
    void nonFiniteInputNamesTheFirstBadElement() {
        float[] x = new float[4 * 10];
        x[2 * 10 + 5] = Float.NaN;
        x[3 * 10 + 1] = Float.POSITIVE_INFINITY;
        NonFiniteTensorException e = assertThrows(NonFiniteTensorException.class,
                () -> BlockQuantizer.quantize(x, 4, 10, Fp8Block.ROW_1X128, false));
        assertEquals(2, e.row());
        assertEquals(5, e.column());
        assertTrue(e.getMessage().contains("[2, 5]"), e.getMessage());
    }

    @Test
    void badShapesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BlockQuantizer.quantize(new float[10], 3, 4, Fp8Block.ROW_1X128, false));
        assertTrue(e.getMessage().contains("[3, 4]") && e.getMessage().contains("10"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BlockQuantizer.quantize(new float[0], -1, 0, Fp8Block.ROW_1X128, false));
        assertThrows(IllegalArgumentException.class, () -> new QuantizedTensor(2, 2, Fp8Block.ROW_1X128, false, new byte[4], new float[2 + 1]));
        assertThrows(IllegalArgumentException.class, () -> Fp8Block.parse("64x64"));
        assertEquals(Fp8Block.TILE_128X128, Fp8Block.parse("128x128"));
    }
}

package dev.moe.fp8;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Java E4M3 codec against the format's definition: hand-picked values, the decoded value set, and a
 * brute-force nearest-value oracle (table search in double precision, ties to the even code).
 */
class E4m3Test {

    /** The value of a code straight from the definition, in double. */
    static double definition(int code) {
        int s = code >>> 7;
        int e = (code >>> 3) & 15;
        int m = code & 7;
        double v = e == 0 ? Math.pow(2, -6) * (m / 8.0) : Math.pow(2, e - 7) * (1 + m / 8.0);
        return s == 1 ? -v : v;
    }

    /** Non-negative finite codes 0x00..0x7E sorted by value (their values increase with the code). */
    static final double[] POSITIVE = new double[0x7F];

    static {
        for (int c = 0; c < 0x7F; c++) {
            POSITIVE[c] = definition(c);
        }
    }

    /** Oracle: the nearest code to x by exhaustive search, ties to the even code, saturating at 448. */
    static byte oracle(float x) {
        if (Float.isNaN(x)) {
            return 0x7F;
        }
        int sign = (Float.floatToRawIntBits(x) >>> 31) << 7;
        double a = Math.min(Math.abs((double) x), 448.0);
        int best = 0;
        for (int c = 1; c < 0x7F; c++) {
            double d = Math.abs(POSITIVE[c] - a);
            double bd = Math.abs(POSITIVE[best] - a);
            if (d < bd || (d == bd && (c & 1) == 0)) {
                best = c;
            }
        }
        return (byte) (sign | best);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "450, 448", "463.9, 448", "464, 448", "464.1, 448", "1e9, 448", "Infinity, 448", "-Infinity, -448",
            "0.0009765625, 0", "0.00097657, 0.001953125", "1.0625, 1.0", "1.1875, 1.25", "232, 224",
            "0.0146, 0.013671875", "-0.0146, -0.013671875", "0.015625, 0.015625", "448, 448", "-447, -448",
            "1e-30, 0", "3.4028235e38, 448", "0.0029296875, 0.00390625", "0.0048828125, 0.00390625", "240, 240",
            "248, 256", "0.01464843750, 0.015625"})
    void knownValues(float x, float expected) {
        assertEquals(expected, E4m3.decode(E4m3.encode(x)), "encode(" + x + ")");
        assertEquals(oracle(x), E4m3.encode(x), "oracle agrees for " + x);
    }

    @Test
    void specialCodes() {
        assertEquals(0x08, E4m3.encode(0.015625f));
        assertEquals(0x7E, E4m3.encode(448f));
        assertEquals((byte) 0xFE, E4m3.encode(-448f));
        assertEquals(0x7F, E4m3.encode(Float.NaN));
        assertEquals(0x7F, E4m3.encode(Float.intBitsToFloat(0xffc00001)), "a negative NaN still encodes as 0x7F");
        assertEquals(0x00, E4m3.encode(0.0f));
        assertEquals((byte) 0x80, E4m3.encode(-0.0f));
        assertEquals((byte) 0x80, E4m3.encode(-1e-30f), "tiny negatives keep their sign");
        assertEquals(0x01, E4m3.encode(0.001953125f));
        assertTrue(Float.isNaN(E4m3.decode((byte) 0x7F)));
        assertTrue(Float.isNaN(E4m3.decode((byte) 0xFF)));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(E4m3.decode((byte) 0x80)));
        assertEquals(Float.floatToRawIntBits(0.0f), Float.floatToRawIntBits(E4m3.decode((byte) 0x00)));
    }

    @Test
    void decodeMatchesTheDefinitionForEveryCode() {
        for (int c = 0; c < 256; c++) {
            if ((c & 0x7f) == 0x7f) {
                continue;
            }
            assertEquals(definition(c), E4m3.decode((byte) c), 0.0, "code 0x" + Integer.toHexString(c));
        }
    }

    @Test
    void thereAre253DistinctFiniteValuesAndDecodeEncodeIsTheIdentity() {
        TreeSet<Float> values = new TreeSet<>();
        int nan = 0;
        for (int c = 0; c < 256; c++) {
            float v = E4m3.decode((byte) c);
            if (Float.isNaN(v)) {
                nan++;
                continue;
            }
            values.add(v == 0.0f ? 0.0f : v);  // +0 and -0 are one value
            assertEquals(v, E4m3.decode(E4m3.encode(v)), 0.0f, "code 0x" + Integer.toHexString(c));
            assertEquals((byte) c, E4m3.encode(v), "encode(decode(c)) == c for 0x" + Integer.toHexString(c));
        }
        assertEquals(2, nan);
        assertEquals(253, values.size());
        assertEquals(448f, values.last());
        assertEquals(-448f, values.first());
    }

    @Test
    void midpointsAndTheirNeighboursMatchTheOracle() {
        // Every tie between adjacent values, one ulp either side of it, and the values themselves.
        for (int c = 0; c < 0x7E; c++) {
            float mid = (float) ((POSITIVE[c] + POSITIVE[c + 1]) / 2);
            assertEquals((POSITIVE[c] + POSITIVE[c + 1]) / 2, mid, 0.0, "midpoints are floats");
            for (float x : new float[] {mid, Math.nextDown(mid), Math.nextUp(mid), (float) POSITIVE[c]}) {
                assertEquals(oracle(x), E4m3.encode(x), "x = " + x);
                assertEquals(oracle(-x), E4m3.encode(-x), "x = " + -x);
            }
        }
    }

    @Test
    void seededRandomFloatsMatchTheOracle() {
        SplittableRandom rnd = new SplittableRandom(20250101);
        for (int i = 0; i < 200_000; i++) {
            float x = switch (i % 3) {
                case 0 -> Float.intBitsToFloat(rnd.nextInt());                   // any bit pattern
                case 1 -> (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(-14, 10)));  // the useful range
                default -> (float) rnd.nextDouble(-500, 500);
            };
            assertEquals(oracle(x), E4m3.encode(x), "x = " + x + " bits " + Integer.toHexString(Float.floatToRawIntBits(x)));
        }
    }

    @Test
    void encodeIsMonotoneOverASweep() {
        // Walk the float line upwards (every 2^8-th bit pattern from -inf to +inf); decoded values never decrease.
        float prev = Float.NEGATIVE_INFINITY;
        int steps = 0;
        for (long bits = 0xff800000L; bits >= 0x80000000L; bits -= 256) {
            prev = checkStep(prev, Float.intBitsToFloat((int) bits));
            steps++;
        }
        for (long bits = 0; bits <= 0x7f800000L; bits += 256) {
            prev = checkStep(prev, Float.intBitsToFloat((int) bits));
            steps++;
        }
        assertTrue(steps > 16_000_000, "swept " + steps);
        assertEquals(448f, prev);
    }

    private static float checkStep(float prev, float x) {
        float v = E4m3.decode(E4m3.encode(x));
        if (v < prev) {
            throw new AssertionError("encode not monotone at x = " + x + ": " + v + " < " + prev);
        }
        return v;
    }

    @Test
    void errorIsAtMostHalfAStep() {
        SplittableRandom rnd = new SplittableRandom(7);
        double[] sorted = Arrays.copyOf(POSITIVE, POSITIVE.length);
        for (int i = 0; i < 100_000; i++) {
            float x = (float) rnd.nextDouble(0, 448);
            double q = E4m3.decode(E4m3.encode(x));
            int k = Arrays.binarySearch(sorted, q);
            double step = k + 1 < sorted.length ? sorted[k + 1] - sorted[k] : sorted[k] - sorted[k - 1];
            double stepBelow = k > 0 ? sorted[k] - sorted[k - 1] : step;
            assertTrue(Math.abs(x - q) <= Math.max(step, stepBelow) / 2, "x = " + x + " q = " + q);
        }
    }
}

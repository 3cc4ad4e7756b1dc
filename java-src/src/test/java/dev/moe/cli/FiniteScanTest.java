package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The blocked scan finds the same first non-finite value as a test of every element, at block edges too. */
class FiniteScanTest {
    @Test
    void findsTheFirstNonFiniteValueAnywhere() {
        SplittableRandom rnd = new SplittableRandom(5);
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0xffc00001)};
        for (int n : new int[] {0, 1, 7, 1023, 1024, 1025, 5000}) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) rnd.nextGaussian() * 1e30f;  // large but finite, exponents near the top
            }
            assertEquals(-1, FiniteScan.firstNonFinite(MemorySegment.ofArray(x)), "all finite, n = " + n);
            for (int trial = 0; trial < 20 && n > 0; trial++) {
                float[] y = x.clone();
                int first = trial < 3 ? new int[] {0, n - 1, Math.min(n - 1, 1024)}[trial] : rnd.nextInt(n);
                y[first] = specials[trial % specials.length];
                for (int later = first + 1; later < n; later += 1 + rnd.nextInt(50)) {
                    y[later] = Float.NaN;
                }
                assertEquals(first, FiniteScan.firstNonFinite(MemorySegment.ofArray(y)), "n = " + n + ", first = " + first);
            }
        }
    }
}

package dev.moe.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class DetMathTest {

    @Test
    void expIsAccurateToAFewUlpOverTheNormalRange() {
        SplittableRandom rnd = new SplittableRandom(7);
        double worst = 0;
        for (int i = 0; i < 200_000; i++) {
            float x = (float) (-87.0 * rnd.nextDouble());
            double exact = Math.exp(x);
            float got = DetMath.expNonPositive(x);
            double ulps = Math.abs(got - exact) / Math.ulp((float) exact);
            worst = Math.max(worst, ulps);
        }
        assertTrue(worst <= 2.0, "worst error " + worst + " ulp");
    }

    @Test
    void expEdgeValues() {
        assertEquals(1.0f, DetMath.expNonPositive(0.0f));
        assertEquals(1.0f, DetMath.expNonPositive(-0.0f));
        assertEquals(0.0f, DetMath.expNonPositive(Float.NEGATIVE_INFINITY));
        assertEquals(0.0f, DetMath.expNonPositive(-104.0f));
        assertEquals(0.0f, DetMath.expNonPositive(-1000.0f));
        // Subnormal results are rounded once (two-step scaling): within one subnormal step of exp.
        for (float x = -103.5f; x < -87.5f; x += 0.37f) {
            double exact = Math.exp(x);
            float got = DetMath.expNonPositive(x);
            assertTrue(Math.abs(got - exact) <= Float.MIN_VALUE * 1.01 + Math.ulp((float) exact) * 2,
                    "x=" + x + " got " + got + " exact " + exact);
        }
    }

    @Test
    void expIsMonotonic() {
        float prev = DetMath.expNonPositive(-104f);
        for (float x = -104f; x <= 0f; x = Math.nextUp(x) + 1e-3f) {
            float v = DetMath.expNonPositive(x);
            assertTrue(v >= prev, "not monotonic at " + x);
            prev = v;
        }
    }

    @Test
    void sigmoidIsSafeAndSymmetric() {
        assertEquals(0.5f, DetMath.sigmoid(0f));
        assertEquals(1.0f, DetMath.sigmoid(Float.POSITIVE_INFINITY));
        assertEquals(0.0f, DetMath.sigmoid(Float.NEGATIVE_INFINITY));
        assertEquals(1.0f, DetMath.sigmoid(100f));
        assertTrue(DetMath.sigmoid(-100f) > 0f && DetMath.sigmoid(-100f) < 1e-43f);
        for (float z = -20f; z <= 20f; z += 0.125f) {
            double exact = 1.0 / (1.0 + Math.exp(-z));
            assertEquals(exact, DetMath.sigmoid(z), Math.ulp((float) exact) * 3, "z=" + z);
        }
    }

    @Test
    void laneSumUsesTheDocumentedOrder() {
        float[] v = {1e8f, 1f, -1e8f, 1f, 0.5f, 0.25f, 3f, 7f, 2f, 1e-3f};
        float[] l = new float[8];
        for (int i = 0; i < v.length; i++) {
            l[i & 7] += v[i];
        }
        float expected = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
        assertEquals(expected, DetMath.laneSum8(v, 0, v.length));
        assertEquals(0f, DetMath.laneSum8(v, 3, 3));
    }
}

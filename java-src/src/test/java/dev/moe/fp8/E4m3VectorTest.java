package dev.moe.fp8;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

import dev.moe.backend.Backend;

class E4m3VectorTest {

    @Test
    void vectorEncoderEqualsTheScalarReferenceOnASweepOfAllFloatBitPatterns() {
        // Every 253rd bit pattern (an odd stride reaches all low-bit residues) plus the special values.
        int n = 1 << 24;
        float[] x = new float[n + 12];
        for (int i = 0; i < n; i++) {
            x[i] = Float.intBitsToFloat((int) (i * 253L + (i >>> 3)));
        }
        float[] special = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 448f, 464f, -464.1f,
            0.0009765625f, 0x1p-6f, Float.MIN_VALUE, -Float.MAX_VALUE};
        System.arraycopy(special, 0, x, n, special.length);
        byte[] codes = new byte[x.length];
        E4m3Vector.encode(x, codes);
        for (int i = 0; i < x.length; i++) {
            if (codes[i] != E4m3.encode(x[i])) {
                assertEquals(E4m3.encode(x[i]), codes[i], "float bits 0x" + Integer.toHexString(Float.floatToRawIntBits(x[i])));
            }
        }
    }

    @Test
    void quantizerEncodeMatchesOnBothBackends() {
        float[] x = {1.0625f, 1.1875f, 232f, -0.0146f, 450f, Float.NaN, 1e-7f, -3.5f, 0.5f};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            for (Backend b : new Backend[] {Backend.JAVA, Backend.CPU}) {
                MemorySegment out = arena.allocate(x.length);
                Fp8Quantizer.create(b).encode(in, out);
                for (int i = 0; i < x.length; i++) {
                    assertEquals(E4m3.encode(x[i]), out.get(ValueLayout.JAVA_BYTE, i), b + " element " + i);
                }
            }
        }
    }
}

package dev.moe.cli;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Finds non-finite values in a float32 input before any backend is chosen, so that bad data is reported
 * like every other bad input (one line, exit 2) and the kernels' own checks, which find the same first
 * element, are never the first to see it.
 */
final class FiniteScan {
    private FiniteScan() {}

    /** Floats per block of the branch-free first pass. */
    private static final int BLOCK = 1024;
    /** The exponent bits of a float: all set for infinities and NaNs only. */
    private static final int EXPONENT = 0x7f800000;

    /**
     * {@return the index of the first NaN or infinite float in {@code data}, or -1 if all are finite}
     * Each block is first reduced without branches (the largest exponent field, which the JIT
     * vectorises: several times the speed of a test per element); only a block that holds a
     * non-finite value is searched element by element.
     */
    static long firstNonFinite(MemorySegment data) {
        long n = data.byteSize() / Float.BYTES;
        for (long start = 0; start < n; start += BLOCK) {
            long end = Math.min(n, start + BLOCK);
            int max = 0;
            for (long i = start; i < end; i++) {
                max = Math.max(max, data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i) & EXPONENT);
            }
            if (max == EXPONENT) {
                for (long i = start; i < end; i++) {
                    if (!Float.isFinite(data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i))) {
                        return i;
                    }
                }
            }
        }
        return -1;
    }

    /** {@return the float at index {@code i} of {@code data}} */
    static float at(MemorySegment data, long i) {
        return data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
    }
}

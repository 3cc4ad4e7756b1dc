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

    /** {@return the index of the first NaN or infinite float in {@code data}, or -1 if all are finite} */
    static long firstNonFinite(MemorySegment data) {
        long n = data.byteSize() / Float.BYTES;
        for (long i = 0; i < n; i++) {
            if (!Float.isFinite(data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i))) {
                return i;
            }
        }
        return -1;
    }

    /** {@return the float at index {@code i} of {@code data}} */
    static float at(MemorySegment data, long i) {
        return data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
    }
}

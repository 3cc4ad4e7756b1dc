package dev.moe.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.bindings.moe_h;
import dev.moe.nativelib.MoeNative;
import dev.moe.routing.NativeStatus;

/** This machine's FP32 FMA peak and streaming read bandwidth, measured now by the native library. */
final class MachinePeaks {
    private MachinePeaks() {}

    /** GFLOP/s of FP32 FMAs on all OpenMP threads. */
    static double fmaPeakGflops(double seconds) {
        MoeNative.cpu();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_DOUBLE);
            NativeStatus.check(moe_h.moe_cpu_fma_peak(seconds, out), "moe_cpu_fma_peak");
            return out.get(ValueLayout.JAVA_DOUBLE, 0);
        }
    }

    /** GB/s read from a buffer of {@code bytes} (make it much larger than the last-level cache). */
    static double readGbs(long bytes, double seconds) {
        MoeNative.cpu();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_DOUBLE);
            NativeStatus.check(moe_h.moe_cpu_read_bandwidth(bytes, seconds, out), "moe_cpu_read_bandwidth");
            return out.get(ValueLayout.JAVA_DOUBLE, 0);
        }
    }
}

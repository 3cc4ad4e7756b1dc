package dev.moe.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.bindings.moe_h;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.MoeNative;

/**
 * This machine's ceilings, measured in the calling process by the native library, so that benchmark
 * reports can state a kernel's speed as a fraction of what the CPU can do.
 *
 * @param fmaGflops FP32 fused multiply-adds of all OpenMP threads, in GFLOP/s
 * @param readGbs   streaming read bandwidth of all OpenMP threads, in GB/s
 */
public record MachinePeaks(double fmaGflops, double readGbs) {

    /**
     * Measures both ceilings, each for about {@code seconds}.
     *
     * @param seconds   how long each measurement runs, in (0, 60]
     * @param readBytes the buffer the bandwidth is read from, at least 1 MiB; make it much larger than the
     *                  last-level cache
     * @return the ceilings
     * @throws IllegalArgumentException if {@code seconds} or {@code readBytes} is out of range
     * @throws IllegalStateException if the CPU lacks AVX2 and FMA (what the measuring loops use), or the
     *         buffer cannot be allocated
     * @throws dev.moe.nativelib.NativeLibraryException if the native library cannot be loaded
     */
    public static MachinePeaks measure(double seconds, long readBytes) {
        if (!(seconds > 0 && seconds <= 60) || readBytes < (1 << 20)) {
            throw new IllegalArgumentException("machine peaks: seconds must be in (0, 60] and the read buffer at least 1 MiB, got "
                    + seconds + " s and " + readBytes + " bytes");
        }
        MoeNative.cpu();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment gflops = arena.allocate(ValueLayout.JAVA_DOUBLE);
            MemorySegment gbs = arena.allocate(ValueLayout.JAVA_DOUBLE);
            NativeStatus.check(moe_h.moe_cpu_machine_peaks(seconds, readBytes, gflops, gbs), "moe_cpu_machine_peaks");
            return new MachinePeaks(gflops.get(ValueLayout.JAVA_DOUBLE, 0), gbs.get(ValueLayout.JAVA_DOUBLE, 0));
        }
    }
}

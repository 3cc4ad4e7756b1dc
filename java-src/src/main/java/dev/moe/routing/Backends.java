package dev.moe.routing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import dev.moe.bindings.moe_h;
import dev.moe.nativelib.LoadedLibrary;
import dev.moe.nativelib.MoeNative;

/** Finds out, once per process, which backends can route here and why the others cannot. */
public final class Backends {
    private static final Map<Backend, BackendStatus> CACHE = new EnumMap<>(Backend.class);

    private Backends() {}

    /**
     * The status of {@link Backend#JAVA}, {@link Backend#CPU} and {@link Backend#CUDA}, probed once per process.
     *
     * @return the three statuses, in that order
     */
    public static List<BackendStatus> all() {
        List<BackendStatus> out = new ArrayList<>();
        for (Backend b : new Backend[] {Backend.JAVA, Backend.CPU, Backend.CUDA}) {
            out.add(status(b));
        }
        return out;
    }

    /**
     * The status of one concrete backend (AUTO is resolved by {@link Routers}). The first call for a backend
     * probes it (loads the native library, counts GPUs); later calls return the cached result. Thread-safe.
     *
     * @param backend JAVA, CPU or CUDA
     * @return whether it is usable here, and why (not)
     * @throws IllegalArgumentException if {@code backend} is {@link Backend#AUTO}
     */
    public static synchronized BackendStatus status(Backend backend) {
        return CACHE.computeIfAbsent(backend, Backends::probe);
    }

    /**
     * The name of the CPU kernel variant in use, as chosen by the native library at load time.
     *
     * @return {@code "avx2"} or {@code "portable"}
     */
    public static String cpuKernelName() {
        return moe_h.moe_cpu_kernel() == moe_h.MOE_CPU_KERNEL_AVX2() ? "avx2" : "portable";
    }

    private static BackendStatus probe(Backend backend) {
        return switch (backend) {
            case JAVA -> new BackendStatus(backend, true, "pure-Java reference router");
            case CPU -> probeCpu();
            case CUDA -> probeCuda();
            case AUTO -> throw new IllegalArgumentException("AUTO is not a concrete backend");
        };
    }

    private static BackendStatus probeCpu() {
        try {
            LoadedLibrary lib = MoeNative.cpu();
            String detail = "lib" + lib.name() + " " + moe_h.moe_library_version().getString(0) + " from " + lib.path()
                    + " (" + lib.source().name().toLowerCase(java.util.Locale.ROOT) + "), kernel " + cpuKernelName()
                    + ", up to " + moe_h.moe_cpu_max_threads() + " threads";
            return new BackendStatus(Backend.CPU, true, detail);
        } catch (RuntimeException | LinkageError e) {
            return new BackendStatus(Backend.CPU, false, e.getMessage());
        }
    }

    private static BackendStatus probeCuda() {
        try {
            MoeNative.cuda();
        } catch (RuntimeException | LinkageError e) {
            return new BackendStatus(Backend.CUDA, false, "CUDA library not loadable: " + e.getMessage());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment err = arena.allocate(ValueLayout.JAVA_INT);
            int status = moe_h.moe_cuda_device_count(count, err);
            if (status != moe_h.MOE_STATUS_OK()) {
                int code = err.get(ValueLayout.JAVA_INT, 0);
                return new BackendStatus(Backend.CUDA, false, "no usable GPU: CUDA error " + code + " ("
                        + moe_h.moe_cuda_error_string(code).getString(0) + ")");
            }
            MemorySegment name = arena.allocate(256);
            moe_h.moe_cuda_device_name(0, name, name.byteSize());
            MemorySegment major = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment minor = arena.allocate(ValueLayout.JAVA_INT);
            moe_h.moe_cuda_device_capability(0, major, minor);
            int cc = 10 * major.get(ValueLayout.JAVA_INT, 0) + minor.get(ValueLayout.JAVA_INT, 0);
            return new BackendStatus(Backend.CUDA, true, count.get(ValueLayout.JAVA_INT, 0) + " GPU(s) found (device 0: "
                    + name.getString(0) + ", compute capability " + cc / 10 + "." + cc % 10 + "; FP8 GEMMs: " + gemmKernels(cc) + ")");
        }
    }

    /** The FP8 GEMM kernels a device of compute capability {@code cc} (major * 10 + minor) runs. */
    static String gemmKernels(int cc) {
        String tc = cc >= 89 ? ", mma.sync FP8" : cc >= 80 ? ", mma.sync BF16 (exact decode)" : "";
        return "exact CUDA cores" + tc + (cc == 90 ? ", wgmma, wgmma with TMA (the tensor-core default)" : "");
    }
}

package dev.moe.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import dev.moe.bindings.moe_h;
import dev.moe.bindings.moe_library_info;
import dev.moe.cuda.CudaDevice;
import dev.moe.cuda.CudaVersions;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.CpuKernelChoice;
import dev.moe.nativelib.CudaException;
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
     * The status of one concrete backend (AUTO is resolved by {@link dev.moe.routing.Routers}). The first call for a backend
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
     * The name of the CPU kernel variant in use, as chosen by the native library at load time (the names
     * {@code -Dmoe.cpu.kernel} takes).
     *
     * @return {@code "avx512-bf16"}, {@code "avx512"}, {@code "avx2"} or {@code "portable"}
     */
    public static String cpuKernelName() {
        try (Arena arena = Arena.ofConfined()) {
            return CpuKernelChoice.name(moe_library_info.cpu_kernel(libraryInfo(arena)));
        }
    }

    /** What the loaded CPU library reports about itself and this CPU. */
    private static MemorySegment libraryInfo(Arena arena) {
        MemorySegment info = moe_library_info.allocate(arena);
        NativeStatus.check(moe_h.moe_library_query(info), "moe_library_query");
        return info;
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
        try (Arena arena = Arena.ofConfined()) {
            LoadedLibrary lib = MoeNative.cpu();
            MemorySegment info = libraryInfo(arena);
            String detail = "lib" + lib.name() + " " + moe_library_info.version(info).getString(0) + " from " + lib.path()
                    + " (" + lib.source().name().toLowerCase(java.util.Locale.ROOT) + "), kernel " + cpuKernelName()
                    + ", up to " + moe_library_info.cpu_max_threads(info) + " threads";
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
        try {
            CudaDevice d = CudaDevice.query(0);
            return new BackendStatus(Backend.CUDA, true, d.deviceCount() + " GPU(s) found (device 0: " + d.name()
                    + ", compute capability " + d.capabilityText() + "; " + d.versions().describe() + "; FP8 GEMMs: "
                    + gemmKernels(d.capability(), d.hasWgmmaImage()) + ")");
        } catch (CudaException e) {
            return new BackendStatus(Backend.CUDA, false, "no usable GPU: CUDA error " + e.cudaError() + " (" + e.cudaErrorText()
                    + "); " + CudaVersions.query().describe());
        }
    }

    /**
     * The FP8 GEMM kernels a device of compute capability {@code cc} (major * 10 + minor) runs, given whether
     * the library holds its sm_90a image.
     */
    static String gemmKernels(int cc, boolean hasWgmmaImage) {
        String tc = cc >= 89 ? ", mma.sync FP8" : cc >= 80 ? ", mma.sync BF16 (exact decode)" : "";
        String wgmma = cc != 90 ? "" : hasWgmmaImage ? ", wgmma, wgmma with TMA (the tensor-core default)"
                : " (no wgmma: the library lacks the sm_90a image; build with CMAKE_CUDA_ARCHITECTURES=90a)";
        return "exact CUDA cores" + tc + wgmma;
    }
}

package dev.moe.nativelib;

import dev.moe.bindings.moe_h;

/** The native libraries of this project, loaded on first use through {@link NativeLibraryLoader}. */
public final class MoeNative {
    private MoeNative() {}

    /**
     * The C ABI version these bindings were generated with ({@code MOE_ABI_VERSION} of moe.h); every
     * library loaded must report the same.
     *
     * @return the version
     */
    public static int abiVersion() {
        return moe_h.MOE_ABI_VERSION();
    }

    /**
     * The CPU library {@code libmoe}, loaded on first use (thread-safe; later calls return the cached result).
     * The system property {@code moe.cpu.kernel} ({@code portable}, {@code avx2}, {@code avx512},
     * {@code avx512-bf16} or {@code auto}), when set, chooses its kernel variant at that first load.
     *
     * @return the loaded library
     * @throws NativeLibraryException if it cannot be loaded or fails its ABI check, or {@code moe.cpu.kernel}
     *         names no variant or one this CPU cannot run
     */
    public static LoadedLibrary cpu() {
        LoadedLibrary lib = NativeLibraryLoader.load("moe");
        CpuKernelChoice.check();
        return lib;
    }

    /**
     * The CUDA library {@code libmoe_cuda}, loaded on first use (thread-safe; later calls return the
     * cached result).
     *
     * @return the loaded library
     * @throws NativeLibraryException if it cannot be loaded or fails its ABI check
     */
    public static LoadedLibrary cuda() {
        return NativeLibraryLoader.load("moe_cuda");
    }

    /**
     * Whether {@link #cuda()} has loaded the CUDA library in this process (without trying to).
     *
     * @return true once the CUDA library is loaded
     */
    public static boolean cudaLoaded() {
        return NativeLibraryLoader.isLoaded("moe_cuda");
    }

    /**
     * The MPI shim {@code libmoe_mpi} (built only where an MPI was found), loaded on first use.
     *
     * @return the loaded library
     * @throws NativeLibraryException if it cannot be loaded, e.g. when the system's libmpi is missing
     */
    public static LoadedLibrary mpi() {
        return NativeLibraryLoader.load("moe_mpi");
    }
}

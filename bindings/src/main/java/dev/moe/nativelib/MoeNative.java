package dev.moe.nativelib;

/** The native libraries of this project, loaded on first use through {@link NativeLibraryLoader}. */
public final class MoeNative {
    private MoeNative() {}

    /**
     * The CPU library {@code libmoe}, loaded on first use (thread-safe; later calls return the cached result).
     *
     * @return the loaded library
     * @throws NativeLibraryException if it cannot be loaded or fails its ABI check
     */
    public static LoadedLibrary cpu() {
        return NativeLibraryLoader.load("moe");
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
     * The MPI shim {@code libmoe_mpi} (built only where an MPI was found), loaded on first use.
     *
     * @return the loaded library
     * @throws NativeLibraryException if it cannot be loaded, e.g. when the system's libmpi is missing
     */
    public static LoadedLibrary mpi() {
        return NativeLibraryLoader.load("moe_mpi");
    }
}

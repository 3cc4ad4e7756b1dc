package dev.moe.nativelib;

/** The native libraries of this project, loaded on first use through {@link NativeLibraryLoader}. */
public final class MoeNative {
    private MoeNative() {}

    /** The CPU library {@code libmoe}; throws {@link NativeLibraryException} if it cannot be loaded. */
    public static LoadedLibrary cpu() {
        return NativeLibraryLoader.load("moe");
    }

    /** The CUDA library {@code libmoe_cuda}; throws {@link NativeLibraryException} if it cannot be loaded. */
    public static LoadedLibrary cuda() {
        return NativeLibraryLoader.load("moe_cuda");
    }

    /**
     * The MPI shim {@code libmoe_mpi} (built only where an MPI was found); throws
     * {@link NativeLibraryException} if it cannot be loaded, e.g. when the system's libmpi is missing.
     */
    public static LoadedLibrary mpi() {
        return NativeLibraryLoader.load("moe_mpi");
    }
}

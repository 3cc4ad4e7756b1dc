/**
 * Loading of the project's native libraries ({@code libmoe}, {@code libmoe_cuda}, {@code libmoe_mpi}):
 * {@link dev.moe.nativelib.MoeNative} loads each once per process through
 * {@link dev.moe.nativelib.NativeLibraryLoader}, which looks in the {@code moe.native.path} property, the
 * jar (checksum-verified) and {@code java.library.path}, and checks the C ABI version. A library that
 * cannot be loaded throws {@link dev.moe.nativelib.NativeLibraryException} listing every place tried.
 * A call into {@code libmoe_cuda} that fails throws {@link dev.moe.nativelib.CudaException}, which keeps the
 * CUDA runtime's error code (it lives here, below every package that calls native code, so that one status
 * mapping serves them all). Public API: use it to find out which library was loaded from where
 * ({@link dev.moe.nativelib.LoadedLibrary}), to point the loader at a build, and to catch native failures.
 */
package dev.moe.nativelib;

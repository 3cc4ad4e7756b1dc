/**
 * Loading of the project's native libraries ({@code libmoe}, {@code libmoe_cuda}, {@code libmoe_mpi}):
 * {@link dev.moe.nativelib.MoeNative} loads each once per process through
 * {@link dev.moe.nativelib.NativeLibraryLoader}, which looks in the {@code moe.native.path} property, the
 * jar (checksum-verified) and {@code java.library.path}, and checks the C ABI version. A library that
 * cannot be loaded throws {@link dev.moe.nativelib.NativeLibraryException} listing every place tried.
 * Public API: use it to find out which library was loaded from where
 * ({@link dev.moe.nativelib.LoadedLibrary}), or to point the loader at a build.
 */
package dev.moe.nativelib;

package dev.moe.nativelib;

import java.nio.file.Path;

/**
 * A native library that was loaded and passed the ABI check.
 *
 * @param name   the library's base name ("moe", "moe_cuda")
 * @param path   the file that was loaded
 * @param source where it was found
 */
public record LoadedLibrary(String name, Path path, Source source) {

    /** The places {@link NativeLibraryLoader} looks, in order. */
    public enum Source {
        /** The {@code moe.native.path} system property. */
        EXPLICIT_PATH,
        /** The copy inside the jar, extracted once into the per-user cache (keyed by its SHA-256). */
        JAR,
        /** A directory of {@code java.library.path}. */
        LIBRARY_PATH
    }
}

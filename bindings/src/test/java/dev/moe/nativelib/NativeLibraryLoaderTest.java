package dev.moe.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.moe.bindings.moe_h;

class NativeLibraryLoaderTest {

    @TempDir
    Path dir;

    /** The folder CMake installed the libraries into (target/classes/native/linux-x86_64). */
    static Path bundledDir() throws URISyntaxException {
        return Path.of(NativeLibraryLoaderTest.class.getResource("/native/linux-x86_64/libmoe.so").toURI()).getParent();
    }

    @Test
    void cpuLibraryLoadsAndPassesTheAbiCheck() {
        LoadedLibrary lib = MoeNative.cpu();
        assertEquals("moe", lib.name());
        assertTrue(Files.isRegularFile(lib.path()), lib.toString());
        assertSame(lib, MoeNative.cpu(), "cached");
        assertEquals(moe_h.MOE_ABI_VERSION(), moe_h.moe_abi_version());
        assertEquals(moe_h.MOE_ABI_VERSION(), MoeNative.abiVersion());
        assertTrue(NativeLibraryLoader.isLoaded("moe"));
    }

    @Test
    void missingLibraryListsEveryPlaceTried() {
        String old = System.getProperty(NativeLibraryLoader.PATH_PROPERTY);
        System.setProperty(NativeLibraryLoader.PATH_PROPERTY, dir.toString());
        try {
            var e = assertThrows(NativeLibraryException.class, () -> NativeLibraryLoader.load("moe_no_such_lib"));
            String m = e.getMessage();
            assertTrue(m.startsWith("could not load native library 'moe_no_such_lib' (libmoe_no_such_lib.so); tried:"), m);
            assertTrue(m.contains("1. system property moe.native.path: no libmoe_no_such_lib.so at " + dir), m);
            assertTrue(m.contains("jar resource /native/linux-x86_64/libmoe_no_such_lib.so: not present"), m);
            for (String d : System.getProperty("java.library.path").split(File.pathSeparator)) {
                if (!d.isBlank()) {
                    assertTrue(m.contains("java.library.path " + d), m);
                }
            }
            // The failure is cached and reported the same way again.
            assertEquals(m, assertThrows(NativeLibraryException.class, () -> NativeLibraryLoader.load("moe_no_such_lib")).getMessage());
        } finally {
            restore(old);
        }
    }

    @Test
    void brokenExplicitLibraryIsAnErrorNotAFallback() throws IOException {
        Path garbage = dir.resolve("libmoe_garbage.so");
        Files.writeString(garbage, "not an ELF file");
        String old = System.getProperty(NativeLibraryLoader.PATH_PROPERTY);
        System.setProperty(NativeLibraryLoader.PATH_PROPERTY, garbage.toString());
        try {
            var e = assertThrows(NativeLibraryException.class, () -> NativeLibraryLoader.load("moe_garbage"));
            assertTrue(e.getMessage().contains(garbage.toString()), e.getMessage());
        } finally {
            restore(old);
        }
    }

    @Test
    void explicitPathWinsOverTheJarCopy() throws Exception {
        // A copy under another name, so that this load is independent of the cached "moe".
        Path copy = dir.resolve("libmoe_explicit.so");
        Files.copy(bundledDir().resolve("libmoe.so"), copy);
        String old = System.getProperty(NativeLibraryLoader.PATH_PROPERTY);
        System.setProperty(NativeLibraryLoader.PATH_PROPERTY, "/nonexistent" + File.pathSeparator + dir);
        try {
            LoadedLibrary lib = NativeLibraryLoader.load("moe_explicit");
            assertEquals(LoadedLibrary.Source.EXPLICIT_PATH, lib.source());
            assertEquals(copy.toAbsolutePath(), lib.path());
        } finally {
            restore(old);
        }
    }

    /**
     * The tests' library comes through the same loader, from the test class path (or from the explicit
     * path a run names, as the sanitizer run does), with the same ABI check.
     */
    @Test
    void testkitLoadsFromTheTestClassPath() {
        LoadedLibrary lib = MoeTestkit.load();
        assertEquals("moe_testkit", lib.name());
        String explicit = System.getProperty(NativeLibraryLoader.PATH_PROPERTY);
        assertEquals(explicit != null && explicit.contains("libmoe_testkit") ? LoadedLibrary.Source.EXPLICIT_PATH
                : LoadedLibrary.Source.JAR, lib.source());
        assertEquals(moe_h.MOE_ABI_VERSION(), dev.moe.bindings.moe_testkit_h.moe_testkit_abi_version());
        assertTrue(NativeLibraryLoaderTest.class.getResource("/native/linux-x86_64/libmoe_testkit.so") != null);
    }

    @Test
    void platformDirectoryIsKnownForThisMachine() {
        assertEquals("linux-x86_64", NativeLibraryLoader.platformDir());
    }

    private static void restore(String old) {
        if (old == null) {
            System.clearProperty(NativeLibraryLoader.PATH_PROPERTY);
        } else {
            System.setProperty(NativeLibraryLoader.PATH_PROPERTY, old);
        }
    }

    @Test
    void bundledLibrariesCarryTheirChecksum() throws Exception {
        String res = "/native/linux-x86_64/libmoe.so";
        try (var lib = NativeLibraryLoader.class.getResourceAsStream(res);
             var sum = NativeLibraryLoader.class.getResourceAsStream(res + ".sha256")) {
            org.junit.jupiter.api.Assertions.assertNotNull(lib, res);
            org.junit.jupiter.api.Assertions.assertNotNull(sum, res + ".sha256");
            String expected = new String(sum.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).split("\\s+")[0];
            String actual = java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest(lib.readAllBytes()));
            org.junit.jupiter.api.Assertions.assertEquals(expected, actual);
        }
    }
}

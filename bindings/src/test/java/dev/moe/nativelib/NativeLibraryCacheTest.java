package dev.moe.nativelib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-user cache of extracted native libraries: keyed by SHA-256, written atomically, verified, reused. */
class NativeLibraryCacheTest {
    @TempDir
    Path dir;

    private static final byte[] LIB = "not really a shared object, but bytes to cache".getBytes(StandardCharsets.US_ASCII);
    private static final String SHA = NativeLibraryCache.sha256(LIB);

    @Test
    void extractsOnceIntoADirectoryNamedByTheHashAndReusesIt() throws IOException {
        Path root = dir.resolve("cache");
        List<String> tried = new ArrayList<>();
        Path first = NativeLibraryCache.install(LIB, SHA, "libx.so", List.of(root), tried);
        assertEquals(root.resolve(SHA).resolve("libx.so"), first);
        assertArrayEquals(LIB, Files.readAllBytes(first));
        assertEquals("r-x------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first.getParent())));
        Object inode = Files.readAttributes(first, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        Path again = NativeLibraryCache.install(LIB, SHA, "libx.so", List.of(root), tried);
        assertEquals(first, again);
        assertEquals(inode, Files.readAttributes(again, java.nio.file.attribute.BasicFileAttributes.class).fileKey(), "not rewritten");
        assertEquals(List.of(), tried);
        try (var files = Files.list(first.getParent())) {
            assertEquals(List.of("libx.so"), files.map(p -> p.getFileName().toString()).toList(), "no temporary file left");
        }
    }

    @Test
    void aDamagedCopyIsVerifiedAndRewritten() throws IOException {
        Path root = dir.resolve("cache");
        Path cached = NativeLibraryCache.install(LIB, SHA, "libx.so", List.of(root), new ArrayList<>());
        Files.setPosixFilePermissions(cached, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(cached, "damaged");
        Path again = NativeLibraryCache.install(LIB, SHA, "libx.so", List.of(root), new ArrayList<>());
        assertArrayEquals(LIB, Files.readAllBytes(again));
    }

    @Test
    void unusableRootsAreSkippedAndEachReasonKept() throws IOException {
        Path blocker = Files.writeString(dir.resolve("blocker"), "a file where a directory should be");
        Path shared = dir.resolve("shared");
        Files.createDirectories(shared.resolve(SHA));
        Files.setPosixFilePermissions(shared.resolve(SHA), PosixFilePermissions.fromString("rwxrwxrwx"));
        Path good = dir.resolve("good");
        List<String> tried = new ArrayList<>();
        Path cached = NativeLibraryCache.install(LIB, SHA, "libx.so", List.of(blocker, shared, good), tried);
        assertEquals(good.resolve(SHA).resolve("libx.so"), cached);
        assertEquals(2, tried.size(), tried.toString());
        assertTrue(tried.get(0).startsWith("cache directory " + blocker.resolve(SHA) + ": "), tried.get(0));
        assertEquals("cache directory " + shared.resolve(SHA) + ": writable by other users (rwxrwxrwx)", tried.get(1));
        tried.clear();
        assertEquals(null, NativeLibraryCache.install(LIB, SHA, "libx.so", List.of(blocker), tried));
        assertEquals(1, tried.size());
    }

    /** Two JVMs extracting at once behave like these threads: each rename puts a complete file in place. */
    @Test
    void concurrentExtractionsAllGetTheCompleteFile() throws Exception {
        Path root = dir.resolve("race");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                results.add(pool.submit(() -> NativeLibraryCache.install(LIB, SHA, "libx.so", List.of(root), new ArrayList<>())));
            }
            for (Future<Path> f : results) {
                Path p = f.get();
                assertNotNull(p);
                assertArrayEquals(LIB, Files.readAllBytes(p));
            }
        } finally {
            pool.shutdownNow();
        }
        try (var files = Files.list(root.resolve(SHA))) {
            assertEquals(List.of("libx.so"), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void rootsArePropertyThenXdgThenHomeThenTemp() {
        assertEquals(List.of(Path.of("/opt/c"), Path.of("/x/moe/native"), Path.of("/home/u/.cache/moe/native"),
                Path.of("/tmp/moe-u/native")), NativeLibraryCache.roots(Map.of("XDG_CACHE_HOME", "/x"), "/opt/c", "/home/u", "/tmp", "u"));
        assertEquals(List.of(Path.of("/home/u/.cache/moe/native"), Path.of("/tmp/moe-a_b/native")),
                NativeLibraryCache.roots(Map.of("XDG_CACHE_HOME", "relative"), null, "/home/u", "/tmp", "a/b"));
    }

    /** The library the tests load came out of the jar's resources into the cache, under its own hash. */
    @Test
    void theBundledLibraryIsLoadedFromTheCacheUnderItsHash() throws Exception {
        LoadedLibrary lib = MoeNative.cpu();
        if (lib.source() == LoadedLibrary.Source.JAR) {
            byte[] bundled = Files.readAllBytes(NativeLibraryLoaderTest.bundledDir().resolve("libmoe.so"));
            assertEquals(NativeLibraryCache.sha256(bundled), lib.path().getParent().getFileName().toString());
            assertTrue(NativeLibraryCache.roots().contains(lib.path().getParent().getParent()), lib.path().toString());
        }
    }
}

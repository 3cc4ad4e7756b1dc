package dev.moe.nativelib;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.moe.bindings.moe_h;
import dev.moe.bindings.moe_mpi_h;

/**
 * The one place that loads native libraries. It tries, in order: the explicit path property
 * {@value #PATH_PROPERTY} (directories and/or files separated by the path separator), the copy inside
 * the jar ({@code /native/<os>-<arch>/lib<name>.so}, checked against its bundled {@code .sha256}, which
 * must be there, and extracted once into a per-user cache keyed by that hash, see
 * {@link NativeLibraryCache}), then each directory of {@code java.library.path}.
 * Libraries are loaded with {@link System#load} so that the bindings' loader lookup finds their
 * symbols, and their ABI version must equal the one the bindings were generated with. Results,
 * failures included, are cached per library name.
 */
public final class NativeLibraryLoader {
    /** System property naming explicit library files or directories. */
    public static final String PATH_PROPERTY = "moe.native.path";

    private static final Logger LOG = LoggerFactory.getLogger(NativeLibraryLoader.class);
    private static final Map<String, Object> CACHE = new HashMap<>();

    private NativeLibraryLoader() {}

    /**
     * Loads a library once per process, or throws with every place tried. Thread-safe. A failure is
     * cached too: later calls throw again without retrying. A library given by {@value #PATH_PROPERTY}
     * that fails to load is an error, never a fallback to another copy. Before {@code libmoe} is loaded,
     * {@code GOMP_SPINCOUNT=10000} is set in the process environment unless {@code OMP_WAIT_POLICY} or
     * {@code GOMP_SPINCOUNT} is already set.
     *
     * @param name the base name: {@code moe}, {@code moe_cuda}, {@code moe_mpi}, or {@code moe_testkit} (the
     *             tests' library, found on the test class path)
     * @return the loaded library, its file and where it was found
     * @throws NativeLibraryException if no copy can be loaded, or the loaded copy's ABI version differs
     *         from the bindings'
     */
    public static synchronized LoadedLibrary load(String name) {
        Object cached = CACHE.get(name);
        if (cached instanceof LoadedLibrary lib) {
            return lib;
        }
        if (cached instanceof NativeLibraryException e) {
            throw new NativeLibraryException(e.getMessage(), e);
        }
        try {
            if (name.equals("moe")) {
                boundOpenMpSpinning();
            }
            LoadedLibrary lib = find(name);
            checkAbi(lib);
            LOG.debug("loaded native library {} from {} ({})", name, lib.path(), lib.source());
            CACHE.put(name, lib);
            return lib;
        } catch (NativeLibraryException e) {
            CACHE.put(name, e);
            throw e;
        }
    }

    /**
     * OpenMP workers spin after each parallel region (libgomp's default: 300000 spins), which on a
     * small machine steals the cores the JVM's own threads need between kernel calls (measured: the
     * simulator ran 1.45x faster with passive workers). A short spin keeps back-to-back calls fast and
     * then sleeps. libgomp reads the setting when it is loaded, i.e. with libmoe, so it is put into the
     * process environment just before; a user's OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
     */
    private static void boundOpenMpSpinning() {
        if (System.getenv("OMP_WAIT_POLICY") != null || System.getenv("GOMP_SPINCOUNT") != null) {
            return;
        }
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            var setenv = Linker.nativeLinker().defaultLookup().find("setenv");
            if (setenv.isEmpty()) {
                return;
            }
            MethodHandle mh = Linker.nativeLinker().downcallHandle(setenv.get(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            int rc = (int) mh.invokeExact(arena.allocateFrom("GOMP_SPINCOUNT"), arena.allocateFrom("10000"), 0);
            LOG.debug("GOMP_SPINCOUNT=10000 set before loading libmoe (rc {})", rc);
        } catch (Throwable t) {
            LOG.debug("could not bound OpenMP spinning: {}", t.toString());
        }
    }

    /**
     * Whether a library was loaded by this process (without trying to load it).
     *
     * @param name the base name, as for {@link #load}
     * @return true once {@link #load} has succeeded for it
     */
    public static synchronized boolean isLoaded(String name) {
        return CACHE.get(name) instanceof LoadedLibrary;
    }

    /** The jar resource folder for this platform, e.g. {@code linux-x86_64}, or null if unsupported. */
    static String platformDir() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux")) {
            return null;
        }
        return switch (arch) {
            case "amd64", "x86_64" -> "linux-x86_64";
            case "aarch64", "arm64" -> "linux-aarch64";
            default -> null;
        };
    }

    private static LoadedLibrary find(String name) {
        String file = System.mapLibraryName(name);
        List<String> tried = new ArrayList<>();

        String explicit = System.getProperty(PATH_PROPERTY);
        if (explicit == null || explicit.isBlank()) {
            tried.add("system property " + PATH_PROPERTY + ": not set");
        } else {
            for (String entry : explicit.split(File.pathSeparator)) {
                if (entry.isBlank()) {
                    continue;
                }
                Path p = Path.of(entry);
                Path candidate = Files.isDirectory(p) ? p.resolve(file) : p;
                if (candidate.getFileName().toString().equals(file) && Files.isRegularFile(candidate)) {
                    // An explicit request that fails is an error, never a silent fallback to another copy.
                    load(candidate, name, "system property " + PATH_PROPERTY + ": " + candidate);
                    return new LoadedLibrary(name, candidate.toAbsolutePath(), LoadedLibrary.Source.EXPLICIT_PATH);
                }
                tried.add("system property " + PATH_PROPERTY + ": no " + file + " at " + p);
            }
        }

        String platform = platformDir();
        if (platform == null) {
            tried.add("jar resource: no bundled library for " + System.getProperty("os.name") + "/"
                    + System.getProperty("os.arch") + " (supported: linux-x86_64)");
        } else {
            String resource = "/native/" + platform + "/" + file;
            try (InputStream in = NativeLibraryLoader.class.getResourceAsStream(resource)) {
                if (in == null) {
                    tried.add("jar resource " + resource + ": not present on the class path");
                } else {
                    Path extracted = extract(in, resource, file, tried);
                    if (extracted != null) {
                        load(extracted, name, "jar resource " + resource + " (extracted to " + extracted + ")");
                        return new LoadedLibrary(name, extracted, LoadedLibrary.Source.JAR);
                    }
                }
            } catch (IOException e) {
                tried.add("jar resource " + resource + ": " + e.getMessage());
            }
        }

        String libPath = System.getProperty("java.library.path", "");
        for (String dir : libPath.split(File.pathSeparator)) {
            if (dir.isBlank()) {
                continue;
            }
            Path candidate = Path.of(dir).resolve(file);
            if (Files.isRegularFile(candidate)) {
                try {
                    System.load(candidate.toAbsolutePath().toString());
                    return new LoadedLibrary(name, candidate.toAbsolutePath(), LoadedLibrary.Source.LIBRARY_PATH);
                } catch (UnsatisfiedLinkError e) {
                    tried.add("java.library.path " + dir + ": " + e.getMessage());
                }
            } else {
                tried.add("java.library.path " + dir + ": no " + file);
            }
        }
        if (libPath.isBlank()) {
            tried.add("java.library.path: empty");
        }
        StringBuilder msg = new StringBuilder("could not load native library '" + name + "' (" + file + "); tried:");
        for (int i = 0; i < tried.size(); i++) {
            msg.append("\n  ").append(i + 1).append(". ").append(tried.get(i));
        }
        throw new NativeLibraryException(msg.toString());
    }

    private static void load(Path file, String name, String where) {
        try {
            System.load(file.toAbsolutePath().toString());
        } catch (UnsatisfiedLinkError e) {
            throw new NativeLibraryException("could not load native library '" + name + "' from " + where + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * The jar's copy of a library in the per-user cache ({@link NativeLibraryCache}), after checking it
     * against its bundled {@code .sha256}; null (with the reasons in {@code tried}) if no cache directory
     * could be used.
     */
    private static Path extract(InputStream in, String resource, String file, List<String> tried) throws IOException {
        byte[] bytes = in.readAllBytes();
        // The build writes a .sha256 next to every bundled library; a jar without one was not built
        // by this project's build (or was altered), so it is refused rather than trusted.
        String expected;
        try (InputStream sum = NativeLibraryLoader.class.getResourceAsStream(resource + ".sha256")) {
            if (sum == null) {
                throw new IOException("the jar has no checksum " + resource + ".sha256 for its copy of " + file);
            }
            expected = new String(sum.readAllBytes(), StandardCharsets.US_ASCII).trim().split("\\s+")[0].toLowerCase(Locale.ROOT);
        }
        String actual = NativeLibraryCache.sha256(bytes);
        if (!expected.equals(actual)) {
            throw new IOException("checksum mismatch: the jar's copy has SHA-256 " + actual + ", its .sha256 says " + expected);
        }
        List<String> cacheFailures = new ArrayList<>();
        Path cached = NativeLibraryCache.install(bytes, actual, file, NativeLibraryCache.roots(), cacheFailures);
        if (cached == null) {
            tried.add("jar resource " + resource + ": could not be extracted; " + String.join("; ", cacheFailures));
        }
        return cached;
    }

    private static void checkAbi(LoadedLibrary lib) {
        String symbol = lib.name().equals("moe") ? "moe_abi_version" : lib.name() + "_abi_version";
        SymbolLookup lookup = SymbolLookup.libraryLookup(lib.path(), java.lang.foreign.Arena.global());
        var addr = lookup.find(symbol).orElse(null);
        if (addr == null) {
            return;  // not one of ours (tests load stand-ins); nothing to check
        }
        int version;
        try {
            MethodHandle mh = Linker.nativeLinker().downcallHandle(addr, FunctionDescriptor.of(ValueLayout.JAVA_INT));
            version = (int) mh.invokeExact();
        } catch (Throwable t) {
            throw new NativeLibraryException("ABI check of " + lib.path() + " failed: " + t, t);
        }
        // Each header has its own version: moe.h for libmoe, libmoe_cuda and the testkit (whose header
        // extends moe.h), moe_mpi.h for the MPI shim.
        int expected = lib.name().equals("moe_mpi") ? moe_mpi_h.MOE_MPI_ABI_VERSION() : moe_h.MOE_ABI_VERSION();
        if (version != expected) {
            throw new NativeLibraryException(lib.path() + " has C ABI version " + version + " but these bindings need "
                    + expected + "; rebuild the native library (./mvnw package) or fix " + PATH_PROPERTY);
        }
    }
}

package dev.moe.nativelib;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where the libraries bundled in the jar are extracted: one cache directory per user, one subdirectory
 * per library content ({@code <root>/<sha256>/libmoe.so}), so each build of a library is written once and
 * reused by every later run, by every JVM. The roots, in order: the system property
 * {@value #DIR_PROPERTY}; {@code $XDG_CACHE_HOME/moe/native}; {@code ~/.cache/moe/native};
 * {@code java.io.tmpdir/moe-<user>/native}. A root is skipped (and the reason kept) when it cannot be
 * created or written, or its directory for the library is writable by others or owned by someone else.
 *
 * <p>A file is written as a temporary in its directory, forced and renamed into place, so two JVMs that
 * extract at once each see a complete file (the last rename wins; both wrote the same bytes). A cached file
 * is hashed before it is reused and rewritten if it does not match.
 */
final class NativeLibraryCache {
    /** System property naming the cache directory, tried before the default locations. */
    static final String DIR_PROPERTY = "moe.native.cache";

    private static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> LIBRARY = PosixFilePermissions.fromString("r-x------");

    private NativeLibraryCache() {}

    /** {@return the candidate cache roots for this process, in order of preference} */
    static List<Path> roots() {
        return roots(System.getenv(), System.getProperty(DIR_PROPERTY), System.getProperty("user.home"),
                System.getProperty("java.io.tmpdir"), System.getProperty("user.name"));
    }

    /** The candidate roots for the given environment and properties (each may be null or blank). */
    static List<Path> roots(Map<String, String> env, String explicit, String home, String tmp, String user) {
        List<Path> roots = new ArrayList<>();
        if (explicit != null && !explicit.isBlank()) {
            roots.add(Path.of(explicit));
        }
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
            roots.add(Path.of(xdg, "moe", "native"));
        }
        if (home != null && !home.isBlank() && !home.equals("?")) {
            roots.add(Path.of(home, ".cache", "moe", "native"));
        }
        if (tmp != null && !tmp.isBlank()) {
            String safe = user == null ? "" : user.replaceAll("[^A-Za-z0-9._-]", "_");
            roots.add(Path.of(tmp, "moe-" + (safe.isEmpty() ? "user" : safe), "native"));
        }
        return roots;
    }

    /**
     * The cached copy of {@code bytes} in the first usable root, written if it is missing or damaged.
     *
     * @param bytes    the library
     * @param sha256   the hex SHA-256 of {@code bytes}
     * @param fileName its file name, e.g. {@code libmoe.so}
     * @param roots    the candidate roots, in order
     * @param tried    receives one line for each root that could not be used
     * @return the cached file, or null if no root could be used
     */
    static Path install(byte[] bytes, String sha256, String fileName, List<Path> roots, List<String> tried) {
        for (Path root : roots) {
            Path dir = root.resolve(sha256);
            try {
                return installIn(dir, bytes, sha256, fileName);
            } catch (IOException e) {
                tried.add("cache directory " + dir + ": " + reason(e));
            }
        }
        return null;
    }

    private static Path installIn(Path dir, byte[] bytes, String sha256, String fileName) throws IOException {
        createPrivateDirectories(dir);
        Path target = dir.resolve(fileName);
        requirePrivate(dir);
        if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) && sha256(Files.readAllBytes(target)).equals(sha256)) {
            return target;
        }
        Path temp = Files.createTempFile(dir, "." + fileName + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            setPermissions(temp, LIBRARY);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
        String written = sha256(Files.readAllBytes(target));
        if (!written.equals(sha256)) {
            throw new IOException("the extracted copy " + target + " has SHA-256 " + written + ", expected " + sha256);
        }
        return target;
    }

    /** Creates the directories (new ones owner-only where the file system is POSIX). */
    private static void createPrivateDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
        } else {
            Files.createDirectories(dir);
        }
    }

    /**
     * Refuses a directory that someone else owns or may write (e.g. one prepared in a shared temporary
     * directory by another user, who could swap the library between its check and its loading).
     */
    private static void requirePrivate(Path dir) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(dir, PosixFileAttributeView.class);
        if (view == null) {
            return;
        }
        var attributes = view.readAttributes();
        if (!attributes.owner().equals(currentUser(dir))) {
            throw new IOException("owned by " + attributes.owner().getName() + ", not by this user");
        }
        Set<PosixFilePermission> p = attributes.permissions();
        if (p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException("writable by other users (" + PosixFilePermissions.toString(p) + ")");
        }
    }

    /** This process's user: the owner of /proc/self on Linux, else of a file created for the purpose. */
    private static UserPrincipal currentUser(Path dir) throws IOException {
        Path self = Path.of("/proc/self");
        if (Files.exists(self)) {
            return Files.getOwner(self);
        }
        Path probe = Files.createTempFile(dir, ".owner.", ".tmp");
        try {
            return Files.getOwner(probe);
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    private static void setPermissions(Path file, Set<PosixFilePermission> permissions) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        if (view != null) {
            view.setPermissions(permissions);
        }
    }

    /** The hex SHA-256 of {@code bytes}. */
    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileAlreadyExistsException f) {
            return "cannot be created, a file is in the way at " + f.getFile();
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason() + (f.getFile() != null ? " (" + f.getFile() + ")" : "");
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}

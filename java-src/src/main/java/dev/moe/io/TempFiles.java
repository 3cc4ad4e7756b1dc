package dev.moe.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Every temporary file this package stages an output in, in one registry: a JVM shutdown hook (SIGTERM,
 * SIGINT, {@code System.exit}) deletes those still present, so an interrupted write leaves no
 * {@code .NAME.*.tmp} behind. The hook and {@link #renameAll} hold the same lock: a shutdown that
 * arrives while outputs are being renamed into place waits for the renames (a few system calls), and
 * none starts once the hook has run.
 */
final class TempFiles {
    private static final Object LOCK = new Object();
    /** Guarded by LOCK. */
    private static final Set<Path> LIVE = new LinkedHashSet<>();
    /** Guarded by LOCK. */
    private static boolean hookInstalled;
    /** Guarded by LOCK: set by the hook; no temporary file is created or renamed afterwards. */
    private static boolean shuttingDown;

    private TempFiles() {}

    /** A rename of staged files into place, run under the registry's lock. */
    @FunctionalInterface
    interface Renames {
        void run() throws IOException;
    }

    /**
     * Creates {@code .NAME.<random>.tmp} in {@code dir} with ordinary permissions (rw-rw-rw- narrowed
     * by the umask where the file system is POSIX) and registers it.
     */
    static Path create(Path dir, String name) throws IOException {
        synchronized (LOCK) {
            requireRunning();
            if (!hookInstalled) {
                Runtime.getRuntime().addShutdownHook(new Thread(TempFiles::deleteAll, "moe-temp-file-cleanup"));
                hookInstalled = true;
            }
            Path temp = Files.createTempFile(dir, "." + name + ".", ".tmp", defaultPermissions(dir));
            LIVE.add(temp);
            return temp;
        }
    }

    /** Deletes a registered temporary file (if still there) and forgets it; returns the failure, if any. */
    static IOException discard(Path temp) {
        synchronized (LOCK) {
            LIVE.remove(temp);
            try {
                Files.deleteIfExists(temp);
                return null;
            } catch (IOException e) {
                return e;
            }
        }
    }

    /** Forgets a temporary file that was renamed into place. */
    static void renamed(Path temp) {
        synchronized (LOCK) {
            LIVE.remove(temp);
        }
    }

    /** Runs {@code renames} so that the shutdown hook cannot interleave with it. */
    static void renameAll(Renames renames) throws IOException {
        synchronized (LOCK) {
            requireRunning();
            renames.run();
        }
    }

    /** {@return a snapshot of the registered temporary files (for tests)} */
    static Set<Path> live() {
        synchronized (LOCK) {
            return Set.copyOf(LIVE);
        }
    }

    private static void requireRunning() throws IOException {
        if (shuttingDown) {
            throw new IOException("the JVM is shutting down; nothing more is written");
        }
    }

    private static void deleteAll() {
        synchronized (LOCK) {
            shuttingDown = true;
            for (Path temp : LIVE) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException | RuntimeException ignored) {
                    // best effort: the JVM is going away
                }
            }
            LIVE.clear();
        }
    }

    /**
     * rw-rw-rw- as the requested mode, which the OS narrows by the umask, so the file gets ordinary
     * permissions (createTempFile alone would make it owner-only).
     */
    private static FileAttribute<?>[] defaultPermissions(Path dir) {
        if (!dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return new FileAttribute<?>[0];
        }
        return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-rw-rw-"))};
    }
}

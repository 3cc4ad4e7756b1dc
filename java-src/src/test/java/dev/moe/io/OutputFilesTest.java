package dev.moe.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** All-or-none outputs: checks before any work, staging, commit, clean-up on failure and on SIGTERM. */
class OutputFilesTest {
    @TempDir
    Path dir;

    private Path file(String name, String contents) throws IOException {
        return Files.writeString(dir.resolve(name), contents);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private List<String> temporaries() throws IOException {
        try (var files = Files.walk(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
        }
    }

    private FileArgumentException refused(OutputFiles.Builder b) {
        return assertThrows(FileArgumentException.class, b::open);
    }

    @Test
    void outputsAppearOnlyAtCommitAndAllTogether() throws IOException {
        Path a = file("a.txt", "OLD-A");
        Path b = dir.resolve("b.txt");
        try (OutputFiles out = OutputFiles.builder().output("--a", a).output("--b", b).open()) {
            out.write(a, bytes("NEW-A"));
            out.write(b, bytes("NEW-B"));
            assertEquals("OLD-A", Files.readString(a), "nothing replaced before commit");
            assertFalse(Files.exists(b));
            assertEquals(2, temporaries().size());
            out.commit();
        }
        assertEquals("NEW-A", Files.readString(a));
        assertEquals("NEW-B", Files.readString(b));
        assertEquals(List.of(), temporaries());
    }

    @Test
    void aFailureOfALaterOutputLeavesEveryExistingFileAndNoTemporary() throws IOException {
        Path a = file("a.txt", "OLD-A");
        Path b = file("b.txt", "OLD-B");
        IOException e;
        try (OutputFiles out = OutputFiles.builder().output("--a", a).output("--b", b).open()) {
            out.write(a, bytes("NEW-A"));
            e = assertThrows(IOException.class, () -> out.write(b, ch -> {
                throw new java.nio.file.FileSystemException(ch.toString(), null, "No space left on device");
            }));
        }
        assertEquals("--b " + b + ": no space left on device", e.getMessage());
        assertEquals("OLD-A", Files.readString(a));
        assertEquals("OLD-B", Files.readString(b));
        assertEquals(List.of(), temporaries());
    }

    @Test
    void anOutputThatIsAnInputIsRefusedHoweverItIsSpelled() throws IOException {
        Path in = file("in.npy", "INPUT");
        Files.createDirectory(dir.resolve("sub"));
        Path link = Files.createSymbolicLink(dir.resolve("link.npy"), in);
        Path hard = Files.createLink(dir.resolve("hard.npy"), in);
        for (Path same : List.of(in, dir.resolve("sub/../in.npy"), link, hard, Path.of(dir.toString(), ".", "in.npy"))) {
            FileArgumentException e = refused(OutputFiles.builder().input("--logits", in).output("--out-ids", same));
            assertEquals("--out-ids " + same + ": is the same file as the input --logits " + in + "; write the output elsewhere",
                    e.getMessage());
        }
        assertEquals("INPUT", Files.readString(in));
    }

    @Test
    void twoOutputsOnOneFileAreRefused() throws IOException {
        Path x = dir.resolve("x.npy");
        FileArgumentException e = refused(OutputFiles.builder().output("--out-ids", x).output("--out-weights", dir.resolve("./x.npy")));
        assertTrue(e.getMessage().startsWith("--out-weights "), e.getMessage());
        assertTrue(e.getMessage().endsWith("is the same file as the output --out-ids " + x + "; give each output its own file"),
                e.getMessage());
        Path existing = file("e.npy", "E");
        Path link = Files.createSymbolicLink(dir.resolve("e-link.npy"), existing);
        refused(OutputFiles.builder().output("--csv", existing).output("--plot", link));
        assertFalse(Files.exists(x));
    }

    @Test
    void unusableLocationsAreRefusedNamingTheCause() throws Exception {
        Path plain = file("plain.txt", "P");
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("nowhere"));
        Path missing = dir.resolve("nodir/w.npy");
        assertEquals("--o " + missing + ": directory " + missing.getParent() + " does not exist",
                refused(OutputFiles.builder().output("--o", missing)).getMessage());
        assertEquals("--o " + plain.resolve("x") + ": " + plain + " is not a directory",
                refused(OutputFiles.builder().output("--o", plain.resolve("x"))).getMessage());
        assertEquals("--o " + dir + ": is a directory", refused(OutputFiles.builder().output("--o", dir)).getMessage());
        Path socket = dir.resolve("socket");
        try (var server = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            server.bind(java.net.UnixDomainSocketAddress.of(socket));
        }
        // A FIFO and a socket stand for devices: a regression run as root must not replace /dev/null.
        for (Path special : List.of(fifo, socket)) {
            assertEquals("--o " + special + ": is not a regular file (a FIFO, socket or device); refusing to replace it",
                    refused(OutputFiles.builder().output("--o", special)).getMessage());
        }
        assertEquals("--o " + dangling + ": is a symbolic link to a missing file",
                refused(OutputFiles.builder().output("--o", dangling)).getMessage());
        assertEquals("--i " + missing + ": no such file", refused(OutputFiles.builder().input("--i", missing)).getMessage());
        assertEquals("--i " + fifo + ": is not a regular file (a FIFO, socket or device)",
                refused(OutputFiles.builder().input("--i", fifo)).getMessage());
        assertEquals(List.of(), temporaries());
    }

    @Test
    void permissionProblemsAreRefusedBeforeAnyWork() throws IOException {
        assumeFalse("root".equals(System.getProperty("user.name")), "root may write anywhere");
        Path locked = Files.createDirectory(dir.resolve("locked"));
        Path readOnly = file("ro.txt", "RO");
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r--r--r--"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assertTrue(refused(OutputFiles.builder().output("--o", locked.resolve("x"))).getMessage()
                    .contains("cannot create files in directory"));
            assertEquals("--o " + readOnly + ": permission denied (the file is read-only)",
                    refused(OutputFiles.builder().output("--o", readOnly)).getMessage());
        } finally {
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void anExistingOutputReachedThroughASymbolicLinkIsReplacedAtItsTargetKeepingItsMode() throws IOException {
        Path real = file("real.txt", "OLD");
        Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rw-r-----"));
        Path link = Files.createSymbolicLink(dir.resolve("link.txt"), real);
        AtomicFiles.write(link, bytes("NEW"));
        assertTrue(Files.isSymbolicLink(link), "the link stays");
        assertEquals("NEW", Files.readString(real));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(real)));
    }

    @Test
    void misuseIsAnError() throws IOException {
        Path a = dir.resolve("a");
        try (OutputFiles out = OutputFiles.builder().output(null, a).open()) {
            assertThrows(IllegalArgumentException.class, () -> out.write(dir.resolve("b"), new byte[0]));
            assertThrows(IllegalStateException.class, out::commit);
            out.write(a, new byte[] {1});
            assertThrows(IllegalStateException.class, () -> out.write(a, new byte[] {2}));
            out.commit();
            assertThrows(IllegalStateException.class, out::commit);
        }
        assertArrayEquals(new byte[] {1}, Files.readAllBytes(a));
    }

    /**
     * A JVM killed with SIGTERM while an output is staged removes the temporary file (shutdown hook) and
     * leaves the existing output as it was.
     */
    @Test
    void sigtermRemovesStagedTemporaries() throws Exception {
        Path target = file("out.txt", "OLD");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process p = new ProcessBuilder(java, "-cp", cp, StageAndWait.class.getName(), target.toString())
                .redirectErrorStream(true).start();
        try {
            String line = new String(p.getInputStream().readNBytes("staged\n".length()), StandardCharsets.US_ASCII);
            assertEquals("staged\n", line);
            assertEquals(1, temporaries().size(), "the staged file exists while the JVM runs");
            p.destroy();  // SIGTERM
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
        }
        assertEquals(List.of(), temporaries());
        assertEquals("OLD", Files.readString(target));
    }

    /** Stages an output of 8 MiB, says so on stdout, and waits to be killed. */
    public static final class StageAndWait {
        private StageAndWait() {}

        /**
         * Entry point of the child JVM.
         *
         * @param args the output file
         * @throws Exception never expected
         */
        public static void main(String[] args) throws Exception {
            Path target = Path.of(args[0]);
            OutputFiles out = OutputFiles.builder().output("--out", target).open();
            out.write(target, new byte[8 << 20]);
            System.out.print("staged\n");
            System.out.flush();
            Thread.sleep(60_000);
        }
    }
}

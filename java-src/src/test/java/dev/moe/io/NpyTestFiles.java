package dev.moe.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Test helpers: fixture files from the class path, hand-made .npy bytes, rejection assertions. */
final class NpyTestFiles {
    private NpyTestFiles() {
    }

    /** Copies class path resource {@code /npy/<name>} into {@code dir} and returns the copy. */
    static Path fixture(Path dir, String name) throws IOException {
        Path target = dir.resolve(name.replace('/', '_'));
        try (InputStream in = NpyTestFiles.class.getResourceAsStream("/npy/" + name)) {
            assertNotNull(in, "missing test resource /npy/" + name);
            Files.copy(in, target);
        }
        return target;
    }

    /** The bytes of class path resource {@code /npy/<name>}. */
    static byte[] resourceBytes(String name) throws IOException {
        try (InputStream in = NpyTestFiles.class.getResourceAsStream("/npy/" + name)) {
            assertNotNull(in, "missing test resource /npy/" + name);
            return in.readAllBytes();
        }
    }

    /** A version 1.0 file with exactly this header text (no padding added) followed by {@code dataBytes} zero bytes. */
    static byte[] npyWithHeader(String header, int dataBytes) {
        byte[] text = header.getBytes(StandardCharsets.ISO_8859_1);
        return ByteBuffer.allocate(10 + text.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
                .put(NpyHeader.MAGIC).put((byte) 1).put((byte) 0).putShort((short) text.length).put(text)
                .array();
    }

    /** Writes {@code bytes} to {@code dir/name}. */
    static Path file(Path dir, String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    /** Asserts that reading {@code file} fails with a message naming the file and containing each fragment. */
    static NpyFormatException assertRejected(Path file, String... fragments) {
        NpyFormatException e;
        try (Arena arena = Arena.ofConfined()) {
            e = assertThrows(NpyFormatException.class, () -> Npy.read(file, arena));
        }
        assertTrue(e.getMessage().startsWith(file + ": "), () -> "message does not start with the file: " + e.getMessage());
        assertEquals(file, e.file());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment),
                    () -> "message lacks \"" + fragment + "\": " + e.getMessage());
        }
        return e;
    }

    /** Creates a FIFO (named pipe) at {@code path} with mkfifo(1). */
    static Path fifo(Path path) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
        assertEquals(0, p.waitFor(), "mkfifo " + path);
        return path;
    }

    /** The names of the files in {@code dir}. */
    static java.util.List<String> listing(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}

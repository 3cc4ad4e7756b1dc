package dev.moe.balance;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;

import dev.moe.io.AtomicFiles;

/**
 * The balancer's state on disk: a small versioned little-endian binary file, written atomically
 * (temp + fsync + rename) and fully validated on load (magic, version, sizes, finite values, CRC-32),
 * so a corrupt file is rejected with a clear message and never half-read or modified.
 *
 * <pre>
 * "MOEBIAS\0" | u32 version=1 | u32 layers | u32 experts | i64 step | i64 tokensSeen
 * | u16 ruleLength | rule (UTF-8) | f32 bias[layers*experts] | u32 crc32(everything before)
 * </pre>
 */
public final class BiasStateFile {
    static final byte[] MAGIC = "MOEBIAS\0".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    private static final int MAX_LAYERS = 1 << 16;
    private static final int MAX_EXPERTS = 1 << 20;

    private BiasStateFile() {}

    /**
     * Writes {@code state} to {@code file} atomically (a reader sees the old file or the new one, never
     * a mix).
     *
     * @param file  the destination; replaced if it exists
     * @param state the state to write
     * @throws IllegalArgumentException if the bias rows are ragged
     * @throws IOException if writing fails
     */
    public static void save(Path file, BiasState state) throws IOException {
        byte[] rule = state.rule().getBytes(StandardCharsets.UTF_8);
        int layers = state.layers();
        int n = state.numExperts();
        ByteBuffer buf = ByteBuffer.allocate(8 + 4 * 3 + 16 + 2 + rule.length + 4 * layers * n + 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(MAGIC).putInt(VERSION).putInt(layers).putInt(n).putLong(state.step()).putLong(state.tokensSeen());
        buf.putShort((short) rule.length).put(rule);
        for (float[] row : state.bias()) {
            if (row.length != n) {
                throw new IllegalArgumentException("ragged bias: rows of " + row.length + " and " + n + " experts");
            }
            for (float v : row) {
                buf.putFloat(v);
            }
        }
        CRC32 crc = new CRC32();
        crc.update(buf.array(), 0, buf.position());
        buf.putInt((int) crc.getValue());
        AtomicFiles.write(file, buf.array());
    }

    /**
     * Reads and validates a state file.
     *
     * @param file the file to read
     * @return the state it holds
     * @throws IOException if the file cannot be read, or is corrupt: bad magic, unsupported version,
     *         implausible sizes, wrong length, a non-finite bias or a checksum mismatch (the message says which)
     */
    public static BiasState load(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 8 + 12 + 16 + 2 + 4) {
            throw corrupt(file, "too short (" + bytes.length + " bytes) to be a bias state file");
        }
        byte[] magic = new byte[8];
        buf.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw corrupt(file, "not a bias state file (bad magic)");
        }
        int version = buf.getInt();
        if (version != VERSION) {
            throw corrupt(file, "unsupported bias state version " + version + " (supported: " + VERSION + ")");
        }
        int layers = buf.getInt();
        int n = buf.getInt();
        if (layers < 1 || layers > MAX_LAYERS || n < 1 || n > MAX_EXPERTS) {
            throw corrupt(file, "implausible size " + layers + " layers x " + n + " experts");
        }
        long step = buf.getLong();
        long tokens = buf.getLong();
        if (step < 0 || tokens < 0) {
            throw corrupt(file, "negative step or token count");
        }
        int ruleLength = Short.toUnsignedInt(buf.getShort());
        long expected = 8 + 12 + 16 + 2 + (long) ruleLength + 4L * layers * n + 4;
        if (bytes.length != expected) {
            throw corrupt(file, "size " + bytes.length + " bytes, but its header describes " + expected + " (truncated or padded)");
        }
        byte[] rule = new byte[ruleLength];
        buf.get(rule);
        float[][] bias = new float[layers][n];
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < n; i++) {
                float v = buf.getFloat();
                if (!Float.isFinite(v)) {
                    throw corrupt(file, "bias of layer " + l + ", expert " + i + " is " + v);
                }
                bias[l][i] = v;
            }
        }
        int stored = buf.getInt();
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 4);
        if (stored != (int) crc.getValue()) {
            throw corrupt(file, "checksum mismatch (the file is damaged)");
        }
        return new BiasState(step, tokens, new String(rule, StandardCharsets.UTF_8), bias);
    }

    private static IOException corrupt(Path file, String problem) {
        return new IOException(file + ": " + problem);
    }
}

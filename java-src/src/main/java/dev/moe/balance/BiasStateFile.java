package dev.moe.balance;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.CRC32;

import dev.moe.io.AtomicFiles;
import dev.moe.io.InputFiles;

/**
 * The balancer's state on disk: a small versioned little-endian binary file, written atomically
 * (temp + fsync + rename) and fully validated on load (magic, version, sizes, finite values, CRC-32),
 * so a corrupt file is rejected with a clear message and never half-read or modified.
 *
 * <pre>
 * "MOEBIAS\0" | u32 version=1 | u32 layers | u32 experts | i64 step | i64 tokensSeen
 * | u16 ruleLength | rule (UTF-8: sign, proportional or multiplicative) | f32 bias[layers*experts]
 * | u32 crc32(everything before)
 * </pre>
 */
public final class BiasStateFile {
    static final byte[] MAGIC = "MOEBIAS\0".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    private static final int MAX_LAYERS = 1 << 16;
    private static final int MAX_EXPERTS = 1 << 20;
    /** Magic, version, layers, experts, step, tokens seen and the rule's length: what precedes the rule. */
    private static final int HEADER_BYTES = 8 + 4 * 3 + 8 * 2 + 2;
    /** The largest file read or written: it is held in one byte array. */
    private static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    private BiasStateFile() {}

    /**
     * Writes {@code state} to {@code file} atomically (a reader sees the old file or the new one, never
     * a mix). Everything is checked first, so that a state this class would not load is never written.
     *
     * @param file  the destination; replaced if it exists
     * @param state the state to write
     * @throws IllegalArgumentException if there are no layers, the bias rows are ragged, empty or too many,
     *         a bias is NaN or infinite, or the step or token count is negative; nothing is written then
     * @throws IOException if writing fails
     */
    public static void save(Path file, BiasState state) throws IOException {
        Objects.requireNonNull(state.rule(), "rule");
        byte[] rule = state.rule().cliName().getBytes(StandardCharsets.UTF_8);
        int layers = state.layers();
        int n = state.numExperts();
        if (layers < 1 || layers > MAX_LAYERS || n < 1 || n > MAX_EXPERTS) {
            throw new IllegalArgumentException("a bias state needs 1 to " + MAX_LAYERS + " layers of 1 to " + MAX_EXPERTS
                    + " experts, got " + layers + " x " + n);
        }
        if (state.step() < 0 || state.tokensSeen() < 0) {
            throw new IllegalArgumentException("negative step " + state.step() + " or token count " + state.tokensSeen());
        }
        long size = fileSize(rule.length, layers, n);
        if (size > MAX_FILE_BYTES) {
            throw new IllegalArgumentException(layers + " x " + n + " biases are too many for one state file");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(MAGIC).putInt(VERSION).putInt(layers).putInt(n).putLong(state.step()).putLong(state.tokensSeen());
        buf.putShort((short) rule.length).put(rule);
        for (int l = 0; l < layers; l++) {
            float[] row = state.bias()[l];
            if (row.length != n) {
                throw new IllegalArgumentException("ragged bias: rows of " + row.length + " and " + n + " experts");
            }
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(row[i])) {
                    throw new IllegalArgumentException("bias of layer " + l + ", expert " + i + " is " + row[i]
                            + "; only finite biases are saved");
                }
                buf.putFloat(row[i]);
            }
        }
        CRC32 crc = new CRC32();
        crc.update(buf.array(), 0, buf.position());
        buf.putInt((int) crc.getValue());
        AtomicFiles.write(file, buf.array());
    }

    /**
     * Reads and validates a state file. The header is read and checked against the file's size before
     * anything else is allocated, so a damaged or hostile file cannot make this allocate more than the
     * file holds.
     *
     * @param file the file to read
     * @return the state it holds
     * @throws IOException if the file cannot be read, or is corrupt: bad magic, unsupported version,
     *         implausible sizes, wrong length, an unknown update rule, a non-finite bias or a checksum
     *         mismatch (the message says which)
     */
    public static BiasState load(Path file) throws IOException {
        byte[] bytes;
        try (FileChannel ch = InputFiles.open(file)) {
            long size = ch.size();
            if (size < HEADER_BYTES + 4) {
                throw corrupt(file, "too short (" + size + " bytes) to be a bias state file");
            }
            ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            readFully(file, ch, head, 0);
            checkHeader(file, head.flip(), size);
            bytes = new byte[(int) size];
            ByteBuffer all = ByteBuffer.wrap(bytes);
            readFully(file, ch, all, 0);
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.position(8 + 4);
        int layers = buf.getInt();
        int n = buf.getInt();
        long step = buf.getLong();
        long tokens = buf.getLong();
        byte[] ruleName = new byte[Short.toUnsignedInt(buf.getShort())];
        buf.get(ruleName);
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
        BiasUpdateRule rule;
        try {
            rule = BiasUpdateRule.byName(new String(ruleName, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw corrupt(file, e.getMessage());
        }
        return new BiasState(step, tokens, rule, bias);
    }

    /** Magic, version, sizes and counts, and that the file is exactly as long as they say. */
    private static void checkHeader(Path file, ByteBuffer head, long size) throws IOException {
        byte[] magic = new byte[8];
        head.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw corrupt(file, "not a bias state file (bad magic)");
        }
        int version = head.getInt();
        if (version != VERSION) {
            throw corrupt(file, "unsupported bias state version " + version + " (supported: " + VERSION + ")");
        }
        int layers = head.getInt();
        int n = head.getInt();
        if (layers < 1 || layers > MAX_LAYERS || n < 1 || n > MAX_EXPERTS) {
            throw corrupt(file, "implausible size " + layers + " layers x " + n + " experts");
        }
        if (head.getLong() < 0 || head.getLong() < 0) {
            throw corrupt(file, "negative step or token count");
        }
        long expected = fileSize(Short.toUnsignedInt(head.getShort()), layers, n);
        if (size != expected) {
            throw corrupt(file, "size " + size + " bytes, but its header describes " + expected + " (truncated or padded)");
        }
        if (expected > MAX_FILE_BYTES) {
            throw corrupt(file, "implausible size " + layers + " layers x " + n + " experts (" + expected + " bytes)");
        }
    }

    /** Bytes of a file with a rule name of {@code ruleLength} bytes and layers x n biases. */
    private static long fileSize(int ruleLength, int layers, int n) {
        return HEADER_BYTES + (long) ruleLength + 4L * layers * n + 4;
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer into, long position) throws IOException {
        while (into.hasRemaining()) {
            if (ch.read(into, position + into.position()) < 0) {
                throw corrupt(file, "changed while being read (it shrank)");
            }
        }
    }

    private static IOException corrupt(Path file, String problem) {
        return new IOException(file + ": " + problem);
    }
}

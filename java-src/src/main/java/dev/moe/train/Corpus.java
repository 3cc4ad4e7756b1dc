package dev.moe.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A text as bytes, split into a training part and a held-out part: the last {@code valFraction} of the
 * file, contiguous, is never trained on. Training batches are windows of S+1 bytes at positions drawn
 * from a counter-based generator keyed by (seed, step, sequence), so a batch depends on nothing but
 * those three numbers: resuming needs only the step, and ranks of a data-parallel run draw disjoint
 * sequences of the same global batch.
 */
public final class Corpus {
    private final byte[] bytes;
    private final int trainEnd;

    /**
     * A corpus from bytes.
     *
     * @param bytes       the text
     * @param valFraction the held-out share, in (0, 1)
     * @param seqLen      S; both parts must hold at least 2·(S+1) bytes
     * @throws IllegalArgumentException if a part is too short or the fraction is out of range
     */
    public Corpus(byte[] bytes, double valFraction, int seqLen) {
        if (!(valFraction > 0 && valFraction < 1)) {
            throw new IllegalArgumentException("--val-fraction must be in (0, 1), got " + valFraction);
        }
        this.bytes = bytes;
        this.trainEnd = (int) Math.round(bytes.length * (1 - valFraction));
        long need = 2L * (seqLen + 1);
        if (trainEnd < need || bytes.length - trainEnd < need) {
            throw new IllegalArgumentException("corpus too short: " + bytes.length + " bytes give " + trainEnd
                    + " training and " + (bytes.length - trainEnd) + " held-out bytes; each part needs at least 2 x (seq + 1) = "
                    + need);
        }
    }

    /**
     * Reads a corpus file.
     *
     * @param file        the text
     * @param valFraction the held-out share
     * @param seqLen      S
     * @return the corpus
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException as the constructor, or if the file is over 2 GiB
     */
    public static Corpus read(Path file, double valFraction, int seqLen) throws IOException {
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(file + ": " + size + " bytes; corpora up to 2 GiB are supported");
        }
        return new Corpus(Files.readAllBytes(file), valFraction, seqLen);
    }

    /** {@return the number of training bytes} */
    public int trainBytes() {
        return trainEnd;
    }

    /** {@return the number of held-out bytes} */
    public int heldOutBytes() {
        return bytes.length - trainEnd;
    }

    /**
     * Training sequences first..first+count−1 of a step's global batch.
     *
     * @param seed   the run's seed
     * @param step   1-based step
     * @param first  first sequence index in the global batch
     * @param count  sequences
     * @param seqLen S
     * @return count·(S+1) bytes
     */
    public byte[] trainBatch(long seed, int step, int first, int count, int seqLen) {
        byte[] out = new byte[count * (seqLen + 1)];
        int span = trainEnd - seqLen;  // start positions 0..span-1 leave room for S+1 bytes
        for (int i = 0; i < count; i++) {
            long h = mix(seed, step, first + i);
            int start = (int) Long.remainderUnsigned(h, span);
            System.arraycopy(bytes, start, out, i * (seqLen + 1), seqLen + 1);
        }
        return out;
    }

    /** {@return the number of non-overlapping windows of S+1 bytes in the held-out part} */
    public int heldOutWindows(int seqLen) {
        return (bytes.length - trainEnd - 1) / seqLen;
    }

    /**
     * Held-out windows first..first+count−1: window w covers held-out bytes w·S..w·S+S, so consecutive
     * windows predict every held-out byte after the first exactly once.
     *
     * @param first  first window
     * @param count  windows
     * @param seqLen S
     * @return count·(S+1) bytes
     */
    public byte[] heldOutBatch(int first, int count, int seqLen) {
        byte[] out = new byte[count * (seqLen + 1)];
        for (int i = 0; i < count; i++) {
            System.arraycopy(bytes, trainEnd + (first + i) * seqLen, out, i * (seqLen + 1), seqLen + 1);
        }
        return out;
    }

    /** SplitMix64 finaliser over the three keys: a well-mixed 64-bit value per (seed, step, index). */
    private static long mix(long seed, long step, long index) {
        long z = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + index * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

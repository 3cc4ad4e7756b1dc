package dev.moe.sim;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import dev.moe.math.Gaussian;

/**
 * Generates router logits for the simulator, deterministically per (seed, layer, step): the same
 * seed gives the same logits whatever backend routes them. Cheap by design (a table of normal noise
 * read at random offsets), so that generation does not dominate a simulation step.
 */
final class SyntheticRouter {
    static final int DOMAINS = 8;
    private static final int DIM = 16;
    private static final int NOISE = 1 << 20;
    private static final float DOMAIN_SIGNAL = 1.0f;
    private static final float NOISE_SCALE = 0.7f;
    private static final float POPULARITY = 0.6f;
    private static final int DRIFT_PERIOD = 500;
    private static final int BLOCK = 256;

    private final int numExperts;
    private final Workload workload;
    private final long seed;
    private final float[] noise;
    private final float[][][] base;      // [layer][domain][expert]: signal + popularity

    SyntheticRouter(int layers, int numExperts, Workload workload, long seed) {
        this.numExperts = numExperts;
        this.workload = workload;
        this.seed = seed;
        SplittableRandom rnd = new SplittableRandom(seed);
        noise = new float[NOISE + numExperts];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (float) Gaussian.next(rnd);
        }
        base = new float[layers][DOMAINS][numExperts];
        for (int l = 0; l < layers; l++) {
            float[][] centroids = unitVectors(rnd, numExperts);
            float[][] domains = unitVectors(rnd, DOMAINS);
            float[] popularity = new float[numExperts];
            if (workload != Workload.UNIFORM) {
                for (int i = 0; i < numExperts; i++) {
                    popularity[i] = (float) Gaussian.next(rnd) * POPULARITY;
                }
            }
            for (int m = 0; m < DOMAINS; m++) {
                for (int i = 0; i < numExperts; i++) {
                    float dot = 0;
                    for (int k = 0; k < DIM; k++) {
                        dot += domains[m][k] * centroids[i][k];
                    }
                    base[l][m][i] = DOMAIN_SIGNAL * dot * (float) Math.sqrt(DIM) + popularity[i];
                }
            }
        }
    }

    /** Domain mixture weights (cumulative) at a step. */
    double[] domainCdf(long step) {
        double[] w = new double[DOMAINS];
        double sum = 0;
        for (int m = 0; m < DOMAINS; m++) {
            w[m] = workload == Workload.DRIFT
                    ? Math.exp(2.0 * Math.sin(2 * Math.PI * step / DRIFT_PERIOD + 2 * Math.PI * m / DOMAINS))
                    : 1.0;
            sum += w[m];
        }
        double acc = 0;
        for (int m = 0; m < DOMAINS; m++) {
            acc += w[m] / sum;
            w[m] = acc;
        }
        w[DOMAINS - 1] = 1.0;
        return w;
    }

    /**
     * Fills {@code out} (float [tokens, N]) with layer {@code layer}'s logits for step {@code step}.
     * Blocks of {@value #BLOCK} tokens draw from their own seeded streams, so the result is the same
     * however many threads fill it.
     */
    void fill(int layer, long step, int tokens, MemorySegment out) {
        fill(layer, step, 0, tokens, out);
    }

    /**
     * Fills {@code out} (float [count, N]) with tokens [first, first + count) of the batch that
     * {@link #fill(int, long, int, MemorySegment)} generates: a shard of it, as one data-parallel rank
     * sees it. {@code first} must be a multiple of {@value #BLOCK} (the streams are per block).
     */
    void fill(int layer, long step, int first, int count, MemorySegment out) {
        if (first % BLOCK != 0) {
            throw new IllegalArgumentException("a shard must start on a block of " + BLOCK + " tokens, got " + first);
        }
        double[] cdf = domainCdf(step);
        long stepSeed = mix(seed, layer, step);
        int blocks = (int) (((long) count + BLOCK - 1) / BLOCK);
        int firstBlock = first / BLOCK;
        ClaimedLoop.run(blocks, blk -> fillBlock(layer, cdf, stepSeed + firstBlock + blk, blk * BLOCK,
                (int) Math.min(count, (blk + 1L) * BLOCK), out));
    }

    /** Token range [from, to) of rank {@code rank} of {@code ranks} in a batch of {@code tokens}: whole blocks, spread evenly. */
    static int[] shard(int tokens, int rank, int ranks) {
        long blocks = ((long) tokens + BLOCK - 1) / BLOCK;
        int from = (int) Math.min(tokens, blocks * rank / ranks * BLOCK);
        int to = (int) Math.min(tokens, blocks * (rank + 1) / ranks * BLOCK);
        return new int[] {from, to};
    }

    private void fillBlock(int layer, double[] cdf, long blockSeed, int from, int to, MemorySegment out) {
        int n = numExperts;
        SplittableRandom rnd = new SplittableRandom(blockSeed);
        float[] row = new float[n];
        for (int t = from; t < to; t++) {
            double u = rnd.nextDouble();
            int m = 0;
            while (u > cdf[m]) {
                m++;
            }
            // The noise slice is copied out first so that the sum runs over equal indices, the form the
            // JIT vectorises (an offset into the table would keep it scalar).
            System.arraycopy(noise, rnd.nextInt(NOISE), row, 0, n);
            addScaled(row, base[layer][m]);
            MemorySegment.copy(row, 0, out, ValueLayout.JAVA_FLOAT, (long) t * n * Float.BYTES, n);
        }
    }

    /** row[i] = b[i] + NOISE_SCALE · row[i]: a multiply then an add, as the logits were always made. */
    private static void addScaled(float[] row, float[] b) {
        for (int i = 0; i < row.length; i++) {
            row[i] = b[i] + NOISE_SCALE * row[i];
        }
    }

    private static long mix(long seed, int layer, long step) {
        long h = seed * 0x9E3779B97F4A7C15L + layer * 0xBF58476D1CE4E5B9L + step * 0x94D049BB133111EBL;
        h ^= h >>> 31;
        return h * 0xD6E8FEB86659FD93L;
    }

    private static float[][] unitVectors(SplittableRandom rnd, int count) {
        float[][] v = new float[count][DIM];
        for (float[] x : v) {
            double norm = 0;
            for (int k = 0; k < DIM; k++) {
                x[k] = (float) Gaussian.next(rnd);
                norm += x[k] * x[k];
            }
            float inv = (float) (1 / Math.sqrt(norm));
            for (int k = 0; k < DIM; k++) {
                x[k] *= inv;
            }
        }
        return v;
    }
}

package dev.moe.routing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import dev.moe.math.Gaussian;

/**
 * Seeded synthetic router logits for demos, benchmarks and tests: z[t,i] = g[t,i] + p[i] with g
 * standard normal and p a static per-expert popularity offset (normal, standard deviation
 * {@code skew}), so that loads are uneven the way real routers' are (docs/specification.md §l harness).
 */
public final class SyntheticLogits {
    private SyntheticLogits() {}

    /**
     * Generates logits into native memory. The same arguments always give the same values.
     *
     * @param arena      the arena that allocates (and owns) the returned segment
     * @param tokens     T, the number of token rows
     * @param numExperts N, the number of experts (columns)
     * @param skew       standard deviation of the per-expert popularity offset (0 for no skew)
     * @param seed       the random seed
     * @return float [T, N] logits, row-major, in a native segment of {@code arena} of exactly 4·T·N bytes
     */
    public static MemorySegment generate(Arena arena, long tokens, int numExperts, float skew, long seed) {
        MemorySegment out = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, tokens * numExperts))
                .asSlice(0, 4L * tokens * numExperts);
        float[] popularity = popularity(numExperts, skew, seed);
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 1);
        for (long t = 0; t < tokens; t++) {
            for (int i = 0; i < numExperts; i++) {
                out.setAtIndex(ValueLayout.JAVA_FLOAT, t * numExperts + i, (float) Gaussian.next(rnd) + popularity[i]);
            }
        }
        return out;
    }

    /**
     * The same logits as {@link #generate(Arena, long, int, float, long)}, as a float array.
     *
     * @param tokens     T, the number of token rows
     * @param numExperts N, the number of experts (columns)
     * @param skew       standard deviation of the per-expert popularity offset (0 for no skew)
     * @param seed       the random seed
     * @return float [T*N] logits, row-major
     */
    public static float[] generate(int tokens, int numExperts, float skew, long seed) {
        try (Arena arena = Arena.ofConfined()) {
            return generate(arena, tokens, numExperts, skew, seed).toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    private static float[] popularity(int n, float skew, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] p = new float[n];
        for (int i = 0; i < n; i++) {
            p[i] = (float) (Gaussian.next(rnd) * skew);
        }
        return p;
    }
}

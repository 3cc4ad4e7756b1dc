package dev.moe.routing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import dev.moe.backend.Backend;
import dev.moe.math.DetMath;

/**
 * The pure-Java reference router: scalar and written to be obviously correct, in the same order of
 * FP32 operations as the native kernels (docs/specification.md §c.2, §d.1, §k). Every native kernel is tested
 * against it.
 */
final class ReferenceRouter extends AbstractRouter {
    private static final float NORM_EPS = 1e-20f;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    ReferenceRouter(RoutingConfig config) {
        super(config);
    }

    @Override
    public Backend backend() {
        return Backend.JAVA;
    }

    @Override
    protected GateStats doRoute(MemorySegment logits, long numTokens, MemorySegment bias, MemorySegment outIds,
                                MemorySegment outWeights, MemorySegment expertLoad) {
        int n = config.numExperts();
        int k = config.topk();
        float[] b = bias == null ? null : bias.toArray(F32);
        float[] z = new float[n];
        float[] s = new float[n];
        float[] sel = new float[n];
        int[] chosen = new int[k];
        long[] load = new long[n];
        long zeroSumRows = 0;
        for (long t = 0; t < numTokens; t++) {
            MemorySegment.copy(logits, F32, t * n * 4L, z, 0, n);
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(z[i])) {
                    throw new NonFiniteInputException(t, i, z[i]);
                }
            }
            scores(z, s);
            for (int i = 0; i < n; i++) {
                sel[i] = b == null ? s[i] : config.biasMode().apply(s[i], b[i]);
            }
            boolean[] keptGroup = keptGroups(sel);
            boolean[] taken = new boolean[n];
            for (int q = 0; q < k; q++) {
                int best = -1;
                for (int i = 0; i < n; i++) {
                    // Strict '>' while scanning up: among equal scores the lower index wins.
                    if (keptGroup[i / config.groupSize()] && !taken[i] && (best < 0 || sel[i] > sel[best])) {
                        best = i;
                    }
                }
                chosen[q] = best;
                taken[best] = true;
            }
            float denom = 1.0f;
            if (config.normalize()) {
                float sum = 0.0f;
                for (int q = 0; q < k; q++) {
                    sum += s[chosen[q]];
                }
                if (sum == 0.0f) {
                    zeroSumRows++;
                }
                denom = sum + NORM_EPS;
            }
            for (int q = 0; q < k; q++) {
                float w = s[chosen[q]];
                if (config.normalize()) {
                    w = w / denom;
                }
                long o = t * k + q;
                outIds.setAtIndex(I32, o, chosen[q]);
                outWeights.setAtIndex(F32, o, w * config.routeScale());
                load[chosen[q]]++;
            }
        }
        if (expertLoad != null) {
            for (int i = 0; i < n; i++) {
                expertLoad.setAtIndex(I64, i, expertLoad.getAtIndex(I64, i) + load[i]);
            }
        }
        return new GateStats(numTokens, zeroSumRows);
    }

    private void scores(float[] z, float[] s) {
        if (config.scoreFunction() == ScoreFunction.SIGMOID) {
            for (int i = 0; i < z.length; i++) {
                s[i] = DetMath.sigmoid(z[i]);
            }
            return;
        }
        float max = z[0];
        for (float v : z) {
            max = v > max ? v : max;
        }
        for (int i = 0; i < z.length; i++) {
            s[i] = DetMath.expNonPositive(z[i] - max);
        }
        float sum = DetMath.laneSum8(s, 0, s.length);
        for (int i = 0; i < z.length; i++) {
            s[i] = s[i] / sum;
        }
    }

    /** The M best groups by group score, ties to the lower group; all groups when M = G. */
    private boolean[] keptGroups(float[] sel) {
        int g = config.numGroups();
        boolean[] kept = new boolean[g];
        if (!config.groupLimited()) {
            Arrays.fill(kept, true);
            return kept;
        }
        float[] gs = new float[g];
        for (int q = 0; q < g; q++) {
            gs[q] = groupScore(sel, q * config.groupSize(), config.groupSize());
        }
        for (int m = 0; m < config.topkGroups(); m++) {
            int best = -1;
            for (int q = 0; q < g; q++) {
                if (!kept[q] && (best < 0 || gs[q] > gs[best])) {
                    best = q;
                }
            }
            kept[best] = true;
        }
        return kept;
    }

    /** Max of the group, or the sum of its J largest values added largest first. */
    private float groupScore(float[] sel, int from, int size) {
        float[] v = Arrays.copyOfRange(sel, from, from + size);
        Arrays.sort(v);
        if (config.groupScore() == GroupScore.MAX) {
            return v[size - 1];
        }
        float acc = v[size - 1];
        for (int j = 1; j < config.groupTopJ(); j++) {
            acc += v[size - 1 - j];
        }
        return acc;
    }
}

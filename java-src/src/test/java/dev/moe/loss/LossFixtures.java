package dev.moe.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import dev.moe.routing.GroupScore;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.Routers;
import dev.moe.routing.ScoreFunction;

/** Shared helpers: random cases, balanced selections and the finite-difference check. */
final class LossFixtures {
    private LossFixtures() {}

    /** A random small case: T 5..7, N in {8, 12, 16}, K 2..3, D 2..4 dividing N, M = 2. */
    record Case(int tokens, int experts, int topk, int devices, int devicesPerToken, ScoreFunction fn, float[] logits,
                RoutingResult routing) {

        double[] z() {
            return AuxLosses.widen(logits);
        }

        ExpertSelection selection() {
            return ExpertSelection.of(routing);
        }
    }

    static Case randomCase(long seed, ScoreFunction fn) {
        Random r = new Random(seed);
        int t = 5 + r.nextInt(3);
        int n = new int[] {8, 12, 16}[r.nextInt(3)];
        int k = 2 + r.nextInt(2);
        int d;
        do {
            d = 2 + r.nextInt(3);
        } while (n % d != 0);
        int m = 2;
        float[] z = new float[t * n];
        for (int i = 0; i < z.length; i++) {
            // Device 0 is favoured so that device loads differ: with equal device loads and softmax
            // scores the device and communication gradients vanish exactly.
            z[i] = (float) (1.5 * r.nextGaussian() + ((i % n) < n / d ? 2.0 : 0.0));
        }
        // Device-limited routing (groups = devices, M kept), as DeepSeek-V2 does.
        RoutingConfig config = RoutingConfig.builder().experts(n).groups(d).topkGroups(m).topk(k).scoreFunction(fn)
                .groupScore(GroupScore.MAX).normalize(false).routeScale(1.0f).build();
        return new Case(t, n, k, d, m, fn, z, Routers.reference(config).route(z, null));
    }

    /** Random finite logits, double [T*N]. */
    static double[] randomLogits(long seed, int tokens, int experts, double scale) {
        Random r = new Random(seed);
        double[] z = new double[tokens * experts];
        for (int i = 0; i < z.length; i++) {
            z[i] = scale * r.nextGaussian();
        }
        return z;
    }

    /** Choice q of token t is expert (t·K + q) mod N: every expert chosen T·K/N times when N divides T·K. */
    static ExpertSelection roundRobin(int tokens, int experts, int topk) {
        int[] ids = new int[tokens * topk];
        for (int o = 0; o < ids.length; o++) {
            ids[o] = o % experts;
        }
        return new ExpertSelection(tokens, experts, topk, ids);
    }

    /**
     * Asserts that the loss's gradient matches central finite differences of its value with the
     * selection held fixed: step 1e-5 relative, error within 1e-6 of the largest gradient entry.
     * Returns the loss's result.
     */
    static AuxLossResult assertGradientMatchesFiniteDifferences(AuxLoss loss, double[] z, int tokens, ExpertSelection sel) {
        return assertGradientMatchesFiniteDifferences(loss, z, tokens, sel, false);
    }

    /** As above; {@code mayVanish} accepts a gradient that is zero up to rounding (checked against 1e-10·|L|). */
    static AuxLossResult assertGradientMatchesFiniteDifferences(AuxLoss loss, double[] z, int tokens, ExpertSelection sel,
                                                                boolean mayVanish) {
        AuxLossResult r = loss.compute(z, tokens, sel);
        double[] g = r.gradLogits();
        assertEquals(z.length, g.length);
        double max = 0.0;
        for (double v : g) {
            max = Math.max(max, Math.abs(v));
        }
        // Where the gradient vanishes (e.g. softmax with equal coefficients on every expert) the
        // finite differences are pure rounding noise, about 1e-11·|L|: compare against 1e-4·|L| then.
        double scale = Math.max(max, 1e-4 * Math.abs(r.value()));
        assertTrue(scale > 0.0, "loss and gradient are both zero, nothing is checked");
        assertTrue(mayVanish || max == scale, "the gradient of " + loss + " vanishes here; the case checks nothing");
        for (int k = 0; k < z.length; k++) {
            double h = 1e-5 * Math.max(1.0, Math.abs(z[k]));
            double[] zp = z.clone();
            double[] zm = z.clone();
            zp[k] += h;
            zm[k] -= h;
            double fd = (loss.compute(zp, tokens, sel).value() - loss.compute(zm, tokens, sel).value()) / (zp[k] - zm[k]);
            assertEquals(fd, g[k], 1e-6 * scale, "d L / d z[" + k + "] of " + loss);
        }
        assertEquals(AuxLossResult.l2Norm(g), r.gradNorm(), 0.0);
        return r;
    }

    /** Asserts |a − e| &le; 1e-12·|e|. */
    static void assertRelative(double expected, double actual, double rel, String what) {
        assertEquals(expected, actual, rel * Math.abs(expected), what);
    }
}

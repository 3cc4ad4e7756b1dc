package dev.moe.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/**
 * Central finite differences of a scalar function of float parameters, compared with an analytic
 * gradient: for sampled coordinates i, (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε against g[i]. The comparison is
 * relative to the norm of the sampled analytic gradient, so near-zero coordinates do not dominate.
 */
final class FiniteDifference {
    private FiniteDifference() {}

    /** Decides whether coordinate i is left out (e.g. a perturbation changed a discrete choice). */
    interface Skip {
        boolean test(int index);
    }

    /**
     * Checks {@code samples} coordinates of x[off..off+count).
     *
     * @param what     the name for messages
     * @param x        the parameters (perturbed and restored in place)
     * @param off      first coordinate of the tensor
     * @param count    its size
     * @param f        the function, evaluated at the current x
     * @param grad     the analytic gradient, laid out like x
     * @param eps      the step
     * @param samples  coordinates to check (all when ≥ count)
     * @param tol      the largest allowed ‖fd − g‖ / ‖g‖ over the checked coordinates
     * @param skip     coordinates to leave out, asked after each perturbation (index is the coordinate)
     * @return the relative error
     */
    static double check(String what, float[] x, int off, int count, DoubleSupplier f, float[] grad, float eps, int samples,
                        double tol, Skip skip) {
        SplittableRandom rnd = new SplittableRandom(what.hashCode());
        int n = Math.min(samples, count);
        double diff = 0;
        double norm = 0;
        int checked = 0;
        for (int s = 0; s < n; s++) {
            int i = off + (n == count ? s : rnd.nextInt(count));
            float keep = x[i];
            x[i] = keep + eps;
            double plus = f.getAsDouble();
            boolean skipPlus = skip != null && skip.test(i);
            x[i] = keep - eps;
            double minus = f.getAsDouble();
            boolean skipMinus = skip != null && skip.test(i);
            x[i] = keep;
            if (skipPlus || skipMinus) {
                continue;
            }
            double fd = (plus - minus) / (2.0 * eps);
            diff += (fd - grad[i]) * (fd - grad[i]);
            norm += (double) grad[i] * grad[i];
            checked++;
        }
        assertTrue(checked >= Math.max(1, n / 2), what + ": only " + checked + " of " + n + " coordinates could be checked");
        assertTrue(norm > 0, what + ": the analytic gradient is zero on every checked coordinate");
        double rel = Math.sqrt(diff / norm);
        assertTrue(rel <= tol, what + ": finite differences disagree, relative error " + rel + " > " + tol);
        return rel;
    }
}

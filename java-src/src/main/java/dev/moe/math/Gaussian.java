package dev.moe.math;

import java.util.SplittableRandom;

/**
 * Standard normal samples by Box–Muller with {@link StrictMath}, from one {@link SplittableRandom}
 * stream: the same values for a seed on every JDK and machine (unlike {@code nextGaussian}, whose
 * algorithm the JDK may change). For synthetic data that distributed ranks must build identically.
 */
public final class Gaussian {
    private Gaussian() {}

    /** {@return one N(0, 1) sample, consuming two doubles of {@code rnd}} */
    public static double next(SplittableRandom rnd) {
        double u1 = 1.0 - rnd.nextDouble();
        double u2 = rnd.nextDouble();
        return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * StrictMath.PI * u2);
    }
}

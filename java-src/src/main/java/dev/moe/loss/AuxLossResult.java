package dev.moe.loss;

/**
 * The value of an auxiliary loss over one scope and its gradient with respect to the router
 * logits (docs/specification.md §f).
 *
 * <p>{@code gradNorm} is the L2 norm of {@code gradLogits}: the size of the "interference" gradient
 * the loss injects into the router, the quantity auxiliary-loss-free balancing avoids.
 *
 * @param value      L
 * @param gradLogits ∂L/∂z, double [T*N], row-major like the logits; owned by the caller
 * @param gradNorm   ‖∂L/∂z‖₂
 */
public record AuxLossResult(double value, double[] gradLogits, double gradNorm) {

    /**
     * A result whose {@code gradNorm} is computed from {@code gradLogits}.
     *
     * @param value      L
     * @param gradLogits ∂L/∂z, double [T*N] (kept, not copied)
     * @return the result
     */
    public static AuxLossResult of(double value, double[] gradLogits) {
        return new AuxLossResult(value, gradLogits, l2Norm(gradLogits));
    }

    /**
     * The Euclidean norm.
     *
     * @param v a vector
     * @return ‖v‖₂ (0 for an empty vector)
     */
    public static double l2Norm(double[] v) {
        double sum = 0.0;
        for (double x : v) {
            sum += x * x;
        }
        return Math.sqrt(sum);
    }
}

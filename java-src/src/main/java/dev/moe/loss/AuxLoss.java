package dev.moe.loss;

import java.util.Objects;

import dev.moe.routing.RoutingResult;

/**
 * An auxiliary balance loss over one scope of T tokens (a sequence, or a whole batch for the
 * batch-wise variant) with its gradient with respect to the router logits (docs/specification.md §f).
 * Implementations are immutable and thread-safe.
 */
public interface AuxLoss {

    /**
     * {@return the loss's coefficient α (for a sum, the sum of the parts'): the value of the loss under
     * perfectly balanced routing}
     */
    double coefficient();

    /**
     * The selection the frequencies f are built from. By default the router's own choice
     * ({@link ExpertSelection#of(RoutingResult)}); {@link SequenceBalanceLoss} instead takes the
     * plain top-K of the scores and ignores {@code routing}.
     *
     * @param logits  z, double [T*N] row-major
     * @param tokens  T
     * @param routing the router's result for these T tokens
     * @return the selection of the T tokens
     * @throws NullPointerException if {@code routing} is null where it is needed
     * @throws IllegalArgumentException if {@code routing} does not cover T tokens
     */
    default ExpertSelection select(double[] logits, int tokens, RoutingResult routing) {
        Objects.requireNonNull(routing, "routing");
        if (routing.numTokens() != tokens) {
            throw new IllegalArgumentException("routing covers " + routing.numTokens() + " tokens, expected T=" + tokens);
        }
        return ExpertSelection.of(routing);
    }

    /**
     * The loss and ∂L/∂z for a fixed selection. This is the differentiable core: the selection is
     * held constant, as in training, where f comes from a non-differentiable indicator.
     *
     * @param logits    z, double [T*N] row-major, finite
     * @param tokens    T (0 gives value 0 and an empty gradient)
     * @param selection what the T tokens selected
     * @return the value and a freshly allocated gradient, double [T*N]
     * @throws IllegalArgumentException if the shapes disagree, a logit is not finite, or the loss's
     *         device count does not divide N
     */
    AuxLossResult compute(double[] logits, int tokens, ExpertSelection selection);

    /**
     * The loss and ∂L/∂z for router logits and the router's result over the same tokens:
     * {@code compute(z, T, select(z, T, routing))} with z widened to double.
     *
     * @param logits  z, float [T*N] row-major
     * @param tokens  T
     * @param routing the routing of these logits ({@code null} allowed where {@link #select} ignores it)
     * @return the value and a freshly allocated gradient, double [T*N]
     * @throws IllegalArgumentException as {@link #select} and {@link #compute(double[], int, ExpertSelection)}
     */
    default AuxLossResult compute(float[] logits, int tokens, RoutingResult routing) {
        double[] z = AuxLosses.widen(logits);
        return compute(z, tokens, select(z, tokens, routing));
    }
}

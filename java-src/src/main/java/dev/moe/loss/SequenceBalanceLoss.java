package dev.moe.loss;

import java.util.Objects;

import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.ScoreFunction;

/**
 * DeepSeek-V3 complementary sequence-wise balance loss (docs/specification.md §f.2):
 * L_Bal = α · Σ_i f_i P_i, f_i = N/(K·T) · Σ_t 1[s_{i,t} ∈ TopK({s_{j,t}}_j, K)],
 * s'_{i,t} = s_{i,t} / Σ_j s_{j,t}, P_i = (1/T) Σ_t s'_{i,t}.
 *
 * <p>The top-K behind f is the plain top-K of the scores: no groups, no selection bias, ties to the
 * lower index ({@link ExpertSelection#topK}); {@link #select} therefore ignores the router's result.
 *
 * <p>Scope: one {@code compute} call covers the tokens passed in. Pass one sequence for the
 * sequence-wise loss (or use {@link AuxLosses#meanOverSequences} over a batch); pass the whole batch
 * for the batch-wise variant.
 *
 * <p>Gradient, sigmoid scores, S_t = Σ_j s_{j,t}:
 * ∂L/∂z_{j,t} = (α/T) · (f_j − Σ_i f_i s'_{i,t}) / S_t · s_{j,t}(1 − s_{j,t}) for all N experts.
 */
public final class SequenceBalanceLoss extends MeanScoreLoss {
    private final int numExperts;
    private final int topk;

    /**
     * A sequence-wise balance loss.
     *
     * @param alpha         the coefficient α, finite and &ge; 0
     * @param numExperts    N
     * @param topk          K of the top-K behind f, 1..N
     * @param scoreFunction how logits become scores
     * @throws IllegalArgumentException if an argument is out of range
     */
    public SequenceBalanceLoss(double alpha, int numExperts, int topk, ScoreFunction scoreFunction) {
        super(alpha, scoreFunction, true);
        if (numExperts < 1 || topk < 1 || topk > numExperts) {
            throw new IllegalArgumentException("need N >= 1 and 1 <= K <= N, got N=" + numExperts + ", K=" + topk);
        }
        this.numExperts = numExperts;
        this.topk = topk;
    }

    /**
     * The loss with coefficient α for a routing configuration's N, K and score function.
     *
     * @param config the routing configuration
     * @param alpha  the coefficient α
     * @return the loss
     */
    public static SequenceBalanceLoss forConfig(RoutingConfig config, double alpha) {
        Objects.requireNonNull(config, "config");
        return new SequenceBalanceLoss(alpha, config.numExperts(), config.topk(), config.scoreFunction());
    }

    /** {@return the DeepSeek-V3 loss: α = 0.0001, N 256, K 8, sigmoid} */
    public static SequenceBalanceLoss deepseekV3() {
        return forConfig(RoutingConfig.deepseekV3(), AuxLossCoefficients.V3_SEQUENCE);
    }

    /** {@return N, the number of experts} */
    public int numExperts() {
        return numExperts;
    }

    /** {@return K of the top-K behind f} */
    public int topk() {
        return topk;
    }

    /**
     * The plain top-K of the logits' scores; {@code routing} is not used and may be null.
     *
     * @param logits  z, double [T*N] row-major, finite
     * @param tokens  T
     * @param routing ignored
     * @return the top-K selection, ties to the lower index
     * @throws IllegalArgumentException if the length of {@code logits} is not T*N
     */
    @Override
    public ExpertSelection select(double[] logits, int tokens, RoutingResult routing) {
        return ExpertSelection.topK(logits, tokens, numExperts, topk);
    }

    @Override
    double[] coefficients(ExpertSelection selection) {
        if (selection.numExperts() != numExperts) {
            throw new IllegalArgumentException("selection has N=" + selection.numExperts() + ", loss expects N=" + numExperts);
        }
        return scaled(alpha, selection.expertFractions());
    }

    @Override
    public String toString() {
        return "SequenceBalanceLoss[alpha=" + alpha + ", N=" + numExperts + ", K=" + topk + ", score="
                + scoreFunction.cliName() + "]";
    }
}

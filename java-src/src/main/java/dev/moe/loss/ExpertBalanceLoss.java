package dev.moe.loss;

import dev.moe.routing.ScoreFunction;

/**
 * DeepSeek-V2 expert-level balance loss (docs/specification.md §f.1):
 * L_ExpBal = α1 · Σ_i f_i P_i, f_i = N/(K·T) · Σ_t 1[token t selects i], P_i = (1/T) Σ_t s_{i,t}.
 *
 * <p>∂L/∂s_{i,t} = α1 f_i / T; with softmax scores this gives
 * ∂L/∂z_{j,t} = (α1/T) · s_{j,t} · (f_j − Σ_i f_i s_{i,t}).
 */
public final class ExpertBalanceLoss extends MeanScoreLoss {

    /**
     * A loss with coefficient α1 over scores from {@code scoreFunction}.
     *
     * @param alpha1        the coefficient α1, finite and &ge; 0
     * @param scoreFunction how logits become scores
     * @throws IllegalArgumentException if α1 is negative or not finite
     */
    public ExpertBalanceLoss(double alpha1, ScoreFunction scoreFunction) {
        super(alpha1, scoreFunction, false);
    }

    /** {@return the DeepSeek-V2 loss: α1 = 0.003, softmax} */
    public static ExpertBalanceLoss deepseekV2() {
        return new ExpertBalanceLoss(AuxLossCoefficients.V2_EXPERT, ScoreFunction.SOFTMAX);
    }

    /** {@return the DeepSeek-V2-Lite loss: α1 = 0.001, softmax} */
    public static ExpertBalanceLoss deepseekV2Lite() {
        return new ExpertBalanceLoss(AuxLossCoefficients.V2_LITE_EXPERT, ScoreFunction.SOFTMAX);
    }

    @Override
    double[] coefficients(ExpertSelection selection) {
        return scaled(alpha, selection.expertFractions());
    }

    @Override
    public String toString() {
        return "ExpertBalanceLoss[alpha1=" + alpha + ", score=" + scoreFunction.cliName() + "]";
    }
}

package dev.moe.train;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import dev.moe.sim.BalancerKind;

/**
 * Everything that decides a training run's numbers: the model, the batch and schedule, the balancer
 * and the seed. Two runs with equal settings on the same corpus and backend write the same CSV.
 *
 * @param model       the model's shape
 * @param batch       sequences per step (the global batch), &ge; 1
 * @param steps       the run's length; the learning-rate schedule spans it
 * @param lr          peak learning rate
 * @param warmup      warm-up steps
 * @param seed        initialisation and data seed
 * @param evalEvery   evaluate on the held-out split every this many steps (and at the last step)
 * @param balancer    loss-free (bias), aux-loss or none
 * @param gamma       the bias update speed γ (loss-free)
 * @param alpha       the auxiliary loss coefficient α (aux-loss)
 * @param weightDecay AdamW's decoupled weight decay
 * @param clipNorm    the global gradient norm is clipped to this
 * @param precision   the projections' GEMM precision (FP32, or FP8 forward and activation gradient)
 */
public record TrainSettings(TransformerConfig model, int batch, int steps, double lr, int warmup, long seed, int evalEvery,
                            BalancerKind balancer, float gamma, double alpha, float weightDecay, float clipNorm,
                            Precision precision) {
    /** AdamW's weight decay unless set otherwise. */
    public static final float DEFAULT_WEIGHT_DECAY = 0.1f;
    /** The gradient clipping norm unless set otherwise. */
    public static final float DEFAULT_CLIP_NORM = 1.0f;

    /**
     * Validates the settings.
     *
     * @throws IllegalArgumentException naming the first flag out of range
     */
    public TrainSettings {
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
        }
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException("--lr must be finite and > 0, got " + lr);
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
        }
        if (evalEvery < 1) {
            throw new IllegalArgumentException("--eval-every must be >= 1, got " + evalEvery);
        }
        if (!(gamma >= 0) || !Float.isFinite(gamma)) {
            throw new IllegalArgumentException("--gamma must be finite and >= 0, got " + gamma);
        }
        if (!(alpha >= 0) || !Double.isFinite(alpha)) {
            throw new IllegalArgumentException("--alpha must be finite and >= 0, got " + alpha);
        }
        long tokens = (long) batch * model.seqLen();
        if (tokens * Math.max(model.dim(), TransformerConfig.VOCAB) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("--batch " + batch + " x --seq " + model.seqLen()
                    + " is too large for one step's activations");
        }
    }

    /** {@return tokens predicted per step over the global batch} */
    public long tokensPerStep() {
        return (long) batch * model.seqLen();
    }

    /**
     * The settings as flag name → value, in a fixed format (checkpoints store them so that a resume can
     * name the first flag that differs).
     *
     * @return an ordered map
     */
    public Map<String, String> asFlags() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("preset", model.preset());
        m.put("layers", Integer.toString(model.layers()));
        m.put("dim", Integer.toString(model.dim()));
        m.put("heads", Integer.toString(model.heads()));
        m.put("seq", Integer.toString(model.seqLen()));
        m.put("experts", Integer.toString(model.experts()));
        m.put("groups", Integer.toString(model.groups()));
        m.put("topk-groups", Integer.toString(model.topkGroups()));
        m.put("topk", Integer.toString(model.topk()));
        m.put("shared-experts", Integer.toString(model.sharedExperts()));
        m.put("expert-dim", Integer.toString(model.expertDim()));
        m.put("batch", Integer.toString(batch));
        m.put("steps", Integer.toString(steps));
        m.put("lr", Double.toString(lr));
        m.put("warmup", Integer.toString(warmup));
        m.put("seed", Long.toString(seed));
        m.put("eval-every", Integer.toString(evalEvery));
        m.put("balancer", balancer.cliName());
        m.put("gamma", Float.toString(gamma));
        m.put("alpha", Double.toString(alpha));
        m.put("weight-decay", Float.toString(weightDecay));
        m.put("clip-norm", Float.toString(clipNorm));
        m.put("precision", precision.cliName());
        return m;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s, %d layers x dim %d, %d experts top-%d (%d of %d groups), batch %d x %d, %s",
                model.preset(), model.layers(), model.dim(), model.experts(), model.topk(), model.topkGroups(),
                model.groups(), batch, model.seqLen(), balancer.cliName());
    }
}

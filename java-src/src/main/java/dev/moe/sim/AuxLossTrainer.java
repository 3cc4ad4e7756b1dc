package dev.moe.sim;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.loss.AuxLoss;
import dev.moe.loss.AuxLossResult;
import dev.moe.loss.AuxLosses;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;

/**
 * The auxiliary-loss baseline in the simulator (docs/specification.md §f). The synthetic router has no weights to
 * train, so each layer gets a trainable per-expert logit offset θ (z' = z + θ), the only router
 * parameter a balance loss can usefully move here. Each step the loss's gradient with respect to the
 * logits, ∂L/∂z, is summed over the batch's tokens into ∂L/∂θ and θ takes one SGD step with
 * learning rate {@code lr}. Unlike the loss-free bias, θ changes the gate weights too, and the
 * gradient the loss injects into the router, ‖∂L/∂z‖, is what the loss-free paper calls interference
 * with the language-model objective (which this simulator does not model; so α·lr sets the
 * balancing speed while the injected gradient grows with α alone).
 *
 * <p>Loss by model: sigmoid routers (DeepSeek-V3) use V3's sequence-wise loss with coefficient α;
 * softmax routers (DeepSeek-V2) use V2's three losses with α1 = α and α2, α3 in V2's ratios
 * (α2 = α·0.05/0.003, α3 = α·0.02/0.003), the config's groups as devices and M as the device limit,
 * so {@code --alpha 0.003} gives V2's exact coefficients. The batch is split into sequences of
 * {@value #SEQUENCE_LENGTH} tokens (the last may be shorter) and the loss is averaged over them.
 */
final class AuxLossTrainer {
    /** DeepSeek-V3's pre-training sequence length. */
    static final int SEQUENCE_LENGTH = 4096;

    private final AuxLoss loss;
    private final float[][] offsets;
    private final double learningRate;

    AuxLossTrainer(RoutingConfig config, int layers, double alpha, double learningRate) {
        this.loss = lossFor(config, alpha);
        this.offsets = new float[layers][config.numExperts()];
        this.learningRate = learningRate;
    }

    static AuxLoss lossFor(RoutingConfig c, double alpha) {
        return AuxLosses.forPreset(c, alpha);
    }

    /** Layer {@code layer}'s offsets θ (float [N]); read-only. */
    float[] offsets(int layer) {
        return offsets[layer];
    }

    /** z[t, i] += θ_i for the batch in {@code logits} (float [T, N]). */
    void addOffsets(int layer, MemorySegment logits, int tokens) {
        float[] theta = offsets[layer];
        int n = theta.length;
        float[] row = new float[n];
        for (long t = 0; t < tokens; t++) {
            long off = t * n * Float.BYTES;
            MemorySegment.copy(logits, ValueLayout.JAVA_FLOAT, off, row, 0, n);
            for (int i = 0; i < n; i++) {
                row[i] += theta[i];
            }
            MemorySegment.copy(row, 0, logits, ValueLayout.JAVA_FLOAT, off, n);
        }
    }

    /**
     * One training step of one layer: the loss over the routed batch, then θ −= lr·Σ_t ∂L/∂z_t.
     *
     * @param logits  the logits the router saw (offsets included), float [T*N]
     * @param routing their routing
     */
    AuxLossResult train(int layer, float[] logits, RoutingResult routing) {
        int tokens = routing.numTokens();
        int full = tokens / SEQUENCE_LENGTH;
        int rest = tokens % SEQUENCE_LENGTH;
        int[] lengths = new int[full + (rest > 0 ? 1 : 0)];
        java.util.Arrays.fill(lengths, 0, full, SEQUENCE_LENGTH);
        if (rest > 0) {
            lengths[full] = rest;
        }
        AuxLossResult r = AuxLosses.meanOverSequences(loss, logits, routing, lengths);
        float[] theta = offsets[layer];
        int n = theta.length;
        double[] g = r.gradLogits();
        double[] perExpert = new double[n];
        for (int o = 0; o < g.length; o++) {
            perExpert[o % n] += g[o];
        }
        for (int i = 0; i < n; i++) {
            theta[i] -= (float) (learningRate * perExpert[i]);
        }
        return r;
    }
}

package dev.moe.loss;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.IntStream;

import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.ScoreFunction;

/** Combinations of balance losses and per-sequence averaging (docs/specification.md §f). */
public final class AuxLosses {
    private AuxLosses() {}

    /**
     * The DeepSeek-V2 training objective's three balance terms (docs/specification.md §f.1), L_ExpBal + L_DevBal +
     * L_CommBal with α1 = 0.003, α2 = 0.05, α3 = 0.02, the configuration's groups as the D devices, its
     * kept groups as the device limit M, and its score function.
     *
     * @param config the routing configuration the losses apply to
     * @return the sum of the three losses
     */
    public static AuxLoss deepseekV2(RoutingConfig config) {
        Objects.requireNonNull(config, "config");
        return sum(new ExpertBalanceLoss(AuxLossCoefficients.V2_EXPERT, config.scoreFunction()),
                new DeviceBalanceLoss(AuxLossCoefficients.V2_DEVICE, config.numGroups(), config.scoreFunction()),
                new CommunicationBalanceLoss(AuxLossCoefficients.V2_COMMUNICATION, config.numGroups(), config.topkGroups(),
                        config.scoreFunction()));
    }

    /**
     * The balance loss that goes with a routing configuration's score function, scaled by α: sigmoid
     * routers (DeepSeek-V3) get V3's sequence-wise loss with coefficient α; softmax routers (DeepSeek-V2)
     * get V2's three losses with α1 = α and α2, α3 in V2's ratios (α2 = α·0.05/0.003,
     * α3 = α·0.02/0.003), the configuration's groups as devices and M as the device limit, so α = 0.003
     * gives V2's exact coefficients.
     *
     * @param config the routing configuration
     * @param alpha  α, finite and &ge; 0
     * @return the loss
     */
    public static AuxLoss forPreset(RoutingConfig config, double alpha) {
        Objects.requireNonNull(config, "config");
        if (config.scoreFunction() == ScoreFunction.SIGMOID) {
            return SequenceBalanceLoss.forConfig(config, alpha);
        }
        double r = alpha / AuxLossCoefficients.V2_EXPERT;
        return sum(new ExpertBalanceLoss(alpha, config.scoreFunction()),
                new DeviceBalanceLoss(r * AuxLossCoefficients.V2_DEVICE, config.numGroups(), config.scoreFunction()),
                new CommunicationBalanceLoss(r * AuxLossCoefficients.V2_COMMUNICATION, config.numGroups(),
                        config.topkGroups(), config.scoreFunction()));
    }

    /**
     * The sum of several losses: values and gradients add, and {@link AuxLoss#coefficient()} is the
     * sum of the parts'. {@code compute(float[], int, RoutingResult)} lets each part select for itself;
     * {@code compute(double[], int, ExpertSelection)} gives every part the same selection, and
     * {@code select} answers the first part's selection (so do not mix {@link SequenceBalanceLoss},
     * which selects its own top-K, with router-selection losses when calling those two).
     *
     * @param parts the losses to add, at least one
     * @return the sum, immutable
     * @throws IllegalArgumentException if no loss is given
     */
    public static AuxLoss sum(AuxLoss... parts) {
        List<AuxLoss> list = List.of(parts);
        if (list.isEmpty()) {
            throw new IllegalArgumentException("a sum needs at least one loss");
        }
        return new Sum(list);
    }

    /**
     * The sequence-wise loss of a batch: the batch is split into consecutive sequences of the given
     * lengths, the loss is computed over each sequence on its own, and the values (and hence the
     * gradients) are averaged over the sequences. The selection is made once for the whole batch by
     * {@link AuxLoss#select} and sliced. For a {@link #sum} each part is averaged with its own
     * selection and the results are added. Sequences are computed in parallel, but the result does not
     * depend on the thread count.
     *
     * @param loss            the loss to apply per sequence
     * @param logits          z, float [T*N] with T the sum of the lengths
     * @param routing         the routing of the whole batch (may be null for {@link SequenceBalanceLoss})
     * @param sequenceLengths the lengths, each &ge; 1
     * @return the mean value and its gradient, double [T*N]
     * @throws IllegalArgumentException if no length is given, a length is below 1, or the length of
     *         {@code logits} is not a multiple of T
     */
    public static AuxLossResult meanOverSequences(AuxLoss loss, float[] logits, RoutingResult routing,
                                                  int... sequenceLengths) {
        Objects.requireNonNull(loss, "loss");
        if (loss instanceof Sum sum) {
            return Sum.add(sum.parts().stream().map(p -> meanOverSequences(p, logits, routing, sequenceLengths)).toList());
        }
        if (sequenceLengths.length == 0) {
            throw new IllegalArgumentException("at least one sequence is needed");
        }
        long total = 0;
        for (int len : sequenceLengths) {
            if (len < 1) {
                throw new IllegalArgumentException("sequence lengths must be >= 1, got " + len);
            }
            total += len;
        }
        if (total > Integer.MAX_VALUE || logits.length % total != 0) {
            throw new IllegalArgumentException("logits length " + logits.length + " is not a multiple of T=" + total);
        }
        int tokens = (int) total;
        int n = logits.length / tokens;
        double[] z = widen(logits);
        ExpertSelection selection = loss.select(z, tokens, routing);
        int[] starts = new int[sequenceLengths.length];
        for (int q = 1; q < starts.length; q++) {
            starts[q] = starts[q - 1] + sequenceLengths[q - 1];
        }
        // Sequences are independent: compute them in parallel, then add the values in sequence order
        // so that the result does not depend on the thread count.
        AuxLossResult[] parts = new AuxLossResult[starts.length];
        IntStream.range(0, starts.length).parallel().forEach(q -> {
            int from = starts[q];
            int len = sequenceLengths[q];
            parts[q] = loss.compute(Arrays.copyOfRange(z, from * n, (from + len) * n), len, selection.slice(from, from + len));
        });
        double[] grad = new double[z.length];
        double value = 0.0;
        double inv = 1.0 / sequenceLengths.length;
        for (int q = 0; q < parts.length; q++) {
            value += parts[q].value() * inv;
            double[] g = parts[q].gradLogits();
            int base = starts[q] * n;
            for (int k = 0; k < g.length; k++) {
                grad[base + k] = g[k] * inv;
            }
        }
        return AuxLossResult.of(value, grad);
    }

    /**
     * Converts float[] to double[], exactly.
     *
     * @param v the values
     * @return a new array of the same values as doubles
     */
    public static double[] widen(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    private record Sum(List<AuxLoss> parts) implements AuxLoss {

        @Override
        public double coefficient() {
            double c = 0.0;
            for (AuxLoss p : parts) {
                c += p.coefficient();
            }
            return c;
        }

        @Override
        public ExpertSelection select(double[] logits, int tokens, RoutingResult routing) {
            return parts.getFirst().select(logits, tokens, routing);
        }

        @Override
        public AuxLossResult compute(double[] logits, int tokens, ExpertSelection selection) {
            return add(parts.stream().map(p -> p.compute(logits, tokens, selection)).toList());
        }

        @Override
        public AuxLossResult compute(float[] logits, int tokens, RoutingResult routing) {
            return add(parts.stream().map(p -> p.compute(logits, tokens, routing)).toList());
        }

        private static AuxLossResult add(List<AuxLossResult> results) {
            double value = 0.0;
            double[] grad = new double[results.getFirst().gradLogits().length];
            for (AuxLossResult r : results) {
                value += r.value();
                double[] g = r.gradLogits();
                for (int k = 0; k < grad.length; k++) {
                    grad[k] += g[k];
                }
            }
            return AuxLossResult.of(value, grad);
        }
    }
}

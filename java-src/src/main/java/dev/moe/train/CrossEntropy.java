package dev.moe.train;

/**
 * Softmax cross-entropy over the 256 byte values, in nats. The forward turns logits into probabilities
 * in place; the backward writes (p − onehot(target))·scale over them.
 */
final class CrossEntropy {
    private CrossEntropy() {}

    /**
     * Replaces each row of logits by its softmax and returns Σ −log p[target] over the rows, in double.
     *
     * @param logits  float [rows, V], overwritten with probabilities
     * @param targets the correct byte of each row
     * @param tOff    first target
     * @param rows    rows
     * @param v       vocabulary size
     * @return the summed loss in nats
     */
    static double forward(float[] logits, byte[] targets, int tOff, int rows, int v) {
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int o = r * v;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, logits[o + j]);
            }
            double sum = 0;
            for (int j = 0; j < v; j++) {
                float e = (float) Math.exp(logits[o + j] - max);
                logits[o + j] = e;
                sum += e;
            }
            int y = Byte.toUnsignedInt(targets[tOff + r]);
            total -= Math.log(logits[o + y] / sum);
            float inv = (float) (1.0 / sum);
            for (int j = 0; j < v; j++) {
                logits[o + j] *= inv;
            }
        }
        return total;
    }

    /**
     * ∂(scale·Σ loss)/∂logits, in place over the probabilities.
     *
     * @param probs   float [rows, V] from {@link #forward}, overwritten with the gradient
     * @param targets the correct bytes
     * @param tOff    first target
     * @param rows    rows
     * @param v       vocabulary size
     * @param scale   the loss weight of each row (1/total tokens for a mean)
     */
    static void backward(float[] probs, byte[] targets, int tOff, int rows, int v, float scale) {
        for (int r = 0; r < rows; r++) {
            int o = r * v;
            int y = Byte.toUnsignedInt(targets[tOff + r]);
            for (int j = 0; j < v; j++) {
                probs[o + j] *= scale;
            }
            probs[o + y] -= scale;
        }
    }
}

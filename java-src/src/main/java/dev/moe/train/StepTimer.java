package dev.moe.train;

import java.util.EnumMap;
import java.util.Map;

/**
 * Wall time per part of a training step, for benchmarks: where the time goes. Parts nest in no way; a
 * part's time is the sum of its intervals. Not thread-safe (one per training run).
 */
public final class StepTimer {
    /** The parts of a step. */
    public enum Part {
        /** Embedding lookup, RMSNorms and residual adds, forward and backward. */
        NORMS_RESIDUALS,
        /** Attention: QKV and output projections, RoPE, scores, softmax and their gradients. */
        ATTENTION,
        /** Router logits, the gate, the auxiliary loss and the router's gradient. */
        ROUTER,
        /** Permutation, routed and shared expert GEMMs, SwiGLU, combine and their gradients. */
        EXPERTS,
        /** Output head and cross-entropy. */
        HEAD,
        /** Gradient reduction, clipping, AdamW and the bias update. */
        OPTIMIZER,
        /** Held-out evaluation. */
        EVALUATION
    }

    private final EnumMap<Part, Long> nanos = new EnumMap<>(Part.class);

    /**
     * Adds the time since {@code startNanos} to a part.
     *
     * @param part       the part
     * @param startNanos a {@link System#nanoTime()} taken when it started
     * @return now, to start the next part
     */
    public long add(Part part, long startNanos) {
        long now = System.nanoTime();
        nanos.merge(part, now - startNanos, Long::sum);
        return now;
    }

    /** {@return seconds per part so far} */
    public Map<Part, Double> seconds() {
        EnumMap<Part, Double> m = new EnumMap<>(Part.class);
        nanos.forEach((p, n) -> m.put(p, n / 1e9));
        return m;
    }

    /** Forgets everything measured (after warm-up). */
    public void reset() {
        nanos.clear();
    }
}

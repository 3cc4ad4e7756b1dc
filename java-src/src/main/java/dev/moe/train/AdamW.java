package dev.moe.train;

/**
 * AdamW (Loshchilov and Hutter, arXiv 1711.05101) over the flat parameter vector: bias-corrected first
 * and second moments, and weight decay decoupled from the gradient, applied only to the tensors that
 * {@link ParameterLayout.Tensor#decay()} marks (matrices, not norm gains).
 */
public final class AdamW {
    /** β₁. */
    public static final float BETA1 = 0.9f;
    /** β₂. */
    public static final float BETA2 = 0.95f;
    /** ε added to √v. */
    public static final float EPS = 1e-8f;

    private final float weightDecay;
    private final boolean[] decays;
    private final int[] starts;
    private final float[] m;
    private final float[] v;
    private long step;

    /**
     * An optimizer with zero moments.
     *
     * @param layout      the parameters' layout (which tensors decay)
     * @param weightDecay the decoupled decay λ (applied as θ ← θ − lr·λ·θ)
     */
    public AdamW(ParameterLayout layout, float weightDecay) {
        this.weightDecay = weightDecay;
        var tensors = layout.tensors();
        this.decays = new boolean[tensors.size()];
        this.starts = new int[tensors.size() + 1];
        for (int i = 0; i < tensors.size(); i++) {
            decays[i] = tensors.get(i).decay();
            starts[i] = tensors.get(i).offset();
        }
        starts[tensors.size()] = layout.size();
        this.m = new float[layout.size()];
        this.v = new float[layout.size()];
    }

    /**
     * One update: θ ← θ − lr·(m̂/(√v̂ + ε) + λ·θ) for decayed tensors, without the λ term for the rest.
     *
     * @param params the parameters, updated in place
     * @param grad   their gradient
     * @param lr     this step's learning rate
     */
    public void update(float[] params, float[] grad, float lr) {
        step++;
        float c1 = (float) (1.0 - Math.pow(BETA1, step));
        float c2 = (float) (1.0 - Math.pow(BETA2, step));
        for (int t = 0; t < decays.length; t++) {
            float decay = decays[t] ? weightDecay : 0f;
            for (int i = starts[t]; i < starts[t + 1]; i++) {
                float g = grad[i];
                m[i] = BETA1 * m[i] + (1f - BETA1) * g;
                v[i] = BETA2 * v[i] + (1f - BETA2) * g * g;
                float mh = m[i] / c1;
                float vh = v[i] / c2;
                params[i] -= lr * (mh / ((float) Math.sqrt(vh) + EPS) + decay * params[i]);
            }
        }
    }

    /** {@return the first moments, live (for checkpoints)} */
    public float[] firstMoments() {
        return m;
    }

    /** {@return the second moments, live (for checkpoints)} */
    public float[] secondMoments() {
        return v;
    }

    /** {@return the number of updates made} */
    public long steps() {
        return step;
    }

    /**
     * Restores a saved state.
     *
     * @param firstMoments  m, as saved
     * @param secondMoments v, as saved
     * @param steps         the update count
     * @throws IllegalArgumentException if the sizes differ from this optimizer's
     */
    public void restore(float[] firstMoments, float[] secondMoments, long steps) {
        if (firstMoments.length != m.length || secondMoments.length != v.length || steps < 0) {
            throw new IllegalArgumentException("optimizer state does not match the model (" + firstMoments.length + ", "
                    + secondMoments.length + " moments for " + m.length + " parameters)");
        }
        System.arraycopy(firstMoments, 0, m, 0, m.length);
        System.arraycopy(secondMoments, 0, v, 0, v.length);
        this.step = steps;
    }
}

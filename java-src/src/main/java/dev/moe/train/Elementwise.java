package dev.moe.train;

/**
 * Training's element-wise kernels: the SwiGLU activation of the experts and the causal softmax of the
 * attention scores, forward and backward. Every implementation gives the bits of {@link #java()}, the
 * reference, whatever its instruction set or thread count; {@link Gemm#elementwise()} names the one that
 * runs on a GEMM's backend.
 */
public interface Elementwise {
    /**
     * act = silu(h1) ⊙ h3 on rows of h13 = [h1 | h3]: {@code (h1·σ(h1))·h3} with the library's deterministic
     * sigmoid.
     *
     * @param h13   float [rows, 2·width]
     * @param act   receives float [rows, width]
     * @param rows  rows
     * @param width expert width
     */
    void swigluForward(float[] h13, float[] act, int rows, int width);

    /**
     * dh13 from dact: dh1 = ((dact·h3)·σ)·(1 + h1·(1 − σ)), dh3 = (dact·h1)·σ with σ = σ(h1).
     *
     * @param dact  ∂L/∂act float [rows, width]
     * @param h13   the forward's input
     * @param dh13  receives float [rows, 2·width]
     * @param rows  rows
     * @param width expert width
     */
    void swigluBackward(float[] dact, float[] h13, float[] dh13, int rows, int width);

    /**
     * Causal softmax in place of {@code count} score matrices [seq, seq]: row i keeps columns 0..i,
     * p_j = e_j·(1/Σe), e_j = exp((x_j − max)·scale) with the library's deterministic exp, sums over 8
     * interleaved lanes; the other columns become 0.
     *
     * @param x     float [count, seq, seq], scores in, probabilities out
     * @param count matrices
     * @param seq   sequence length
     * @param scale positive factor on the scores (1/√head width)
     * @throws IllegalArgumentException if a score is NaN or infinite (the model has diverged)
     */
    void softmaxCausal(float[] x, int count, int seq, float scale);

    /**
     * Backward of {@link #softmaxCausal}: dS = (P·(dP − Σ_{j≤i} P·dP))·scale in place of dP (lane sums as
     * the forward's); masked columns become 0.
     *
     * @param probs the forward's output [count, seq, seq]
     * @param dp    ∂L/∂P in, ∂L/∂scores out
     * @param count matrices
     * @param seq   sequence length
     * @param scale the forward's scale
     */
    void softmaxCausalBackward(float[] probs, float[] dp, int count, int seq, float scale);

    /** {@return the pure-Java reference} */
    static Elementwise java() {
        return JavaElementwise.INSTANCE;
    }
}

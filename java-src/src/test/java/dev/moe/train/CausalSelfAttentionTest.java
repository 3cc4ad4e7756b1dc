package dev.moe.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Splitting the query rows into blocks only leaves out products with masked (zero) probabilities: the
 * output, the input gradient and the weight gradients are bit-identical to one block per sequence, on
 * the Java and the native GEMM, for blocks that divide the sequence and blocks that do not.
 */
class CausalSelfAttentionTest {
    private record Result(float[] out, float[] du, float[] grad) {}

    private static Result run(TransformerConfig c, Gemm gemm, int rowBlock, int batch) {
        int t = batch * c.seqLen();
        int d = c.dim();
        CausalSelfAttention attn = new CausalSelfAttention(c, gemm, Projections.fp32(gemm), rowBlock);
        float[] p = NativeGemmTest.random(4 * d * d, 1);
        float[] u = NativeGemmTest.random(t * d, 2);
        float[] dout = NativeGemmTest.random(t * d, 3);
        CausalSelfAttention.Saved s = new CausalSelfAttention.Saved(t, batch, c);
        float[] out = new float[t * d];
        attn.forward(u, batch, p, 0, 3 * d * d, s, out);
        float[] grad = new float[p.length];
        float[] du = new float[t * d];
        attn.backward(dout, u, batch, p, grad, 0, 3 * d * d, s, new CausalSelfAttention.Scratch(t, c), du);
        return new Result(out, du, grad);
    }

    @ParameterizedTest
    @CsvSource({"java,17,4", "java,17,5", "java,16,1", "cpu,70,16", "cpu,70,13", "cpu,96,32"})
    void blocksGiveTheUnblockedBits(String backend, int seq, int rowBlock) {
        Gemm gemm = backend.equals("cpu") ? new NativeGemm() : new JavaGemm();
        TransformerConfig c = new TransformerConfig(1, 32, 2, seq, 4, 2, 1, 2, 1, 16, "deepseek-v3");
        Result whole = run(c, gemm, seq, 2);
        Result blocked = run(c, gemm, rowBlock, 2);
        assertFalse(Arrays.equals(whole.out(), new float[whole.out().length]), "the output is not all zeros");
        assertArrayEquals(whole.out(), blocked.out(), "output");
        assertArrayEquals(whole.du(), blocked.du(), "input gradient");
        assertArrayEquals(whole.grad(), blocked.grad(), "weight gradients");
    }
}

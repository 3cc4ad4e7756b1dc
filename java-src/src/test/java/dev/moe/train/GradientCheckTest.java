package dev.moe.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.moe.loss.AuxLoss;
import dev.moe.loss.SequenceBalanceLoss;
import dev.moe.loss.AuxLosses;
import dev.moe.math.Gaussian;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;

/**
 * Every backward of the model against central finite differences: layer by layer (RMSNorm, SwiGLU,
 * cross-entropy, attention with RoPE, the MoE feed-forward with both gate presets and an auxiliary
 * loss) and the whole model on a tiny configuration.
 */
class GradientCheckTest {
    private static final Gemm GEMM = new JavaGemm();

    private static float[] gaussian(int n, long seed, double std) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (std * Gaussian.next(rnd));
        }
        return v;
    }

    private static double dot(float[] a, float[] b, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    @Test
    void rmsNorm() {
        int rows = 3;
        int d = 7;
        float[] x = gaussian(rows * d, 1, 1.0);
        float[] p = gaussian(d, 2, 1.0);
        float[] r = gaussian(rows * d, 3, 1.0);
        float[] y = new float[rows * d];
        float[] rstd = new float[rows];
        java.util.function.DoubleSupplier f = () -> {
            RmsNorm.forward(x, y, rstd, p, 0, rows, d);
            return dot(r, y, rows * d);
        };
        f.getAsDouble();
        float[] dx = new float[rows * d];
        float[] dg = new float[d];
        RmsNorm.backward(r, x, rstd, p, 0, dx, dg, rows, d);
        FiniteDifference.check("rmsnorm x", x, 0, x.length, f, dx, 1e-2f, 100, 2e-3, null);
        FiniteDifference.check("rmsnorm g", p, 0, d, f, dg, 1e-2f, 100, 2e-3, null);
    }

    @Test
    void swiGlu() {
        int rows = 4;
        int w = 5;
        float[] h = gaussian(rows * 2 * w, 4, 2.0);
        float[] r = gaussian(rows * w, 5, 1.0);
        float[] act = new float[rows * w];
        java.util.function.DoubleSupplier f = () -> {
            SwiGlu.forward(h, act, rows, w);
            return dot(r, act, rows * w);
        };
        float[] dh = new float[h.length];
        SwiGlu.backward(r, h, dh, rows, w);
        FiniteDifference.check("swiglu", h, 0, h.length, f, dh, 1e-2f, 100, 2e-3, null);
    }

    @Test
    void crossEntropy() {
        int rows = 3;
        int v = TransformerConfig.VOCAB;
        float[] logits = gaussian(rows * v, 6, 2.0);
        byte[] targets = {5, (byte) 200, 17};
        float[] work = new float[logits.length];
        java.util.function.DoubleSupplier f = () -> {
            System.arraycopy(logits, 0, work, 0, logits.length);
            return CrossEntropy.forward(work, targets, 0, rows, v);
        };
        f.getAsDouble();
        CrossEntropy.backward(work, targets, 0, rows, v, 1f);
        float[] grad = work.clone();
        FiniteDifference.check("cross-entropy", logits, 0, logits.length, f, grad, 1e-2f, 200, 2e-3, null);
    }

    private static TransformerConfig tiny(String preset, int shared) {
        return new TransformerConfig(2, 8, 2, 5, 4, 2, 1, 2, shared, 6, preset);
    }

    @Test
    void attention() {
        TransformerConfig c = tiny("deepseek-v3", 1);
        int batch = 2;
        int t = batch * c.seqLen();
        int d = c.dim();
        // Blocks of 2 query rows over a sequence of 5: the products stop at each block's causal edge.
        CausalSelfAttention attn = new CausalSelfAttention(c, GEMM, Projections.fp32(GEMM), 2);
        float[] p = gaussian(4 * d * d, 7, 0.5);
        int wqkv = 0;
        int wo = 3 * d * d;
        float[] u = gaussian(t * d, 8, 1.0);
        float[] r = gaussian(t * d, 9, 1.0);
        CausalSelfAttention.Saved s = new CausalSelfAttention.Saved(t, batch, c);
        float[] out = new float[t * d];
        java.util.function.DoubleSupplier f = () -> {
            attn.forward(u, batch, p, wqkv, wo, s, out);
            return dot(r, out, t * d);
        };
        f.getAsDouble();
        float[] grad = new float[p.length];
        float[] du = new float[t * d];
        attn.backward(r, u, batch, p, grad, wqkv, wo, s, new CausalSelfAttention.Scratch(t, c), du);
        FiniteDifference.check("attention u", u, 0, u.length, f, du, 1e-2f, 60, 5e-3, null);
        FiniteDifference.check("attention wqkv", p, wqkv, 3 * d * d, f, grad, 1e-2f, 60, 5e-3, null);
        FiniteDifference.check("attention wo", p, wo, d * d, f, grad, 1e-2f, 60, 5e-3, null);
    }

    private static void moeCheck(TransformerConfig c, AuxLoss aux) {
        int batch = 2;
        int t = batch * c.seqLen();
        int d = c.dim();
        ParameterLayout layout = new ParameterLayout(c);
        ParameterLayout.Block b = layout.block(0);
        float[] p = gaussian(layout.size(), 10, 0.5);
        float[] u = gaussian(t * d, 11, 1.0);
        float[] r = gaussian(t * d, 12, 1.0);
        float[] bias = gaussian(c.experts(), 13, 0.1);
        MoeFeedForward ffn = new MoeFeedForward(c, Routers.reference(c.routing()), GEMM, Projections.fp32(GEMM));
        MoeFeedForward.Saved s = new MoeFeedForward.Saved(t, c);
        float[] out = new float[t * d];
        java.util.function.DoubleSupplier f = () -> {
            ffn.forward(u, t, p, b, bias, aux, 1.0, s, out);
            return dot(r, out, t * d) + s.auxValue;
        };
        f.getAsDouble();
        int[] ids = s.route.ids().clone();
        float[] grad = new float[p.length];
        float[] du = new float[t * d];
        ffn.backward(r, u, t, p, grad, b, s, new MoeFeedForward.Scratch(t, c), du, null, 0);
        FiniteDifference.Skip changed = i -> !Arrays.equals(ids, s.route.ids());
        String name = c.preset() + (aux == null ? "" : " + aux");
        FiniteDifference.check(name + " u", u, 0, u.length, f, du, 1e-2f, 60, 5e-3, changed);
        FiniteDifference.check(name + " gate", p, b.gate(), c.experts() * d, f, grad, 1e-2f, 32, 5e-3, changed);
        FiniteDifference.check(name + " w13", p, b.w13(), c.experts() * 2 * c.expertDim() * d, f, grad, 1e-2f, 80, 5e-3,
                changed);
        FiniteDifference.check(name + " w2", p, b.w2(), c.experts() * d * c.expertDim(), f, grad, 1e-2f, 80, 5e-3, changed);
        if (c.sharedDim() > 0) {
            FiniteDifference.check(name + " shared w13", p, b.sharedW13(), 2 * c.sharedDim() * d, f, grad, 1e-2f, 60, 5e-3,
                    changed);
            FiniteDifference.check(name + " shared w2", p, b.sharedW2(), d * c.sharedDim(), f, grad, 1e-2f, 60, 5e-3,
                    changed);
        }
    }

    @Test
    void moeFeedForwardV3() {
        moeCheck(tiny("deepseek-v3", 1), null);
    }

    @Test
    void moeFeedForwardV2() {
        moeCheck(tiny("deepseek-v2", 0), null);
    }

    @Test
    void moeFeedForwardWithSequenceLoss() {
        TransformerConfig c = tiny("deepseek-v3", 1);
        moeCheck(c, SequenceBalanceLoss.forConfig(c.routing(), 0.5));
    }

    @Test
    void moeFeedForwardWithV2Losses() {
        TransformerConfig c = tiny("deepseek-v2", 1);
        moeCheck(c, AuxLosses.deepseekV2(c.routing()));
    }

    /** The top-K the sequence loss counts (no bias, no groups): a discrete choice like the router's. */
    private static int[] auxSelection(AuxLoss aux, MoeTransformer model, int layer, int tokens) {
        double[] z = AuxLosses.widen(java.util.Arrays.copyOf(model.lastLogits(layer), tokens * model.config().experts()));
        return aux.select(z, tokens, model.lastRouting(layer)).ids();
    }

    @Test
    void wholeModel() {
        TransformerConfig c = tiny("deepseek-v3", 1);
        RoutingConfig rc = c.routing();
        MoeTransformer model = new MoeTransformer(c, GEMM, Routers.reference(rc), 3);
        float[] p = model.parameters();
        // Larger weights than the initialisation, so every path carries a gradient worth measuring.
        float[] noise = gaussian(p.length, 14, 0.3);
        for (int i = 0; i < p.length; i++) {
            p[i] += noise[i];
        }
        int batch = 2;
        // Bytes 0..3 only, so the sampled embedding rows are ones the batch uses.
        byte[] data = new byte[batch * (c.seqLen() + 1)];
        SplittableRandom bytes = new SplittableRandom(15);
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) bytes.nextInt(4);
        }
        AuxLoss aux = SequenceBalanceLoss.forConfig(rc, 0.3);
        // A strong bias keeps the selection stable under the perturbations (it only chooses, never weighs).
        float[][] biases = {gaussian(c.experts(), 16, 1.0), gaussian(c.experts(), 17, 1.0)};
        int[][] ids = new int[c.layers()][];
        int[][] auxIds = new int[c.layers()][];
        int tokens = batch * c.seqLen();
        java.util.function.DoubleSupplier f = () -> {
            MoeTransformer.ForwardResult r = model.forward(data, batch, biases, aux, 1.0);
            return r.lossSum() + r.auxLoss();
        };
        f.getAsDouble();
        for (int l = 0; l < c.layers(); l++) {
            ids[l] = model.lastRouting(l).ids().clone();
            auxIds[l] = auxSelection(aux, model, l, tokens);
        }
        float[] grad = new float[p.length];
        model.backward(1f, grad, null);
        FiniteDifference.Skip changed = i -> {
            for (int l = 0; l < c.layers(); l++) {
                if (!Arrays.equals(ids[l], model.lastRouting(l).ids())
                        || !Arrays.equals(auxIds[l], auxSelection(aux, model, l, tokens))) {
                    return true;
                }
            }
            return false;
        };
        for (ParameterLayout.Tensor tensor : model.layout().tensors()) {
            int size = tensor.name().equals("embed") ? 4 * c.dim() : tensor.size();
            FiniteDifference.check("model " + tensor.name(), p, tensor.offset(), size, f, grad, 2e-3f, 24, 2e-2, changed);
        }
        assertEquals(p.length, model.layout().size());
    }
}

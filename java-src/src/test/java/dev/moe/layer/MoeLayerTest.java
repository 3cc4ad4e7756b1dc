package dev.moe.layer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.moe.backend.Backend;
import dev.moe.fp8.BlockQuantizer;
import dev.moe.fp8.ExpertWeights;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8GemmReference;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.routing.RoutingConfig;

class MoeLayerTest {
    static final int H = 256;
    static final int I = 128;
    static final RoutingConfig CONFIG = RoutingConfig.builder().experts(8).groups(4).topkGroups(2).topk(2).build();

    /** A small random layer, keeping the per-expert matrices for the per-token oracle. */
    record Layer(MoeLayerWeights weights, List<QuantizedTensor> w13, List<QuantizedTensor> w2) {}

    static Layer layer(long seed, boolean shared) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = CONFIG.numExperts();
        List<QuantizedTensor> w13 = new ArrayList<>();
        List<QuantizedTensor> w2 = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            w13.add(BlockQuantizer.quantize(gaussian(rnd, 2 * I * H, 0.06), 2 * I, H, Fp8Block.TILE_128X128, false));
            w2.add(BlockQuantizer.quantize(gaussian(rnd, H * I, 0.08), H, I, Fp8Block.TILE_128X128, false));
        }
        float[] bias = gaussian(rnd, n, 0.02);
        QuantizedTensor s13 = shared ? BlockQuantizer.quantize(gaussian(rnd, 2 * I * H, 0.06), 2 * I, H, Fp8Block.TILE_128X128, false)
                : null;
        QuantizedTensor s2 = shared ? BlockQuantizer.quantize(gaussian(rnd, H * I, 0.08), H, I, Fp8Block.TILE_128X128, false) : null;
        MoeLayerWeights w = new MoeLayerWeights(CONFIG, H, I, gaussian(rnd, n * H, 0.1), bias, ExpertWeights.of(w13),
                ExpertWeights.of(w2), s13, s2);
        return new Layer(w, w13, w2);
    }

    static float[] gaussian(SplittableRandom rnd, int count, double std) {
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) (rnd.nextGaussian() * std);
        }
        return x;
    }

    /** One token through one expert, the long way: its own quantisation, dense reference GEMMs. */
    static float[] oneToken(float[] x, int t, QuantizedTensor w13, QuantizedTensor w2) {
        float[] row = java.util.Arrays.copyOfRange(x, t * H, (t + 1) * H);
        float[] h13 = Fp8GemmReference.gemm(BlockQuantizer.quantize(row, 1, H, Fp8Block.ROW_1X128, false), w13);
        float[] act = MoeLayer.swiglu(h13, 1, w2.cols());
        return Fp8GemmReference.gemm(BlockQuantizer.quantize(act, 1, w2.cols(), Fp8Block.ROW_1X128, false), w2);
    }

    @Test
    void javaForwardEqualsTheTokenByTokenComputation() {
        Layer l = layer(1, true);
        int tokens = 37;
        float[] x = gaussian(new SplittableRandom(2), tokens * H, 1.0);
        MoeLayer.Output out = MoeLayer.create(l.weights(), Backend.JAVA).forwardWithRouting(x, tokens);
        int k = CONFIG.topk();
        float[] want = new float[tokens * H];
        for (int t = 0; t < tokens; t++) {
            for (int q = 0; q < k; q++) {
                int e = out.routing().ids()[t * k + q];
                float g = out.routing().weights()[t * k + q];
                float[] y = oneToken(x, t, l.w13().get(e), l.w2().get(e));
                for (int c = 0; c < H; c++) {
                    want[t * H + c] += g * y[c];
                }
            }
            float[] s = oneToken(x, t, l.weights().sharedW13(), l.weights().sharedW2());
            for (int c = 0; c < H; c++) {
                want[t * H + c] += s[c];
            }
        }
        // Per-row quantisation and the reference GEMM's fixed order make the two bit-identical.
        assertArrayEquals(want, out.hidden());
        long distinct = java.util.Arrays.stream(out.routing().ids()).distinct().count();
        assertTrue(distinct >= 4, "the batch should exercise several experts, got " + distinct);
    }

    @Test
    void routerLogitsAreEachExpertsSequentialSum() {
        // 20 experts: not a multiple of any vector width, so the projection's tail lanes are covered too.
        RoutingConfig config = RoutingConfig.builder().experts(20).groups(4).topkGroups(2).topk(2).build();
        SplittableRandom rnd = new SplittableRandom(11);
        int n = config.numExperts();
        int h = 300;
        List<QuantizedTensor> w13 = new ArrayList<>();
        List<QuantizedTensor> w2 = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            w13.add(BlockQuantizer.quantize(gaussian(rnd, 2 * I * h, 0.06), 2 * I, h, Fp8Block.TILE_128X128, false));
            w2.add(BlockQuantizer.quantize(gaussian(rnd, h * I, 0.08), h, I, Fp8Block.TILE_128X128, false));
        }
        float[] gate = gaussian(rnd, n * h, 0.1);
        gate[5] = -0.0f;
        MoeLayerWeights w = new MoeLayerWeights(config, h, I, gate, null, ExpertWeights.of(w13), ExpertWeights.of(w2), null, null);
        for (int tokens : new int[] {1, 3, 64}) {
            float[] x = gaussian(rnd, tokens * h, 1.0);
            x[0] = 0.0f;
            for (Backend b : new Backend[] {Backend.JAVA, Backend.CPU}) {
                float[] z = MoeLayer.create(w, b).logits(x, tokens);
                for (int t = 0; t < tokens; t++) {
                    for (int e = 0; e < n; e++) {
                        float s = 0f;
                        for (int q = 0; q < h; q++) {
                            s += x[t * h + q] * gate[e * h + q];
                        }
                        assertEquals(Float.floatToRawIntBits(s), Float.floatToRawIntBits(z[t * n + e]),
                                b + " T=" + tokens + " logit [" + t + ", " + e + "]");
                    }
                }
            }
        }
    }

    @Test
    void nativeForwardMatchesTheJavaForward() {
        for (boolean shared : new boolean[] {false, true}) {
            Layer l = layer(3, shared);
            int tokens = 53;
            float[] x = gaussian(new SplittableRandom(4), tokens * H, 1.0);
            MoeLayer.Output java = MoeLayer.create(l.weights(), Backend.JAVA).forwardWithRouting(x, tokens);
            MoeLayer.Output cpu = MoeLayer.create(l.weights(), Backend.CPU).forwardWithRouting(x, tokens);
            assertArrayEquals(java.routing().ids(), cpu.routing().ids(), "same logits, same gate: identical ids");
            assertArrayEquals(java.routing().weights(), cpu.routing().weights());
            double ms = 0;
            for (float v : java.hidden()) {
                ms += (double) v * v;
            }
            double rms = Math.sqrt(ms / java.hidden().length);
            double maxDiff = 0;
            double sumDiff = 0;
            for (int i = 0; i < java.hidden().length; i++) {
                double d = Math.abs(java.hidden()[i] - cpu.hidden()[i]);
                maxDiff = Math.max(maxDiff, d);
                sumDiff += d;
            }
            // GEMM sums differ in order (FP32 rounding); a re-quantised activation may then land on the
            // other side of an FP8 rounding boundary, which moves one element by one FP8 step.
            assertTrue(rms > 0.01, "a meaningful output: rms " + rms);
            assertTrue(maxDiff <= 0.02 * rms, "max |java - cpu| " + maxDiff + " vs rms " + rms);
            assertTrue(sumDiff / java.hidden().length <= 1e-4 * rms, "mean |java - cpu| " + sumDiff / java.hidden().length);
        }
    }

    @Test
    void emptyBatchAndBadInputs() {
        MoeLayer layer = MoeLayer.create(layer(5, false).weights(), Backend.CPU);
        assertEquals(0, layer.forward(new float[0], 0).length);
        assertThrows(IllegalArgumentException.class, () -> layer.forward(new float[H + 1], 1));
        float[] x = new float[2 * H];
        x[H + 3] = Float.NaN;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> layer.forward(x, 2)).getMessage().contains("[1, 3]"));
        MoeLayerWeights w = layer(6, true).weights();
        assertThrows(IllegalArgumentException.class, () -> new MoeLayerWeights(CONFIG, H, 64, w.gate(), null, w.w13(), w.w2(), null, null));
        assertThrows(IllegalArgumentException.class, () -> new MoeLayerWeights(CONFIG, H, I, w.gate(), null, w.w13(), w.w2(),
                w.sharedW13(), null));
        assertThrows(IllegalArgumentException.class, () -> new MoeLayerWeights(CONFIG, H, I, new float[3], null, w.w13(), w.w2(),
                null, null));
        assertThrows(IllegalArgumentException.class, () -> new MoeLayerWeights(CONFIG, H, I, w.gate(), null, w.w2(), w.w13(),
                null, null));
    }
}

package dev.moe.cli;

import java.util.SplittableRandom;
import java.util.function.Supplier;

import dev.moe.train.Elementwise;
import dev.moe.train.Gemm;
import dev.moe.train.JavaGemm;
import dev.moe.train.NativeGemm;

/**
 * {@code moe check}'s checks of the native kernels training runs on the cpu backend: the FP32 GEMM in its
 * three forms (forward, activation gradient, weight gradient) within 2·10⁻⁵·Σ|a||b| per element, and
 * SwiGLU and the causal softmax, forward and backward, bit for bit.
 */
final class TrainingKernelChecks {
    /** Where a check's outcome goes: {@code run} answers null when it passes, else what differs. */
    interface Recorder {
        void record(String check, boolean exact, Supplier<String> run);
    }

    private TrainingKernelChecks() {}

    static void run(long seed, Recorder r) {
        Gemm cpu = new NativeGemm();
        Gemm java = new JavaGemm();
        int[][] shapes = {{1, 1, 1}, {97, 130, 300}, {256, 70, 513}};
        for (int[] s : shapes) {
            for (boolean[] t : new boolean[][] {{false, true}, {false, false}, {true, false}}) {
                String name = "train gemm " + s[0] + "x" + s[1] + "x" + s[2] + (t[0] ? " At" : "") + (t[1] ? " Bt" : "");
                r.record(name, false, () -> gemm(cpu, java, s[0], s[1], s[2], t[0], t[1], seed));
            }
        }
        Elementwise fast = cpu.elementwise();
        Elementwise ref = Elementwise.java();
        for (int[] s : new int[][] {{1, 1}, {300, 77}, {4096, 128}}) {
            int rows = s[0];
            int width = s[1];
            float[] h13 = values(rows * 2 * width, seed + rows, 4);
            float[] dact = values(rows * width, seed + width, 1);
            r.record("train swiglu " + rows + "x" + width, true, () -> {
                float[] want = new float[rows * width];
                float[] got = new float[rows * width];
                ref.swigluForward(h13, want, rows, width);
                fast.swigluForward(h13, got, rows, width);
                String forward = CheckCommand.identical(want, got);
                if (forward != null) {
                    return "forward " + forward;
                }
                want = new float[rows * 2 * width];
                got = new float[rows * 2 * width];
                ref.swigluBackward(dact, h13, want, rows, width);
                fast.swigluBackward(dact, h13, got, rows, width);
                String backward = CheckCommand.identical(want, got);
                return backward == null ? null : "backward " + backward;
            });
        }
        for (int[] s : new int[][] {{1, 1}, {3, 37}, {64, 256}}) {
            int count = s[0];
            int seq = s[1];
            float[] scores = values(count * seq * seq, seed + seq, 6);
            float[] dp = values(count * seq * seq, seed + count, 1);
            r.record("train causal softmax " + count + "x" + seq + "x" + seq, true, () -> {
                float[] want = scores.clone();
                float[] got = scores.clone();
                ref.softmaxCausal(want, count, seq, 0.125f);
                fast.softmaxCausal(got, count, seq, 0.125f);
                String forward = CheckCommand.identical(want, got);
                if (forward != null) {
                    return "forward " + forward;
                }
                float[] wantD = dp.clone();
                float[] gotD = dp.clone();
                ref.softmaxCausalBackward(want, wantD, count, seq, 0.125f);
                fast.softmaxCausalBackward(want, gotD, count, seq, 0.125f);
                String backward = CheckCommand.identical(wantD, gotD);
                return backward == null ? null : "backward " + backward;
            });
        }
    }

    /** C = op(A)·op(B) on both GEMMs, each element within 2·10⁻⁵·Σ|a||b| of the reference. */
    private static String gemm(Gemm cpu, Gemm java, int m, int n, int k, boolean ta, boolean tb, long seed) {
        float[] a = values(m * k, seed + m, 1);
        float[] b = values(k * n, seed + n, 1);
        int lda = ta ? m : k;
        int ldb = tb ? k : n;
        float[] want = new float[m * n];
        float[] got = new float[m * n];
        float[] bound = new float[m * n];
        java.gemm(ta, tb, m, n, k, a, 0, lda, b, 0, ldb, 0f, want, 0, n);
        cpu.gemm(ta, tb, m, n, k, a, 0, lda, b, 0, ldb, 0f, got, 0, n);
        java.gemm(ta, tb, m, n, k, abs(a), 0, lda, abs(b), 0, ldb, 0f, bound, 0, n);
        return CheckCommand.within(want, got, bound, CheckCommand.FP32_ROUNDING);
    }

    private static float[] abs(float[] v) {
        float[] a = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            a[i] = Math.abs(v[i]);
        }
        return a;
    }

    private static float[] values(int count, long seed, double sd) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) (sd * rnd.nextGaussian());
        }
        return x;
    }
}

package dev.moe.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import dev.moe.train.Gemm;
import dev.moe.train.NativeGemm;

/**
 * The native FP32 GEMM on the forward products of a {@code bench train} step (C = X·Wᵀ, m×n×k): q/k/v
 * (4096×768×256), the output projection and head (4096×256×256), one routed expert's w13 (512×256×256) and
 * the shared expert's w2 (4096×256×128). {@code benchmarks/numpy_sgemm.py} times BLAS on the same shapes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class F32GemmBenchmark {
    @Param({"4096,768,256", "4096,256,256", "512,256,256", "4096,256,128"})
    public String shape;

    private int m;
    private int n;
    private int k;
    private float[] a;
    private float[] b;
    private float[] c;
    private Gemm gemm;

    @Setup
    public void setUp() {
        String[] s = shape.split(",");
        m = Integer.parseInt(s[0]);
        n = Integer.parseInt(s[1]);
        k = Integer.parseInt(s[2]);
        SplittableRandom r = new SplittableRandom(1);
        a = new float[m * k];
        b = new float[n * k];
        c = new float[m * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) r.nextGaussian();
        }
        gemm = new NativeGemm();
    }

    @Benchmark
    public float[] forward() {
        gemm.gemm(false, true, m, n, k, a, 0, k, b, 0, k, 0f, c, 0, n);
        return c;
    }
}

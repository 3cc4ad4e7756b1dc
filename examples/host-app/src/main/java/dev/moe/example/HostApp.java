package dev.moe.example;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

import dev.moe.backend.Backend;
import dev.moe.backend.Backends;
import dev.moe.balance.BiasBalancer;
import dev.moe.balance.BiasUpdateRule;
import dev.moe.balance.GammaSchedule;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8Gemm;
import dev.moe.fp8.Fp8Quantizer;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.metrics.LoadMetrics;
import dev.moe.routing.Router;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;

/**
 * A host application using the library's public API only: choose a backend, route a batch with the
 * DeepSeek-V3 gate, read the load metrics, run the auxiliary-loss-free balancing loop, and run an FP8
 * block-scaled expert GEMM. Usage: {@code HostApp [java|cpu|cuda|auto]}.
 */
public final class HostApp {
    private HostApp() {}

    public static void main(String[] args) {
        Backend backend = Backend.parse(args.length > 0 ? args[0] : "auto");
        for (Backend b : new Backend[] {Backend.JAVA, Backend.CPU, Backend.CUDA}) {
            System.out.printf("backend %-4s %s%n", b.cliName(), Backends.status(b));
        }

        // 1. Route one batch: 1024 tokens of router logits, the V3 gate (256 experts, top-8, 4 of 8 nodes).
        RoutingConfig config = RoutingConfig.deepseekV3();
        Router router = Routers.create(config, backend);  // thread-safe; share it
        int tokens = 1024;
        float[] logits = skewedLogits(tokens, config.numExperts(), 0);
        RoutingResult r = router.route(logits, null);
        System.out.printf(Locale.ROOT, "routed %d tokens on %s: token 0 -> experts %s, weights %s%n", tokens,
                router.backend().cliName(), Arrays.toString(Arrays.copyOf(r.ids(), config.topk())),
                Arrays.toString(Arrays.copyOf(r.weights(), config.topk())));
        System.out.printf(Locale.ROOT, "load without balancing: MaxVio %.3f%n", LoadMetrics.maxVio(r.expertLoad()));

        // 2. The balancing loop: route with the bias, update it from each step's counts.
        BiasBalancer balancer = new BiasBalancer(1, config.numExperts(), BiasUpdateRule.SIGN, GammaSchedule.constant(0.002f));
        double maxVio = 0;
        for (int step = 0; step < 300; step++) {
            RoutingResult s = router.route(skewedLogits(tokens, config.numExperts(), step + 1), balancer.bias(0));
            maxVio = LoadMetrics.maxVio(s.expertLoad());
            balancer.endStep(new long[][] {s.expertLoad()}, tokens);
        }
        System.out.printf(Locale.ROOT, "after %d balancing steps: MaxVio %.3f, bias range [%.4f, %.4f]%n", balancer.step(), maxVio,
                min(balancer.bias(0)), max(balancer.bias(0)));

        // 3. An FP8 expert GEMM: activations 1x128, weights 128x128, C = A·Bᵀ with FP32 promotion per 128-K chunk.
        Backend fp8Backend = backend == Backend.CUDA ? Backend.AUTO : backend;  // FP8 kernels: java or cpu here
        Fp8Quantizer quantizer = Fp8Quantizer.create(fp8Backend);
        Fp8Gemm gemm = Fp8Gemm.create(fp8Backend);
        int m = 16;
        int n = 512;
        int k = 1024;
        float[] a = gaussian(m * k, 1, 1f);
        float[] b = gaussian(n * k, 2, 0.05f);
        QuantizedTensor qa = quantizer.quantize(a, m, k, Fp8Block.ROW_1X128, false);
        QuantizedTensor qb = quantizer.quantize(b, n, k, Fp8Block.TILE_128X128, false);
        float[] c = gemm.gemm(qa, qb);
        double err = 0;
        double ref = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double exact = 0;
                for (int q = 0; q < k; q++) {
                    exact += (double) a[i * k + q] * b[j * k + q];
                }
                err += (c[i * n + j] - exact) * (c[i * n + j] - exact);
                ref += exact * exact;
            }
        }
        System.out.printf(Locale.ROOT, "FP8 GEMM %dx%dx%d on %s: relative RMS error vs FP64 %.2f%%%n", m, n, k,
                gemm.backend().cliName(), 100 * Math.sqrt(err / ref));
    }

    /** Router logits with a per-expert popularity offset, so that balancing has work to do. */
    private static float[] skewedLogits(int tokens, int experts, long seed) {
        SplittableRandom pop = new SplittableRandom(42);
        float[] popularity = new float[experts];
        for (int e = 0; e < experts; e++) {
            popularity[e] = (float) pop.nextGaussian() * 0.6f;
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] z = new float[tokens * experts];
        for (int i = 0; i < z.length; i++) {
            z[i] = popularity[i % experts] + (float) rnd.nextGaussian();
        }
        return z;
    }

    private static float[] gaussian(int count, long seed, float std) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) rnd.nextGaussian() * std;
        }
        return x;
    }

    private static float min(float[] v) {
        float m = Float.POSITIVE_INFINITY;
        for (float x : v) {
            m = Math.min(m, x);
        }
        return m;
    }

    private static float max(float[] v) {
        float m = Float.NEGATIVE_INFINITY;
        for (float x : v) {
            m = Math.max(m, x);
        }
        return m;
    }
}

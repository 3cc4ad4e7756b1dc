package dev.moe.concurrency;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

import dev.moe.backend.Backend;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8Gemm;
import dev.moe.fp8.Fp8Quantizer;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.routing.Router;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.SyntheticLogits;

/**
 * Quantisers, GEMMs (native and Vector API) and routers shared by 8 threads give byte-identical
 * results to serial calls (the kernels keep no hidden mutable state; OpenMP inside each
 * call nests under the callers' threads).
 */
class ConcurrentKernelsTest {
    static final int THREADS = 8;
    static final int ROUNDS = 4;

    record Outputs(byte[] codes, float[] scales, float[] gemm, float[] vectorGemm, int[] ids, float[] weights) {}

    static Outputs runOnce(float[] x, float[] w, float[] logits) {
        Fp8Quantizer q = Fp8Quantizer.create(Backend.CPU);
        QuantizedTensor a = q.quantize(x, 24, 640, Fp8Block.ROW_1X128, false);
        QuantizedTensor b = q.quantize(w, 300, 640, Fp8Block.TILE_128X128, true);
        float[] c = Fp8Gemm.create(Backend.CPU).gemm(a, b);
        float[] cv = Fp8Gemm.vector().gemm(a, b);
        RoutingResult r = ROUTER.route(logits, null);
        return new Outputs(a.codes(), a.scales(), c, cv, r.ids(), r.weights());
    }

    static final Router ROUTER = Routers.create(RoutingConfig.deepseekV3(), Backend.CPU);

    @Test
    void eightThreadsGiveTheSerialBytes() throws Exception {
        SplittableRandom rnd = new SplittableRandom(8);
        float[] x = new float[24 * 640];
        float[] w = new float[300 * 640];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian() * 0.05f;
        }
        float[] logits = SyntheticLogits.generate(513, 256, 1f, 9);
        Outputs serial = runOnce(x, w, logits);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<Outputs>> futures = new ArrayList<>();
            for (int i = 0; i < THREADS * ROUNDS; i++) {
                Callable<Outputs> task = () -> runOnce(x, w, logits);
                futures.add(pool.submit(task));
            }
            for (Future<Outputs> f : futures) {
                Outputs o = f.get();
                assertArrayEquals(serial.codes(), o.codes());
                assertArrayEquals(serial.scales(), o.scales());
                assertArrayEquals(serial.gemm(), o.gemm());
                assertArrayEquals(serial.vectorGemm(), o.vectorGemm());
                assertArrayEquals(serial.ids(), o.ids());
                assertArrayEquals(serial.weights(), o.weights());
            }
            assertEquals(THREADS * ROUNDS, futures.size());
        } finally {
            pool.shutdownNow();
        }
    }
}

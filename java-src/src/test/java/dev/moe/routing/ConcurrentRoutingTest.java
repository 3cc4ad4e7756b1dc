package dev.moe.routing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.moe.backend.Backend;

/** One router shared by 8 threads gives byte-identical results to serial calls. */
class ConcurrentRoutingTest {

    @ParameterizedTest
    @EnumSource(value = Backend.class, names = {"JAVA", "CPU"})
    void sharedRouterIsThreadSafe(Backend backend) throws Exception {
        Router router = Routers.create(RoutingConfig.deepseekV3(), backend);
        int batches = 16;
        List<float[]> inputs = new ArrayList<>();
        List<RoutingResult> serial = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            float[] z = SyntheticLogits.generate(200 + 37 * i, 256, 1.0f, 1000 + i);
            inputs.add(z);
            serial.add(router.route(z, null));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            for (int round = 0; round < 3; round++) {
                List<Future<RoutingResult>> futures = new ArrayList<>();
                for (float[] z : inputs) {
                    futures.add(pool.submit(() -> router.route(z, null)));
                }
                for (int i = 0; i < batches; i++) {
                    RoutingResult r = futures.get(i).get();
                    assertArrayEquals(serial.get(i).ids(), r.ids(), "batch " + i);
                    assertArrayEquals(serial.get(i).weights(), r.weights(), "batch " + i);
                    assertArrayEquals(serial.get(i).expertLoad(), r.expertLoad(), "batch " + i);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

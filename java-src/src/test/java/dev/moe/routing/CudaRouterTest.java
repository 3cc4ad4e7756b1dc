package dev.moe.routing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.moe.backend.Backend;
import dev.moe.backend.BackendStatus;
import dev.moe.backend.Backends;

/**
 * The CUDA gate against the Java reference: the same differential cases as the CPU kernel, ids and
 * weights bit-identical. Needs a usable GPU; skipped with the reason elsewhere (the kernel's per-token
 * arithmetic is also checked on the host by {@link CpuDifferentialTest}).
 */
@Tag("gpu")
class CudaRouterTest {

    @BeforeAll
    static void gpuIsUsable() {
        BackendStatus s = Backends.status(Backend.CUDA);
        assumeTrue(s.usable(), "no usable GPU: " + s.detail());
    }

    static void assertSameAsReference(RoutingConfig c, float[] z, float[] b, String what) {
        RoutingResult ref = Routers.reference(c).route(z, b);
        RoutingResult gpu = Routers.create(c, Backend.CUDA).route(z, b);
        assertArrayEquals(ref.ids(), gpu.ids(), what + ": ids differ");
        for (int i = 0; i < ref.weights().length; i++) {
            assertEquals(Float.floatToRawIntBits(ref.weights()[i]), Float.floatToRawIntBits(gpu.weights()[i]), what + ": weight " + i);
        }
        assertArrayEquals(ref.expertLoad(), gpu.expertLoad(), what + ": load differs");
        assertEquals(ref.stats(), gpu.stats(), what + ": stats differ");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.moe.routing.CpuDifferentialTest#configs")
    void seededRandomBatchesMatchTheReference(String name, RoutingConfig c) {
        SplittableRandom rnd = new SplittableRandom(name.hashCode());
        for (int t : new int[] {1, 37, 700, 4096}) {
            float[] z = SyntheticLogits.generate(t, c.numExperts(), 1.5f, rnd.nextLong());
            float[] b = new float[c.numExperts()];
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) (rnd.nextDouble() * 0.1 - 0.05) + c.biasMode().neutral();
            }
            assertSameAsReference(c, z, t == 1 ? null : b, name + " T=" + t);
        }
    }

    @Test
    void nonFiniteRowEmptyBatchAndSharedRouter() {
        RoutingConfig c = RoutingConfig.deepseekV3();
        Router gpu = Routers.create(c, Backend.CUDA);
        assertEquals(0, gpu.route(new float[0], null).ids().length);
        float[] z = SyntheticLogits.generate(9, 256, 1f, 3);
        z[5 * 256 + 17] = Float.NaN;
        NonFiniteInputException e = assertThrows(NonFiniteInputException.class, () -> gpu.route(z, null));
        assertEquals(5, e.row());
        float[] ok = SyntheticLogits.generate(300, 256, 1f, 4);
        assertSameAsReference(c, ok, null, "after an error the router still works");
    }
}

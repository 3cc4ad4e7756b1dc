package dev.moe.fp8;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.moe.backend.Backend;
import dev.moe.backend.BackendStatus;
import dev.moe.backend.Backends;

/** {@link Fp8Quantizer} on the cuda backend equals the java reference byte for byte. Needs a usable GPU. */
@Tag("gpu")
class CudaQuantizerTest {

    @BeforeAll
    static void gpuIsUsable() {
        BackendStatus s = Backends.status(Backend.CUDA);
        assumeTrue(s.usable(), "no usable GPU: " + s.detail());
    }

    @Test
    void quantiserMatchesTheReference() {
        Fp8Quantizer gpu = Fp8Quantizer.create(Backend.CUDA);
        assertEquals(Backend.CUDA, gpu.backend());
        SplittableRandom rnd = new SplittableRandom(4);
        for (int[] shape : new int[][] {{1, 1}, {3, 130}, {129, 257}, {256, 384}, {0, 5}}) {
            float[] x = new float[shape[0] * shape[1]];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(-8, 8)));
            }
            for (Fp8Block block : Fp8Block.values()) {
                for (boolean pow2 : new boolean[] {false, true}) {
                    assertEquals(BlockQuantizer.quantize(x, shape[0], shape[1], block, pow2),
                            gpu.quantize(x, shape[0], shape[1], block, pow2), shape[0] + "x" + shape[1] + " " + block + " " + pow2);
                }
            }
        }
        float[] bad = new float[2 * 200];
        bad[333] = Float.NaN;
        NonFiniteTensorException e = assertThrows(NonFiniteTensorException.class, () -> gpu.quantize(bad, 2, 200, Fp8Block.ROW_1X128, false));
        assertEquals(1, e.row());
        assertEquals(133, e.column());
    }
}

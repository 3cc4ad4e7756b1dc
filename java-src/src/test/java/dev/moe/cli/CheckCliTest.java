package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.moe.backend.Backend;
import dev.moe.backend.Backends;

/** {@code moe check}: the cpu kernels pass against the reference; the comparisons catch what they must. */
class CheckCliTest {
    @TempDir
    Path dir;

    @Test
    void theCpuBackendPassesEveryCheck() throws IOException {
        Path json = dir.resolve("check.json");
        MoeCliTest.Result r = MoeCliTest.cli("check", "--backend", "cpu", "--seed", "3", "--json", json.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertFalse(r.out().contains("FAIL"), r.out());
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        assertEquals("cpu", doc.get("backend").asText());
        JsonNode results = doc.get("results");
        assertTrue(results.size() >= 44, "routing, quantisation, GEMM, layer and training checks: " + results.size());
        for (JsonNode c : results) {
            assertTrue(c.get("pass").asBoolean(), c.toString());
        }
        assertTrue(r.out().contains("route N=512 G=1 M=1 K=16 ties") && r.out().contains("quantize 130x300 128x128 pow2")
                && r.out().contains("gemm cpu grouped masked") && r.out().contains("layer N=32")
                && r.out().contains("train gemm 97x130x300 At") && r.out().contains("train swiglu 300x77")
                && r.out().contains("train causal softmax 3x37x37"), r.out());
    }

    @Test
    void javaIsNotABackendToCheckAndCudaNeedsAGpu() {
        assertEquals(MoeCli.EXIT_USAGE, MoeCliTest.cli("check", "--backend", "java").code());
        assumeFalse(Backends.status(Backend.CUDA).usable(), "a GPU is present");
        MoeCliTest.Result r = MoeCliTest.cli("check", "--backend", "cuda");
        assertEquals(MoeCli.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("no usable GPU"), r.err());
    }

    @Test
    void theComparisonsCatchOneUlpAndATolerance() {
        float[] want = {1f, Float.POSITIVE_INFINITY, -0f};
        assertNull(CheckCommand.identical(want, want.clone()));
        float[] ulp = want.clone();
        ulp[0] = Math.nextUp(1f);
        assertTrue(CheckCommand.identical(want, ulp).startsWith("element 0"));
        float[] zero = want.clone();
        zero[2] = 0f;
        assertTrue(CheckCommand.identical(want, zero).startsWith("element 2"), "-0 and +0 are different bits");
        float[] bound = {1f, 1f, 1f};
        float[] close = {1.0009f, 1f, 0f};
        float[] ref = {1f, 1f, 0f};
        assertNull(CheckCommand.within(ref, close, bound, CheckCommand.FP32_ROUNDING * 50));  // 9e-4 <= 1e-3
        assertTrue(CheckCommand.within(ref, close, bound, CheckCommand.FP32_ROUNDING).startsWith("element 0"));
        assertTrue(CheckCommand.within(ref, new float[] {Float.NaN, 1f, 0f}, bound, 1).startsWith("element 0"), "NaN never passes");
    }
}

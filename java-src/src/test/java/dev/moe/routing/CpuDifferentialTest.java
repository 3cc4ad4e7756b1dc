package dev.moe.routing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.moe.backend.Backend;
import dev.moe.backend.BackendStatus;
import dev.moe.backend.Backends;
import dev.moe.bindings.CpuInfo;
import dev.moe.bindings.moe_h;
import dev.moe.bindings.moe_testkit_h;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.MoeTestkit;

/**
 * The native CPU kernel against the Java reference, for every compiled variant the CPU runs (AVX-512, AVX2,
 * portable).
 * Ids must match exactly; weights are bit-identical by construction (same FP32 operations in the
 * same order), so the stated tolerance is 0.
 */
class CpuDifferentialTest {

    static Stream<Arguments> configs() {
        RoutingConfig v3 = RoutingConfig.deepseekV3();
        RoutingConfig v2 = RoutingConfig.deepseekV2();
        return Stream.of(
                Arguments.of("deepseek-v3", v3),
                Arguments.of("deepseek-v2", v2),
                Arguments.of("N=384 G=1", v3.toBuilder().experts(384).groups(1).topkGroups(1).build()),
                Arguments.of("N=64 G=8 M=8", v3.toBuilder().experts(64).groups(8).topkGroups(8).deriveGroupTopJ().build()),
                Arguments.of("N=160 G=8 M=3", v3.toBuilder().experts(160).groups(8).topkGroups(3).topk(6).deriveGroupTopJ().build()),
                Arguments.of("K=1", v3.toBuilder().topk(1).groupTopJ(2).build()),
                Arguments.of("N=512 G=16 M=4", v3.toBuilder().experts(512).groups(16).topkGroups(4).build()),
                Arguments.of("N=36 G=4 M=2 J=3 softmax+normalize (partial vectors)",
                        v3.toBuilder().experts(36).groups(4).topkGroups(2).topk(6).deriveGroupTopJ().scoreFunction(ScoreFunction.SOFTMAX).build()),
                Arguments.of("N=20 G=5 M=2 max K=3 sigmoid unnormalised",
                        v3.toBuilder().experts(20).groups(5).topkGroups(2).topk(3).groupScore(GroupScore.MAX).normalize(false).routeScale(1f).build()),
                Arguments.of("N=128 G=8 M=2 K=16 J=8", v3.toBuilder().experts(128).groups(8).topkGroups(2).topk(16).deriveGroupTopJ().build()),
                Arguments.of("N=7 G=7 M=3 K=3 J=1", v3.toBuilder().experts(7).groups(7).topkGroups(3).topk(3).deriveGroupTopJ().build()),
                // M > K: the AVX2 floor's scratch list once overlapped the kept-group list (found by fuzzing).
                Arguments.of("N=256 G=16 M=6 K=4 max (M > K)", v3.toBuilder().groups(16).topkGroups(6).topk(4)
                        .groupScore(GroupScore.MAX).build()),
                // The AVX-512 16-lane flow at every padded group count (2, 4, 8, 16), with padding groups.
                Arguments.of("N=32 G=2 M=1 K=2", v3.toBuilder().experts(32).groups(2).topkGroups(1).topk(2).build()),
                Arguments.of("N=64 G=4 M=2 K=4", v3.toBuilder().experts(64).groups(4).topkGroups(2).topk(4).build()),
                Arguments.of("N=80 G=5 M=2 K=3 (3 padding groups)", v3.toBuilder().experts(80).groups(5).topkGroups(2).topk(3).build()),
                Arguments.of("N=192 G=12 M=4 K=8 max (4 padding groups)", v3.toBuilder().experts(192).groups(12).topkGroups(4)
                        .groupScore(GroupScore.MAX).build()),
                // The 16-lane flow's two-pass form: softmax scores, groups that are not a multiple of 16.
                Arguments.of("deepseek-v3 softmax", v3.toBuilder().scoreFunction(ScoreFunction.SOFTMAX).build()),
                Arguments.of("N=24 G=3 M=2 K=4 softmax (8 tail lanes)", v3.toBuilder().experts(24).groups(3).topkGroups(2).topk(4)
                        .scoreFunction(ScoreFunction.SOFTMAX).build()),
                Arguments.of("deepseek-v3 multiplicative bias", v3.toBuilder().biasMode(BiasMode.MULTIPLY).build()),
                Arguments.of("N=36 G=4 M=2 max softmax multiplicative bias (partial vectors)", v3.toBuilder().experts(36).groups(4)
                        .topkGroups(2).topk(6).groupScore(GroupScore.MAX).scoreFunction(ScoreFunction.SOFTMAX)
                        .biasMode(BiasMode.MULTIPLY).build()));
    }

    @BeforeAll
    static void cpuBackendIsUsable() {
        BackendStatus s = Backends.status(Backend.CPU);
        assertEquals(true, s.usable(), s.detail());
    }

    @AfterAll
    static void restoreKernel() {
        moe_h.moe_cpu_set_kernel(moe_h.MOE_CPU_KERNEL_AUTO());
    }

    static Stream<Arguments> configsTimesKernels() {
        return configs().flatMap(a -> CpuInfo.kernels().stream().map(k -> Arguments.of(a.get()[0], a.get()[1], k)));
    }

    @ParameterizedTest(name = "{0}, kernel {2}")
    @MethodSource("configsTimesKernels")
    void seededRandomBatchesMatchTheReference(String name, RoutingConfig c, int kernel) {
        useKernel(kernel);
        SplittableRandom rnd = new SplittableRandom(name.hashCode());
        for (int trial = 0; trial < 3; trial++) {
            int t = switch (trial) {
                case 0 -> 1;
                case 1 -> 37;
                default -> 700;
            };
            float[] z = SyntheticLogits.generate(t, c.numExperts(), 1.0f + trial, rnd.nextLong());
            float[] b = trial == 0 ? null : randomBias(rnd, c.numExperts(), 0.05f);
            assertSame(c, z, b, name + " trial " + trial);
        }
    }

    @ParameterizedTest(name = "{0}, kernel {2}")
    @MethodSource("configsTimesKernels")
    void handMadeEdgeCasesMatchTheReference(String name, RoutingConfig c, int kernel) {
        useKernel(kernel);
        int n = c.numExperts();
        SplittableRandom rnd = new SplittableRandom(11);
        int t = 64;
        float[] z = new float[t * n];
        for (int tok = 0; tok < t; tok++) {
            for (int i = 0; i < n; i++) {
                z[tok * n + i] = switch (tok % 8) {
                    case 0 -> 0f;                                        // every score ties
                    case 1 -> (float) Math.floor(rnd.nextDouble() * 3);  // a few distinct values, many ties
                    case 2 -> (float) (rnd.nextDouble() * 400 - 200);    // saturated and subnormal sigmoid
                    case 3 -> -90f - (float) rnd.nextDouble() * 20;      // all scores in the subnormal range
                    case 4 -> Float.MAX_VALUE * (i % 2 == 0 ? 1 : -1);   // extreme finite logits
                    case 5 -> i == n - 1 ? 5f : -5f;                     // winner in the last lane (tail)
                    case 6 -> -0.0f;                                     // signed zeros
                    default -> (float) rnd.nextGaussian() * 1e-3f;       // near-ties
                };
            }
        }
        assertSame(c, z, null, name + " edge rows");
        float[] tiedBias = new float[n];
        Arrays.fill(tiedBias, 0.25f);
        assertSame(c, z, tiedBias, name + " edge rows, constant bias");
        assertSame(c, z, randomBias(rnd, c.numExperts(), 2f), name + " edge rows, large bias");
    }

    @Test
    void groupsKeptBeyondKDoNotCorruptTheFloor() {
        // The fuzzer's case: one group holds the winner and a few small scores, all others tie far below.
        RoutingConfig c = RoutingConfig.deepseekV3().toBuilder().groups(16).topkGroups(6).topk(4).groupScore(GroupScore.MAX).build();
        float[] z = new float[256];
        Arrays.fill(z, -50f);
        Arrays.fill(z, 0, 10, -30.784313f);
        z[10] = -26.862747f;
        z[11] = -48.737743f;
        z[12] = -26.656754f;
        z[13] = 49.69976f;
        z[14] = -49.656685f;
        assertArrayEquals(new int[] {13, 12, 10, 0}, Routers.create(c, Backend.CPU).route(z, null).ids());
        assertSame(c, z, null, "M > K floor case");
    }

    @Test
    void conformanceVectorOnTheNativeKernel() {
        RoutingResult r = Routers.create(ReferenceRouterTest.CONFORMANCE, Backend.CPU)
                .route(ReferenceRouterTest.CONFORMANCE_Z, ReferenceRouterTest.CONFORMANCE_B);
        assertArrayEquals(new int[] {2, 3, 4}, r.ids());
        assertArrayEquals(new long[] {0, 0, 1, 1, 1, 0, 0, 0}, r.expertLoad());
    }

    @Test
    void largeBatchUsesAllThreadsAndStillMatches() {
        moe_h.moe_cpu_set_kernel(moe_h.MOE_CPU_KERNEL_AUTO());
        RoutingConfig c = RoutingConfig.deepseekV3();
        float[] z = SyntheticLogits.generate(5000, 256, 1.0f, 99);
        assertSame(c, z, randomBias(new SplittableRandom(5), 256, 0.1f), "T=5000");
    }

    @Test
    void nonFiniteRowIsReportedLikeTheReference() {
        RoutingConfig c = RoutingConfig.deepseekV3();
        Router cpu = Routers.create(c, Backend.CPU);
        float[] z = SyntheticLogits.generate(3000, 256, 0.5f, 2);
        z[2345 * 256 + 255] = Float.NaN;   // last lane: the scalar tail is not involved for N=256
        z[2999 * 256 + 3] = Float.POSITIVE_INFINITY;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, z);
            MemorySegment load = arena.allocate(ValueLayout.JAVA_LONG, 256);
            var e = assertThrows(NonFiniteInputException.class, () -> cpu.route(zs, 3000, null,
                    arena.allocate(4L * 3000 * 8), arena.allocate(4L * 3000 * 8), load));
            assertEquals(2345, e.row());
            assertEquals(255, e.column());
            assertEquals(0, Arrays.stream(load.toArray(ValueLayout.JAVA_LONG)).sum(), "load must stay unchanged");
        }
        RoutingConfig odd = c.toBuilder().experts(36).groups(4).topkGroups(2).topk(6).build();
        float[] z2 = new float[5 * 36];
        z2[4 * 36 + 35] = Float.NEGATIVE_INFINITY;  // in the scalar tail of a 36-wide row
        var e2 = assertThrows(NonFiniteInputException.class, () -> Routers.create(odd, Backend.CPU).route(z2, null));
        assertEquals(4, e2.row());
        assertEquals(35, e2.column());
    }

    @Test
    void emptyBatchAndZeroSumRows() {
        RoutingConfig c = RoutingConfig.builder().experts(16).groups(1).topkGroups(1).topk(2).build();
        Router cpu = Routers.create(c, Backend.CPU);
        assertEquals(0, cpu.route(new float[0], null).ids().length);
        float[] z = new float[3 * 16];
        Arrays.fill(z, -200f);
        RoutingResult r = cpu.route(z, null);
        assertEquals(3, r.stats().zeroSumRows());
        assertArrayEquals(new float[6], r.weights());
    }

    @Test
    void heapSegmentsAreRefusedWithAClearMessage() {
        Router cpu = Routers.create(RoutingConfig.deepseekV3(), Backend.CPU);
        var e = assertThrows(IllegalArgumentException.class, () -> cpu.route(MemorySegment.ofArray(new float[256]), 1, null,
                MemorySegment.ofArray(new int[8]), MemorySegment.ofArray(new float[8]), null));
        assertEquals(true, e.getMessage().contains("off-heap"), e.getMessage());
    }

    private static void useKernel(int kernel) {
        assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_cpu_set_kernel(kernel));
        assertEquals(kernel, CpuInfo.kernel());
    }

    private static float[] randomBias(SplittableRandom rnd, int n, float scale) {
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            b[i] = (float) (rnd.nextDouble() * 2 - 1) * scale;
        }
        return b;
    }

    static void assertSame(RoutingConfig c, float[] z, float[] b, String what) {
        RoutingResult ref = Routers.reference(c).route(z, b);
        RoutingResult cpu = Routers.create(c, Backend.CPU).route(z, b);
        assertArrayEquals(ref.ids(), cpu.ids(), what + ": ids differ");
        for (int i = 0; i < ref.weights().length; i++) {
            if (Float.floatToRawIntBits(ref.weights()[i]) != Float.floatToRawIntBits(cpu.weights()[i])) {
                throw new AssertionError(what + ": weight " + i + " differs: java " + ref.weights()[i] + " cpu " + cpu.weights()[i]);
            }
        }
        assertArrayEquals(ref.expertLoad(), cpu.expertLoad(), what + ": load differs");
        assertEquals(ref.stats(), cpu.stats(), what + ": stats differ");
        // The CUDA kernel's per-token code, run on the host: the GPU arithmetic checked without a GPU.
        RoutingResult gpu = cudaKernelOnHost(c, z, b);
        assertArrayEquals(ref.ids(), gpu.ids(), what + ": CUDA kernel code, ids differ");
        for (int i = 0; i < ref.weights().length; i++) {
            if (Float.floatToRawIntBits(ref.weights()[i]) != Float.floatToRawIntBits(gpu.weights()[i])) {
                throw new AssertionError(what + ": CUDA kernel code, weight " + i + " differs: java " + ref.weights()[i] + " cuda "
                        + gpu.weights()[i]);
            }
        }
        assertArrayEquals(ref.expertLoad(), gpu.expertLoad(), what + ": CUDA kernel code, load differs");
        assertEquals(ref.stats(), gpu.stats(), what + ": CUDA kernel code, stats differ");
    }

    /** The testkit's gate twin: the warp code of moe_gate_cuda (native/src/shared/gate_warp.cuh), lane by lane on the CPU. */
    static RoutingResult cudaKernelOnHost(RoutingConfig c, float[] z, float[] b) {
        MoeTestkit.load();
        int n = c.numExperts();
        int t = z.length / n;
        int k = c.topk();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cfg = NativeCpuRouter.toNative(c, arena);
            MemorySegment zs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, z);
            MemorySegment bs = b == null ? MemorySegment.NULL : arena.allocateFrom(ValueLayout.JAVA_FLOAT, b);
            MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, (long) t * k));
            MemorySegment w = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, (long) t * k));
            MemorySegment load = arena.allocate(ValueLayout.JAVA_LONG, n);
            MemorySegment stats = dev.moe.bindings.moe_gate_stats.allocate(arena);
            int status = moe_testkit_h.moe_testkit_gate_cuda_host(cfg, zs, (long) t * n, bs, b == null ? 0 : n, t, ids, (long) t * k, w,
                    (long) t * k, load, n, stats);
            NativeStatus.check(status, "moe_testkit_gate_cuda_host");
            return new RoutingResult(t, k, ids.asSlice(0, 4L * t * k).toArray(ValueLayout.JAVA_INT),
                    w.asSlice(0, 4L * t * k).toArray(ValueLayout.JAVA_FLOAT), load.toArray(ValueLayout.JAVA_LONG),
                    new GateStats(t, dev.moe.bindings.moe_gate_stats.zero_sum_rows(stats)));
        }
    }
}

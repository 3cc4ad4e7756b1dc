package dev.moe.fp8;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.moe.backend.Backend;
import dev.moe.backend.Backends;
import dev.moe.bindings.moe_fp8_gemm_args;
import dev.moe.bindings.moe_h;
import dev.moe.bindings.moe_testkit_h;
import dev.moe.nativecall.Fp8GemmArgs;
import dev.moe.nativelib.MoeNative;
import dev.moe.nativelib.MoeTestkit;

/**
 * The CUDA FP8 GEMMs without a GPU: each kernel's block code (shared/fp8_gemm_*.cuh) run on the host by the
 * testkit's twin, thread by thread between the kernel's barriers, equals the Java reference bit for bit on
 * partial tiles of every kind; and moe_fp8_gemm_cuda checks its arguments before the device and answers
 * MOE_STATUS_NO_GPU without one.
 */
class CudaGemmHostTest {
    private static final MemorySegment P = MemorySegment.ofAddress(4096);

    /** The kernels the twin runs: EXACT, MMA's FP8 and BF16 paths, WGMMA, WGMMA_TMA. */
    private static final int[] TWIN_KERNELS = {moe_h.MOE_GEMM_KERNEL_EXACT(), moe_h.MOE_GEMM_KERNEL_MMA(),
        moe_testkit_h.MOE_TESTKIT_GEMM_KERNEL_MMA_BF16(), moe_h.MOE_GEMM_KERNEL_WGMMA(), moe_h.MOE_GEMM_KERNEL_WGMMA_TMA()};

    static QuantizedTensor random(SplittableRandom rnd, int rows, int cols, Fp8Block block, boolean extremes) {
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * (extremes && i % 7 == 0 ? 1e3 : 1.0));
        }
        return BlockQuantizer.quantize(x, rows, cols, block, false);
    }

    static float[] hostCuda(QuantizedTensor a, QuantizedTensor b) {
        return hostCuda(a, b, moe_h.MOE_GEMM_KERNEL_EXACT());
    }

    /** The block code of CUDA GEMM kernel {@code kernel} (MOE_GEMM_KERNEL_*, or the twin's BF16 path) run on the host. */
    static float[] hostCuda(QuantizedTensor a, QuantizedTensor b, int kernel) {
        try (Arena arena = Arena.ofConfined()) {
            long cn = (long) a.rows() * b.rows();
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, cn));
            twin(operands(Fp8GemmArgs.allocate(arena, kernel).dense(a.rows(), b.rows(), a.cols()), arena, a, b.codes(), b.scales(), c, cn));
            return c.asSlice(0, 4 * cn).toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /** A's and B's codes and scales copied to host memory, and C. */
    private static Fp8GemmArgs operands(Fp8GemmArgs args, Arena arena, QuantizedTensor a, byte[] bCodes, float[] bScales, MemorySegment c,
                                        long cCount) {
        return args.operands(arena.allocateFrom(ValueLayout.JAVA_BYTE, a.codes()), a.codes().length,
                arena.allocateFrom(ValueLayout.JAVA_FLOAT, a.scales()), a.scales().length, arena.allocateFrom(ValueLayout.JAVA_BYTE, bCodes),
                bCodes.length, arena.allocateFrom(ValueLayout.JAVA_FLOAT, bScales), bScales.length, c, cCount);
    }

    private static void twin(Fp8GemmArgs args) {
        MoeTestkit.load();
        assertEquals(moe_h.MOE_STATUS_OK(), moe_testkit_h.moe_testkit_fp8_gemm_cuda_host(args.segment()));
    }

    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @CsvSource({"1, 1, 1", "1, 64, 128", "63, 65, 31", "64, 64, 129", "65, 130, 300", "130, 7, 256", "3, 200, 1000",
        "128, 128, 384"})
    void hostRunOfTheKernelEqualsTheReferenceBitForBit(int m, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(m * 31L + n * 7L + k);
        QuantizedTensor a = random(rnd, m, k, Fp8Block.ROW_1X128, true);
        QuantizedTensor b = random(rnd, n, k, Fp8Block.TILE_128X128, false);
        assertArrayEquals(Fp8GemmReference.gemm(a, b), hostCuda(a, b));
    }

    /**
     * The tensor-core kernel's staging, fragment and promotion code with mma.sync emulated from its PTX
     * layout (products in increasing k): bit-identical to the reference on partial tiles, k not a multiple
     * of 16 (the byte staging path) and several chunks. A wrong fragment index moves products between
     * outputs and fails this.
     */
    @ParameterizedTest(name = "tensor cores m={0} n={1} k={2} bf16={3}")
    @CsvSource({"1, 1, 1, false", "16, 8, 32, false", "63, 65, 31, false", "64, 64, 129, false", "65, 130, 300, false",
        "130, 7, 256, false", "3, 200, 1000, false", "128, 128, 384, false",
        "1, 1, 1, true", "16, 8, 32, true", "63, 65, 31, true", "65, 130, 300, true", "128, 128, 384, true"})
    void hostRunOfTheTensorCoreKernelEqualsTheReferenceBitForBit(int m, int n, int k, boolean bf16) {
        SplittableRandom rnd = new SplittableRandom(m * 17L + n * 5L + k);
        QuantizedTensor a = random(rnd, m, k, Fp8Block.ROW_1X128, true);
        QuantizedTensor b = random(rnd, n, k, Fp8Block.TILE_128X128, false);
        int kernel = bf16 ? moe_testkit_h.MOE_TESTKIT_GEMM_KERNEL_MMA_BF16() : moe_h.MOE_GEMM_KERNEL_MMA();
        assertArrayEquals(Fp8GemmReference.gemm(a, b), hostCuda(a, b, kernel));
    }

    /**
     * The Hopper kernel's staging, descriptor and promotion code with each wgmma emulated by decoding its
     * shared-memory descriptors (128B swizzle) and the m64n128 accumulator layout: bit-identical to the
     * reference. A staging byte the descriptors do not describe, or a wrong accumulator index, fails this.
     */
    @ParameterizedTest(name = "wgmma m={0} n={1} k={2}")
    @CsvSource({"1, 1, 1", "16, 8, 32", "63, 65, 31", "64, 64, 129", "65, 130, 300", "130, 7, 256", "3, 200, 1000",
        "128, 128, 384"})
    void hostRunOfTheWgmmaKernelEqualsTheReferenceBitForBit(int m, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(m * 13L + n * 3L + k);
        QuantizedTensor a = random(rnd, m, k, Fp8Block.ROW_1X128, true);
        QuantizedTensor b = random(rnd, n, k, Fp8Block.TILE_128X128, false);
        assertArrayEquals(Fp8GemmReference.gemm(a, b), hostCuda(a, b, moe_h.MOE_GEMM_KERNEL_WGMMA()));
    }

    /**
     * The pipelined Hopper kernel (producer and two consumer warpgroups over a ring of TMA-filled stages,
     * persistent blocks) with its roles run as turn-taking threads, barriers by the PTX phase rules, TMA
     * boxes and wgmmas emulated: bit-identical to the reference. Shapes where each of the emulation's three
     * blocks walks several tiles and the seven-stage ring wraps inside a tile (k = 1000: 8 chunks) and across
     * tiles. A wait on the wrong barrier parity reads an unfilled (NaN) or stale stage, or deadlocks.
     */
    @ParameterizedTest(name = "wgmma pipeline m={0} n={1} k={2}")
    // 1157 x 260, k 128: 30 tiles on the twin's 3 blocks (10 each, one chunk per tile: the producer runs
    // several tiles ahead of the consumers), raster bands of 8 + 2 row tiles. 4096 x 4096: the 1024 tiles of
    // the GPU test, each block walking 341 of them (the GPU run's gridcap phase: the same 3 blocks).
    @CsvSource({"1, 1, 1", "63, 65, 31", "130, 7, 1000", "300, 260, 384", "520, 130, 256", "129, 129, 40", "1157, 260, 128",
        "4096, 4096, 128"})
    void hostRunOfThePipelinedWgmmaKernelEqualsTheReferenceBitForBit(int m, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(m * 19L + n * 11L + k);
        QuantizedTensor a = random(rnd, m, k, Fp8Block.ROW_1X128, true);
        QuantizedTensor b = random(rnd, n, k, Fp8Block.TILE_128X128, false);
        assertArrayEquals(Fp8GemmReference.gemm(a, b), hostCuda(a, b, moe_h.MOE_GEMM_KERNEL_WGMMA_TMA()));
    }

    @Test
    void saturatedCodesAndZeros() {
        int m = 5;
        int n = 70;
        int k = 200;
        byte[] ac = new byte[m * k];
        byte[] bc = new byte[n * k];
        for (int i = 0; i < ac.length; i++) {
            ac[i] = (byte) (i % 3 == 0 ? 0x7E : i % 3 == 1 ? 0xFE : 0x80);  // +448, -448, -0
        }
        for (int i = 0; i < bc.length; i++) {
            bc[i] = (byte) (i % 5 == 0 ? 0x7E : 0x01);
        }
        QuantizedTensor a = new QuantizedTensor(m, k, Fp8Block.ROW_1X128, false, ac, filled(m * 2, 3.5f));
        QuantizedTensor b = new QuantizedTensor(n, k, Fp8Block.TILE_128X128, false, bc, filled(2, 1e30f));
        assertArrayEquals(Fp8GemmReference.gemm(a, b), hostCuda(a, b));  // includes +-infinity results
    }

    static float[] filled(int count, float v) {
        float[] f = new float[count];
        java.util.Arrays.fill(f, v);
        return f;
    }

    /** moe_fp8_gemm_cuda with m=2, n=3, k=130 (a 260, sa 4, b 390, sb 2, c 6), fake device pointers, edited. */
    private static int cuda(int kernel, java.util.function.Consumer<MemorySegment> edit) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment g = Fp8GemmArgs.allocate(arena, kernel).dense(2, 3, 130).operands(P, 260, P, 4, P, 390, P, 2, P, 6)
                    .on(0, MemorySegment.NULL).segment();
            edit.accept(g);
            return moe_h.moe_fp8_gemm_cuda(g);
        }
    }

    @Test
    void argumentChecksAndNoGpu() {
        try {
            MoeNative.cuda();
        } catch (RuntimeException | LinkageError e) {
            assumeTrue(false, "CUDA library not loadable: " + e.getMessage());
        }
        int size = moe_h.MOE_STATUS_BAD_BUFFER_SIZE();
        int nul = moe_h.MOE_STATUS_NULL_POINTER();
        int exact = moe_h.MOE_GEMM_KERNEL_EXACT();
        int wgmma = moe_h.MOE_GEMM_KERNEL_WGMMA();
        MemorySegment n = MemorySegment.NULL;
        assertEquals(size, cuda(exact, g -> moe_fp8_gemm_args.a_count(g, 259)));
        assertEquals(size, cuda(exact, g -> moe_fp8_gemm_args.b_scales_count(g, 1)));
        assertEquals(size, cuda(exact, g -> moe_fp8_gemm_args.m(g, -2)));
        assertEquals(nul, cuda(exact, g -> moe_fp8_gemm_args.c(g, n)));
        assertEquals(size, cuda(wgmma, g -> moe_fp8_gemm_args.a_count(g, 259)));
        java.util.function.Consumer<MemorySegment> asIs = g -> { };
        for (int kernel : new int[] {exact, wgmma}) {
            assertEquals(moe_h.MOE_STATUS_OK(), cuda(kernel, g -> {  // m = 0: nothing to do, the device is not touched
                moe_fp8_gemm_args.m(g, 0);
                moe_fp8_gemm_args.a(g, n);
                moe_fp8_gemm_args.a_count(g, 0);
                moe_fp8_gemm_args.a_scales(g, n);
                moe_fp8_gemm_args.a_scales_count(g, 0);
                moe_fp8_gemm_args.c(g, n);
                moe_fp8_gemm_args.c_count(g, 0);
            }));
        }
        MemorySegment bad = Arena.global().allocateFrom(ValueLayout.JAVA_LONG, 0, 2, 1);
        MemorySegment good = Arena.global().allocateFrom(ValueLayout.JAVA_LONG, 0, 1, 2);
        assertEquals(size, cuda(exact, g -> contiguous(g, bad, 780, 4)));
        assertEquals(size, cuda(exact, g -> contiguous(g, good, 390, 2)));
        assertEquals(nul, cuda(exact, g -> contiguous(g, n, 780, 4)));
        String detail = Backends.status(Backend.CUDA).detail();
        assumeFalse(detail.contains("GPU(s) found"), "a GPU is present: " + detail);
        int noGpu = moe_h.MOE_STATUS_NO_GPU();
        assertEquals(noGpu, cuda(exact, asIs));
        assertEquals(noGpu, cuda(wgmma, asIs));
        assertEquals(noGpu, cuda(exact, g -> contiguous(g, good, 780, 4)));
    }

    /** Two groups over the rows, with offsets and the B counts given. */
    private static void contiguous(MemorySegment g, MemorySegment offsets, long bCount, long bScalesCount) {
        moe_fp8_gemm_args.layout(g, moe_h.MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS());
        moe_fp8_gemm_args.groups(g, 2);
        moe_fp8_gemm_args.offsets(g, offsets);
        moe_fp8_gemm_args.b_count(g, bCount);
        moe_fp8_gemm_args.b_scales_count(g, bScalesCount);
    }

    /** The masked CUDA kernels (every kernel) run on the host: the reference's result, unused slots 0. */
    @ParameterizedTest(name = "masked kernel {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {0, 1, 2, 3, 4})  // TWIN_KERNELS
    void hostRunOfTheMaskedKernelsEqualsTheReference(int kernel) {
        SplittableRandom rnd = new SplittableRandom(3 + kernel);
        int experts = 5;
        int maxM = 140;  // three 64-row tiles per expert, or two 128-row ones; the last partial
        int[] counts = {0, 140, 65, 3, 130};
        java.util.List<QuantizedTensor> ws = new java.util.ArrayList<>();
        for (int e = 0; e < experts; e++) {
            ws.add(random(rnd, 130, 200, Fp8Block.TILE_128X128, false));
        }
        ExpertWeights w = ExpertWeights.of(ws);
        QuantizedTensor a = random(rnd, experts * maxM, 200, Fp8Block.ROW_1X128, true);
        float[] want = Fp8Gemm.create(dev.moe.backend.Backend.JAVA).groupedMasked(a, maxM, counts, w);
        try (Arena arena = Arena.ofConfined()) {
            long cn = (long) a.rows() * w.rows();
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, cn);
            c.fill((byte) 0x7f);  // garbage where the kernel must write zeros
            twin(operands(Fp8GemmArgs.allocate(arena, TWIN_KERNELS[kernel]).masked(experts, maxM, arena.allocateFrom(ValueLayout.JAVA_INT,
                    counts), w.rows(), w.cols()), arena, a, w.codes(), w.scales(), c, cn));
            assertArrayEquals(want, c.toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    /**
     * The grouped-contiguous launches (experts split into launches of at most 256, each block finding its
     * expert from its row tile) with every kernel's tile code, on the host: the reference's result, with
     * empty experts, partial tiles and 260 experts (two launches).
     */
    @ParameterizedTest(name = "contiguous kernel {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {0, 1, 2, 3, 4})  // TWIN_KERNELS
    void hostRunOfTheContiguousLaunchesEqualsTheReference(int kernel) {
        SplittableRandom rnd = new SplittableRandom(11 + kernel);
        int experts = 260;
        int[] offsets = new int[experts + 1];
        for (int e = 0; e < experts; e++) {
            int rows = e % 7 == 0 ? 0 : (e == 5 ? 70 : 1 + e % 3);
            offsets[e + 1] = offsets[e] + rows;
        }
        java.util.List<QuantizedTensor> ws = new java.util.ArrayList<>();
        for (int e = 0; e < experts; e++) {
            ws.add(random(rnd, 130, 40, Fp8Block.TILE_128X128, false));
        }
        ExpertWeights w = ExpertWeights.of(ws);
        QuantizedTensor a = random(rnd, offsets[experts], 40, Fp8Block.ROW_1X128, true);
        float[] want = Fp8Gemm.create(dev.moe.backend.Backend.JAVA).groupedContiguous(a, offsets, w);
        try (Arena arena = Arena.ofConfined()) {
            long cn = (long) a.rows() * w.rows();
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, cn);
            long[] off = java.util.Arrays.stream(offsets).asLongStream().toArray();
            twin(operands(Fp8GemmArgs.allocate(arena, TWIN_KERNELS[kernel]).contiguous(arena.allocateFrom(ValueLayout.JAVA_LONG, off), experts,
                    w.rows(), w.cols()), arena, a, w.codes(), w.scales(), c, cn));
            assertArrayEquals(want, c.toArray(ValueLayout.JAVA_FLOAT));
        }
    }
}

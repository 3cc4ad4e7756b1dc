package dev.moe.fp8;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.moe.backend.Backend;
import dev.moe.backend.BackendStatus;
import dev.moe.backend.Backends;
import dev.moe.bindings.moe_h;
import dev.moe.cuda.CudaDevice;

/**
 * The CUDA FP8 kernels ({@code moe_fp8_*_cuda}) against the CPU library, bit for bit: block quantisation
 * (codes and scales, both tile shapes, pow2 off and on, partial and zero tiles, unaligned pointers), the
 * encoder on all 2^32 float bit patterns and the decoder on all 256 codes. Needs a GPU; skipped with the
 * reason elsewhere (the arithmetic itself is checked without one by {@link CudaFp8HostTest}).
 */
@Tag("gpu")
class CudaFp8Test {
    private static final int DEVICE = 0;
    private static Gpu gpu;

    @BeforeAll
    static void requireGpu() {
        BackendStatus cuda = Backends.status(Backend.CUDA);
        assumeTrue(cuda.detail().contains("GPU(s) found"), "no usable GPU here: " + cuda.detail());
        gpu = new Gpu(DEVICE);
    }

    @AfterAll
    static void release() {
        if (gpu != null) {
            gpu.close();
        }
    }

    static Stream<Arguments> cases() {
        int[][] shapes = {{1, 1}, {2, 7}, {3, 130}, {5, 128}, {129, 257}, {130, 128}, {256, 384}, {300, 1000}, {1, 4099}};
        return Stream.of(shapes).flatMap(s -> Stream.of(Fp8Block.values())
                .flatMap(b -> Stream.of(false, true).map(p -> Arguments.of(s[0], s[1], b, p))));
    }

    @ParameterizedTest(name = "[{0}, {1}] {2} pow2={3}")
    @MethodSource("cases")
    void quantizeMatchesTheCpuBitForBit(int rows, int cols, Fp8Block block, boolean pow2) {
        float[] x = NativeBlockQuantizerTest.data(rows, cols, 31L * rows + cols);
        QuantizedTensor want = Fp8Quantizer.create(Backend.CPU).quantize(x, rows, cols, block, pow2);
        // Aligned device buffers (vector loads where a tile row allows them), then offset ones (scalar path).
        for (int offset : new int[] {0, 1}) {
            QuantizedTensor got = quantizeOnGpu(x, rows, cols, block, pow2, offset, 0);
            assertArrayEquals(want.codes(), got.codes(), "codes, offset " + offset);
            assertArrayEquals(bits(want.scales()), bits(got.scales()), "scales, offset " + offset);
        }
    }

    @ParameterizedTest(name = "gemm m={0} n={1} k={2}")
    @org.junit.jupiter.params.provider.CsvSource({"1, 1, 1", "63, 65, 31", "65, 130, 300", "128, 4096, 7168", "300, 257, 1000"})
    void gemmMatchesTheReferenceBitForBit(int m, int n, int k) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(m + 7L * n + 31L * k);
        QuantizedTensor a = CudaGemmHostTest.random(rnd, m, k, Fp8Block.ROW_1X128, true);
        QuantizedTensor b = CudaGemmHostTest.random(rnd, n, k, Fp8Block.TILE_128X128, false);
        assertArrayEquals(Fp8GemmReference.gemm(a, b), Fp8Gemm.create(Backend.CUDA).gemm(a, b));
    }

    @Test
    void groupedContiguousGemmMatchesTheReferenceBitForBit() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
        int[] offsets = {0, 3, 3, 100, 230, 231};
        java.util.List<QuantizedTensor> experts = new java.util.ArrayList<>();
        for (int e = 0; e < 5; e++) {
            experts.add(CudaGemmHostTest.random(rnd, 200, 300, Fp8Block.TILE_128X128, false));
        }
        ExpertWeights w = ExpertWeights.of(experts);
        QuantizedTensor a = CudaGemmHostTest.random(rnd, 231, 300, Fp8Block.ROW_1X128, true);
        assertArrayEquals(Fp8Gemm.create(Backend.JAVA).groupedContiguous(a, offsets, w),
                Fp8Gemm.create(Backend.CUDA).groupedContiguous(a, offsets, w));
    }

    /** |x| of every element: the codes without their sign bits (scales are positive). */
    static QuantizedTensor abs(QuantizedTensor q) {
        byte[] c = q.codes().clone();
        for (int i = 0; i < c.length; i++) {
            c[i] = (byte) (c[i] & 0x7f);
        }
        return new QuantizedTensor(q.rows(), q.cols(), q.block(), q.pow2(), c, q.scales());
    }

    /** The GEMMs of {@code kernel} on device 0; the test is skipped where the device does not run it. */
    static Fp8Gemm onKernel(CudaGemmKernel kernel) {
        CudaDevice d = CudaDevice.query(DEVICE);
        assumeTrue(kernel.runsOn(d.capability(), true), kernel.label() + " does not run on compute capability " + d.capabilityText());
        assertTrue(kernel.runsOn(d), "the library lacks the sm_90a image " + kernel.label() + " needs on " + d.name());
        return Fp8Gemm.cuda(DEVICE, kernel);
    }

    /** Each output within 2^-10 of sum_k |a_k||b_k| of the reference. */
    static void assertClose(float[] want, float[] bound, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            double tol = 0x1p-10 * Math.abs(bound[i]) + 1e-30;
            if (!(Math.abs(got[i] - want[i]) <= tol)) {
                throw new AssertionError(what + ", element " + i + ": " + got[i] + ", reference " + want[i] + ", tolerance " + tol);
            }
        }
    }

    static Stream<Arguments> tensorCoreShapes() {
        // k = 31 and 1000: not multiples of 16, so the TMA kernel hands them to the plain wgmma one.
        int[][] shapes = {{1, 1, 1}, {63, 65, 31}, {65, 130, 304}, {520, 130, 256}, {300, 257, 1024}, {300, 257, 1000},
            {128, 4096, 7168}};
        return Stream.of(CudaGemmKernel.MMA, CudaGemmKernel.WGMMA, CudaGemmKernel.WGMMA_TMA)
                .flatMap(kn -> Stream.of(shapes).map(s -> Arguments.of(kn, s[0], s[1], s[2])));
    }

    /**
     * Tensor cores: each output within 2^-10 of sum_k |a_k||b_k| of the reference (the tensor core adds a
     * 128-product chunk in its own order and internal precision before the FP32 promotion); grouped
     * contiguous equals dense when every expert has the same weights.
     */
    @ParameterizedTest(name = "{0} gemm m={1} n={2} k={3}")
    @MethodSource("tensorCoreShapes")
    void tensorCoreGemmIsCloseToTheReference(CudaGemmKernel kernel, int m, int n, int k) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(m + 7L * n + 31L * k);
        QuantizedTensor a = CudaGemmHostTest.random(rnd, m, k, Fp8Block.ROW_1X128, true);
        QuantizedTensor b = CudaGemmHostTest.random(rnd, n, k, Fp8Block.TILE_128X128, false);
        Fp8Gemm g = onKernel(kernel);
        float[] got = g.gemm(a, b);
        assertClose(Fp8GemmReference.gemm(a, b), Fp8GemmReference.gemm(abs(a), abs(b)), got, kernel.label());
        int[] offsets = {0, m / 3, m / 3, m};
        ExpertWeights w = ExpertWeights.of(java.util.List.of(b, b, b));
        assertArrayEquals(got, g.groupedContiguous(a, offsets, w), "grouped = dense when every expert has the same weights");
    }

    /** The default tensor-core GEMM is the fastest kernel of the device. */
    @Test
    void tensorCoresDefaultToTheFastestKernel() {
        assertEquals(CudaGemmKernel.fastestFor(CudaDevice.query(DEVICE)), Fp8Gemm.cudaTensorCores().cudaKernel());
    }

    /**
     * The TMA-fed, warp-specialised wgmma kernel gives the plain wgmma kernel's bits (the same wgmma chunks
     * and promotion per output), dense and grouped, over several tiles per block and a ring that wraps.
     */
    @ParameterizedTest(name = "wgmma with TMA = wgmma, m={0} n={1} k={2}")
    @org.junit.jupiter.params.provider.CsvSource({"129, 129, 128", "1000, 700, 2048", "4096, 512, 7168"})
    void wgmmaTmaGivesTheWgmmaKernelsBits(int m, int n, int k) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(m + 3L * n + k);
        QuantizedTensor a = CudaGemmHostTest.random(rnd, m, k, Fp8Block.ROW_1X128, true);
        QuantizedTensor b = CudaGemmHostTest.random(rnd, n, k, Fp8Block.TILE_128X128, false);
        QuantizedTensor b2 = CudaGemmHostTest.random(rnd, n, k, Fp8Block.TILE_128X128, false);
        int maxM = m / 4;
        assertTmaGivesTheWgmmaKernelsBits(a, b, new int[] {0, 1, m / 2, m / 2, m}, ExpertWeights.of(java.util.List.of(b, b2, b, b2)),
                CudaGemmHostTest.random(rnd, 4 * maxM, k, Fp8Block.ROW_1X128, true), maxM, new int[] {maxM, 0, maxM / 3, 1});
    }

    /** Dense (a x b), contiguous (a by offsets) and masked (am by counts), each against the same weights w. */
    private static void assertTmaGivesTheWgmmaKernelsBits(QuantizedTensor a, QuantizedTensor b, int[] offsets, ExpertWeights w,
            QuantizedTensor am, int maxM, int[] counts) {
        Fp8Gemm tma = onKernel(CudaGemmKernel.WGMMA_TMA);
        Fp8Gemm plain = onKernel(CudaGemmKernel.WGMMA);
        assertArrayEquals(plain.gemm(a, b), tma.gemm(a, b), "dense");
        assertArrayEquals(plain.groupedContiguous(a, offsets, w), tma.groupedContiguous(a, offsets, w), "contiguous");
        assertArrayEquals(plain.groupedMasked(am, maxM, counts, w), tma.groupedMasked(am, maxM, counts, w), "masked");
    }

    /**
     * At least 1024 output tiles of 128 x 128 per launch, so every persistent block (one per SM, fewer under
     * MOE_CUDA_GRID_CAP, which the GPU run's gridcap phase sets) walks many tiles: the ring of stages
     * carries over from tile to tile (one or two chunks per tile, fewer than the stages, so the producer
     * runs ahead into the next tiles), raster bands end inside a block's walk, and the last band is
     * partial. The TMA kernel must still give the single-warpgroup kernel's bits, dense and grouped.
     */
    @Tag("large")  // left out of the compute-sanitizer runs, where it would take minutes
    @ParameterizedTest(name = "wgmma with TMA over many tiles per block, m={0} n={1} k={2}")
    @org.junit.jupiter.params.provider.CsvSource({"4096, 4096, 128", "4160, 4096, 256"})
    void wgmmaTmaOverManyTilesPerBlockGivesTheWgmmaKernelsBits(int m, int n, int k) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(m + 5L * n + k);
        QuantizedTensor a = CudaGemmHostTest.random(rnd, m, k, Fp8Block.ROW_1X128, true);
        QuantizedTensor b = CudaGemmHostTest.random(rnd, n, k, Fp8Block.TILE_128X128, false);
        // 8 experts of 512 rows (the last one 512 or 576): 8 x 4 or 5 row tiles x 32 column tiles
        List<QuantizedTensor> experts = new ArrayList<>();
        for (int e = 0; e < 8; e++) {
            experts.add(e % 2 == 0 ? b : CudaGemmHostTest.random(rnd, n, k, Fp8Block.TILE_128X128, false));
        }
        assertTmaGivesTheWgmmaKernelsBits(a, b, new int[] {0, 512, 1024, 1536, 2048, 2560, 3072, 3584, m}, ExpertWeights.of(experts),
                CudaGemmHostTest.random(rnd, 8 * 512, k, Fp8Block.ROW_1X128, true), 512, new int[] {512, 0, 511, 1, 129, 512, 300, 512});
    }

    /** Every tensor-core kernel's grouped layouts: contiguous equals dense when every expert has the same weights; masked too. */
    @ParameterizedTest(name = "{0} grouped layouts")
    @org.junit.jupiter.params.provider.EnumSource(names = {"MMA", "WGMMA", "WGMMA_TMA"})
    void groupedLayoutsEqualTheDenseKernel(CudaGemmKernel kernel) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(17);
        int m = 140;
        int n = 200;
        QuantizedTensor a = CudaGemmHostTest.random(rnd, m, 384, Fp8Block.ROW_1X128, true);
        QuantizedTensor b = CudaGemmHostTest.random(rnd, n, 384, Fp8Block.TILE_128X128, false);
        Fp8Gemm g = onKernel(kernel);
        float[] dense = g.gemm(a, b);
        ExpertWeights w = ExpertWeights.of(java.util.List.of(b, b, b, b));
        assertArrayEquals(dense, g.groupedContiguous(a, new int[] {0, 50, 50, 120, m}, w), "contiguous");
        // masked: 4 experts x 35 slots, counts 35, 0, 20, 35 over the same rows
        int[] counts = {35, 0, 20, 35};
        float[] masked = g.groupedMasked(a, 35, counts, w);
        for (int e = 0; e < 4; e++) {
            for (int r = 0; r < 35; r++) {
                for (int c = 0; c < n; c++) {
                    int i = (e * 35 + r) * n + c;
                    assertEquals(r < counts[e] ? dense[i] : 0f, masked[i], "masked expert " + e + " row " + r + " col " + c);
                }
            }
        }
    }

    @Test
    void maskedGemmMatchesTheReference() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(6);
        int maxM = 70;
        int[] counts = {0, 70, 65, 3};
        java.util.List<QuantizedTensor> experts = new java.util.ArrayList<>();
        for (int e = 0; e < counts.length; e++) {
            experts.add(CudaGemmHostTest.random(rnd, 130, 300, Fp8Block.TILE_128X128, false));
        }
        ExpertWeights w = ExpertWeights.of(experts);
        QuantizedTensor a = CudaGemmHostTest.random(rnd, counts.length * maxM, 300, Fp8Block.ROW_1X128, true);
        float[] want = Fp8Gemm.create(Backend.JAVA).groupedMasked(a, maxM, counts, w);
        assertArrayEquals(want, Fp8Gemm.create(Backend.CUDA).groupedMasked(a, maxM, counts, w), "exact kernel");
        float[] bound = Fp8Gemm.create(Backend.JAVA).groupedMasked(abs(a), maxM, counts, w);
        float[] tc = Fp8Gemm.cudaTensorCores().groupedMasked(a, maxM, counts, w);
        for (int i = 0; i < want.length; i++) {
            if (!(Math.abs(tc[i] - want[i]) <= 0x1p-10 * Math.abs(bound[i]) + 1e-30)) {
                throw new AssertionError("tensor cores, element " + i + ": " + tc[i] + " vs " + want[i]);
            }
        }
    }

    @Test
    void nonFiniteInputSetsTheFlag() {
        int rows = 130;
        int cols = 300;
        float[] x = NativeBlockQuantizerTest.data(rows, cols, 7);
        for (Fp8Block block : Fp8Block.values()) {
            quantizeOnGpu(x, rows, cols, block, false, 0, 0);  // expects the flag to stay 0
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                float[] y = x.clone();
                y[129 * cols + 257] = bad;
                quantizeOnGpu(y, rows, cols, block, false, 0, 1);
            }
        }
    }

    @Test
    void decodeOfAll256CodesMatchesTheCpu() {
        byte[] codes = new byte[256 + 5];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) i;
        }
        float[] want = NativeFp8.decode(codes);
        try (Arena arena = Arena.ofConfined(); Gpu.Scope scope = gpu.scope()) {
            MemorySegment hostIn = arena.allocateFrom(ValueLayout.JAVA_BYTE, codes);
            MemorySegment hostOut = arena.allocate(4L * codes.length, 64);
            MemorySegment dIn = scope.alloc(codes.length + 16);
            MemorySegment dOut = scope.alloc(4L * codes.length + 16);
            for (int offset : new int[] {0, 1}) {  // vector and scalar kernels
                MemorySegment in = Gpu.offset(dIn, offset);
                MemorySegment out = Gpu.offset(dOut, 4L * offset);
                gpu.h2d(in, hostIn);
                gpu.check(moe_h.moe_fp8_e4m3_decode_cuda(DEVICE, gpu.stream, in, codes.length, out, codes.length),
                        "moe_fp8_e4m3_decode_cuda");
                gpu.d2h(hostOut, out);
                gpu.sync();
                assertArrayEquals(bits(want), bits(hostOut.toArray(ValueLayout.JAVA_FLOAT)), "offset " + offset);
            }
        }
    }

    /** All 2^32 float bit patterns in chunks of 2^26, against the CPU encoder; the first chunk also unaligned. */
    @Test
    @Tag("exhaustive")
    void encodeOfAllFloatBitPatternsMatchesTheCpu() {
        final int chunk = 1 << 26;
        final int parts = 64;
        final int part = chunk / parts;
        try (Arena arena = Arena.ofShared(); Gpu.Scope scope = gpu.scope()) {
            MemorySegment in = arena.allocate(4L * chunk, 64);
            MemorySegment want = arena.allocate(chunk, 64);
            MemorySegment got = arena.allocate(chunk, 64);
            MemorySegment dIn = scope.alloc(4L * chunk + 16);
            MemorySegment dOut = scope.alloc(chunk + 16);
            for (long base = 0; base < (1L << 32); base += chunk) {
                final int hi = (int) base;
                IntStream.range(0, parts).parallel().forEach(p -> {
                    for (int i = p * part; i < (p + 1) * part; i++) {
                        in.setAtIndex(ValueLayout.JAVA_INT, i, hi + i);
                    }
                });
                NativeFp8.encode(in, want);
                for (int offset : base == 0 ? new int[] {0, 1} : new int[] {0}) {  // vector and scalar kernels
                    final int off = offset;
                    long n = chunk - offset;
                    MemorySegment dst = got.asSlice(offset);
                    MemorySegment di = Gpu.offset(dIn, 4L * offset);
                    MemorySegment dq = Gpu.offset(dOut, offset);
                    gpu.h2d(di, in.asSlice(4L * offset));
                    gpu.check(moe_h.moe_fp8_quantize_cuda(DEVICE, gpu.stream, di, n, 1, n, moe_h.MOE_FP8_BLOCK_NONE(), 0, dq, n,
                            MemorySegment.NULL, 0, MemorySegment.NULL), "moe_fp8_quantize_cuda (encode)");
                    gpu.d2h(dst, dq);
                    gpu.sync();
                    long at = want.asSlice(offset).mismatch(dst);
                    assertEquals(-1, at, () -> "GPU and CPU encoders differ at bits 0x" + Integer.toHexString(hi + off + (int) at)
                            + " (offset " + off + ")");
                }
            }
        }
    }

    @Test
    void statusCodes() {
        try (Arena arena = Arena.ofConfined(); Gpu.Scope scope = gpu.scope()) {
            MemorySegment d = scope.alloc(4096);
            MemorySegment q = Gpu.offset(d, 2048);
            int none = moe_h.MOE_FP8_BLOCK_NONE();
            MemorySegment n = MemorySegment.NULL;
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_fp8_quantize_cuda(DEVICE, gpu.stream, d, 8, 1, 8, none, 0, q, 8, n, 0, n));
            assertEquals(moe_h.MOE_STATUS_NO_GPU(), moe_h.moe_fp8_quantize_cuda(1 << 20, gpu.stream, d, 8, 1, 8, none, 0, q, 8, n, 0, n));
            assertEquals(moe_h.MOE_STATUS_NO_GPU(), moe_h.moe_cuda_malloc(-1, 16, arena.allocate(ValueLayout.ADDRESS)));
            assertEquals(moe_h.MOE_STATUS_OUT_OF_MEMORY(), moe_h.moe_cuda_malloc(DEVICE, 1L << 60, arena.allocate(ValueLayout.ADDRESS)));
            assertEquals(2, moe_h.moe_cuda_last_error(MemorySegment.NULL, 0));  // cudaErrorMemoryAllocation, then cleared
            assertEquals(0, moe_h.moe_cuda_last_error(MemorySegment.NULL, 0));
            gpu.sync();
        }
    }

    private static QuantizedTensor quantizeOnGpu(float[] x, int rows, int cols, Fp8Block block, boolean pow2, int offset,
                                                 int expectedFlag) {
        long n = (long) rows * cols;
        long ns = block.scaleCount(rows, cols);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hx = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment hq = arena.allocate(Math.max(1, n), 64);
            MemorySegment hs = arena.allocate(4 * Math.max(1, ns), 64);
            MemorySegment hflag = arena.allocate(ValueLayout.JAVA_INT);
            try (Gpu.Scope s = gpu.scope()) {
                MemorySegment dx = Gpu.offset(s.alloc(4 * n + 16), 4L * offset);
                MemorySegment dq = Gpu.offset(s.alloc(n + 16), offset);
                MemorySegment ds = s.alloc(4 * ns);
                MemorySegment dflag = s.alloc(4);
                gpu.h2d(dx, hx);
                gpu.check(moe_h.moe_cuda_memset(DEVICE, gpu.stream, dq, 0x5a, n), "moe_cuda_memset");
                gpu.check(moe_h.moe_cuda_memset(DEVICE, gpu.stream, dflag, 0, 4), "moe_cuda_memset");
                gpu.check(moe_h.moe_fp8_quantize_cuda(DEVICE, gpu.stream, dx, n, rows, cols, block == Fp8Block.ROW_1X128
                        ? moe_h.MOE_FP8_BLOCK_1X128() : moe_h.MOE_FP8_BLOCK_128X128(), pow2 ? 1 : 0, dq, n, ds, ns, dflag),
                        "moe_fp8_quantize_cuda");
                gpu.d2h(hq.asSlice(0, n), dq);
                gpu.d2h(hs.asSlice(0, 4 * ns), ds);
                gpu.d2h(hflag, dflag);
                gpu.sync();
            }
            assertEquals(expectedFlag, hflag.get(ValueLayout.JAVA_INT, 0), "non-finite flag");
            return new QuantizedTensor(rows, cols, block, pow2, hq.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE),
                    hs.asSlice(0, 4 * ns).toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    private static int[] bits(float[] f) {
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }

    /**
     * Minimal device memory for these tests (one stream; allocations live in a {@link Scope}) over the runtime
     * helpers of moe.h; a stand-in until the library has a CUDA memory API of its own.
     */
    static final class Gpu implements AutoCloseable {
        final int device;
        final MemorySegment stream;

        Gpu(int device) {
            this.device = device;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment p = arena.allocate(ValueLayout.ADDRESS);
                check(moe_h.moe_cuda_stream_create(device, p), "moe_cuda_stream_create");
                stream = p.get(ValueLayout.ADDRESS, 0);
            }
        }

        /** A device pointer p + bytes (as a zero-length segment, the way the bindings pass pointers). */
        static MemorySegment offset(MemorySegment p, long bytes) {
            return MemorySegment.ofAddress(p.address() + bytes);
        }

        void check(int status, String call) {
            if (status != moe_h.MOE_STATUS_OK()) {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment text = arena.allocate(256);
                    int e = moe_h.moe_cuda_last_error(text, text.byteSize());
                    throw new AssertionError(call + " failed with status " + status + ", CUDA error " + e + " (" + text.getString(0) + ")");
                }
            }
        }

        private MemorySegment allocRaw(long bytes) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment p = arena.allocate(ValueLayout.ADDRESS);
                check(moe_h.moe_cuda_malloc(device, bytes, p), "moe_cuda_malloc");
                return p.get(ValueLayout.ADDRESS, 0);
            }
        }

        void h2d(MemorySegment dst, MemorySegment host) {
            check(moe_h.moe_cuda_memcpy(device, stream, dst, host, host.byteSize(), moe_h.MOE_CUDA_H2D()), "moe_cuda_memcpy H2D");
        }

        void d2h(MemorySegment host, MemorySegment src) {
            check(moe_h.moe_cuda_memcpy(device, stream, host, src, host.byteSize(), moe_h.MOE_CUDA_D2H()), "moe_cuda_memcpy D2H");
        }

        void sync() {
            check(moe_h.moe_cuda_stream_synchronize(device, stream), "moe_cuda_stream_synchronize");
        }

        /** Allocations freed (after a synchronisation) when the scope closes. */
        Scope scope() {
            return new Scope();
        }

        final class Scope implements AutoCloseable {
            private final List<MemorySegment> ptrs = new ArrayList<>();

            MemorySegment alloc(long bytes) {
                MemorySegment p = allocRaw(bytes);
                ptrs.add(p);
                return p;
            }

            @Override
            public void close() {
                sync();
                for (MemorySegment p : ptrs) {
                    check(moe_h.moe_cuda_free(device, p), "moe_cuda_free");
                }
            }
        }

        @Override
        public void close() {
            sync();
            check(moe_h.moe_cuda_stream_destroy(device, stream), "moe_cuda_stream_destroy");
        }
    }
}

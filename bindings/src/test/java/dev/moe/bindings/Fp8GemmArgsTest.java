package dev.moe.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.moe.nativelib.MoeNative;
import dev.moe.nativelib.MoeTestkit;

/**
 * The one FP8 GEMM argument struct through every entry that takes it (moe_fp8_gemm_cpu, moe_fp8_gemm_cuda
 * where the CUDA library loads, the testkit's host twin): one valid call, and the same status from each
 * for each kind of bad or reserved argument, checked before any device is touched.
 */
class Fp8GemmArgsTest {
    private static final byte ONE = 0x38;  // E4M3 code of 1.0

    @BeforeAll
    static void load() {
        MoeNative.cpu();
        MoeTestkit.load();
    }

    /** A dense 2 x 3 x 130 call (or grouped, by the caller's edits) on zeroed host buffers. */
    static MemorySegment args(Arena arena, int kernel) {
        int m = 2;
        int n = 3;
        int k = 130;
        MemorySegment g = moe_fp8_gemm_args.allocate(arena);
        moe_fp8_gemm_args.struct_size(g, (int) moe_fp8_gemm_args.sizeof());
        moe_fp8_gemm_args.kernel(g, kernel);
        moe_fp8_gemm_args.layout(g, moe_h.MOE_GEMM_LAYOUT_DENSE());
        moe_fp8_gemm_args.a_major(g, moe_h.MOE_GEMM_MAJOR_K());
        moe_fp8_gemm_args.b_major(g, moe_h.MOE_GEMM_MAJOR_K());
        moe_fp8_gemm_args.a_scale_block(g, moe_h.MOE_FP8_BLOCK_1X128());
        moe_fp8_gemm_args.b_scale_block(g, moe_h.MOE_FP8_BLOCK_128X128());
        moe_fp8_gemm_args.m(g, m);
        moe_fp8_gemm_args.n(g, n);
        moe_fp8_gemm_args.k(g, k);
        moe_fp8_gemm_args.a(g, arena.allocate(m * k).fill(ONE));
        moe_fp8_gemm_args.a_count(g, m * k);
        moe_fp8_gemm_args.a_scales(g, arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1, 1, 1, 1));
        moe_fp8_gemm_args.a_scales_count(g, 4);
        moe_fp8_gemm_args.b(g, arena.allocate(n * k).fill(ONE));
        moe_fp8_gemm_args.b_count(g, n * k);
        moe_fp8_gemm_args.b_scales(g, arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0.5f, 0.5f));
        moe_fp8_gemm_args.b_scales_count(g, 2);
        moe_fp8_gemm_args.c(g, arena.allocate(ValueLayout.JAVA_FLOAT, m * n));
        moe_fp8_gemm_args.c_count(g, m * n);
        return g;
    }

    /** The entries, each with the kernel it takes. */
    private record Entry(String name, int kernel, ToIntFunction<MemorySegment> call) {}

    private static List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        out.add(new Entry("moe_fp8_gemm_cpu", moe_h.MOE_GEMM_KERNEL_CPU(), moe_h::moe_fp8_gemm_cpu));
        out.add(new Entry("moe_testkit_fp8_gemm_cuda_host", moe_h.MOE_GEMM_KERNEL_EXACT(), moe_testkit_h::moe_testkit_fp8_gemm_cuda_host));
        try {
            MoeNative.cuda();
            out.add(new Entry("moe_fp8_gemm_cuda", moe_h.MOE_GEMM_KERNEL_EXACT(), moe_h::moe_fp8_gemm_cuda));
        } catch (RuntimeException | LinkageError e) {
            // built without nvcc: the two host entries still agree
        }
        return out;
    }

    private static void expect(int status, Consumer<MemorySegment> edit) {
        for (Entry e : entries()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment g = args(arena, e.kernel());
                edit.accept(g);
                assertEquals(status, e.call().applyAsInt(g), e.name());
            }
        }
    }

    @Test
    void aValidCallOnTheHostComputesC() {
        for (Entry e : entries().subList(0, 2)) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment g = args(arena, e.kernel());
                assertEquals(moe_h.MOE_STATUS_OK(), e.call().applyAsInt(g), e.name());
                MemorySegment c = moe_fp8_gemm_args.c(g).reinterpret(4 * 6);
                for (int i = 0; i < 6; i++) {
                    assertEquals(65f, c.getAtIndex(ValueLayout.JAVA_FLOAT, i), e.name());  // 130 * 1 * 1 * 0.5
                }
            }
        }
    }

    @Test
    void theStructCarriesItsSize() {
        expect(moe_h.MOE_STATUS_INVALID_CONFIG(), g -> moe_fp8_gemm_args.struct_size(g, 192));
        for (Entry e : entries()) {
            assertEquals(moe_h.MOE_STATUS_NULL_POINTER(), e.call().applyAsInt(MemorySegment.NULL), e.name());
        }
    }

    @Test
    void eachEntryTakesOnlyItsKernels() {
        for (Entry e : entries()) {
            try (Arena arena = Arena.ofConfined()) {
                int other = e.kernel() == moe_h.MOE_GEMM_KERNEL_CPU() ? moe_h.MOE_GEMM_KERNEL_WGMMA_TMA() : moe_h.MOE_GEMM_KERNEL_CPU();
                assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), e.call().applyAsInt(args(arena, other)), e.name());
                assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), e.call().applyAsInt(args(arena, 99)), e.name());
            }
        }
    }

    /** The backward GEMMs' layouts, majors and scale blocks fit the struct and are refused as not implemented. */
    @Test
    void reservedTrainingArgumentsAreNotImplementedYet() {
        int notYet = moe_h.MOE_STATUS_NOT_IMPLEMENTED();
        expect(notYet, g -> moe_fp8_gemm_args.layout(g, moe_h.MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS_K()));
        expect(notYet, g -> moe_fp8_gemm_args.b_major(g, moe_h.MOE_GEMM_MAJOR_MN()));  // activation gradient dY·W
        expect(notYet, g -> {  // weight gradient dYᵀ·X
            moe_fp8_gemm_args.a_major(g, moe_h.MOE_GEMM_MAJOR_MN());
            moe_fp8_gemm_args.b_major(g, moe_h.MOE_GEMM_MAJOR_MN());
        });
        expect(notYet, g -> moe_fp8_gemm_args.a_scale_block(g, moe_h.MOE_FP8_BLOCK_128X128()));
        expect(notYet, g -> moe_fp8_gemm_args.b_scale_block(g, moe_h.MOE_FP8_BLOCK_NONE()));
        expect(notYet, g -> moe_fp8_gemm_args.lda(g, 131));
    }

    @Test
    void undefinedValuesAreInvalid() {
        int invalid = moe_h.MOE_STATUS_INVALID_CONFIG();
        expect(invalid, g -> moe_fp8_gemm_args.layout(g, 9));
        expect(invalid, g -> moe_fp8_gemm_args.a_major(g, 2));
        expect(invalid, g -> moe_fp8_gemm_args.b_scale_block(g, -1));
    }

    @Test
    void shapesAndCountsAreCheckedAlike() {
        int size = moe_h.MOE_STATUS_BAD_BUFFER_SIZE();
        expect(size, g -> moe_fp8_gemm_args.a_count(g, 259));
        expect(size, g -> moe_fp8_gemm_args.b_scales_count(g, 1));
        expect(size, g -> moe_fp8_gemm_args.ldc(g, -3));
        expect(moe_h.MOE_STATUS_NULL_POINTER(), g -> moe_fp8_gemm_args.c(g, MemorySegment.NULL));
        expect(moe_h.MOE_STATUS_NULL_POINTER(), g -> moe_fp8_gemm_args.layout(g, moe_h.MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS()));
        MemorySegment offsets = Arena.global().allocateFrom(ValueLayout.JAVA_LONG, 0, 1, 2);
        expect(size, g -> {  // two groups need two B matrices
            moe_fp8_gemm_args.layout(g, moe_h.MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS());
            moe_fp8_gemm_args.groups(g, 2);
            moe_fp8_gemm_args.offsets(g, offsets);
        });
        expect(size, g -> {  // m must be offsets[E]
            moe_fp8_gemm_args.layout(g, moe_h.MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS());
            moe_fp8_gemm_args.groups(g, 1);
            moe_fp8_gemm_args.offsets(g, offsets);
        });
        expect(size, g -> {  // m must be E * max_m
            moe_fp8_gemm_args.layout(g, moe_h.MOE_GEMM_LAYOUT_GROUPED_MASKED());
            moe_fp8_gemm_args.groups(g, 1);
            moe_fp8_gemm_args.max_m(g, 3);
            moe_fp8_gemm_args.counts(g, offsets);
        });
    }
}

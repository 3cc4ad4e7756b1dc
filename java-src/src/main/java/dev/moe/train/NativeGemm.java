package dev.moe.train;

import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import dev.moe.bindings.moe_h;
import dev.moe.nativelib.MoeNative;
import dev.moe.nativecall.NativeStatus;

/**
 * The native CPU {@link Gemm} ({@code moe_f32_gemm_cpu}: packed panels, a 6×16 AVX2 or 6×32 AVX-512
 * register tile with the same bits,
 * OpenMP over row blocks, or over the entries of a batch). The float arrays go to native code without a copy: the call is made through a
 * critical downcall handle that may pass heap memory (the garbage collector waits for the few
 * milliseconds a product takes).
 */
public final class NativeGemm implements Gemm {
    private final MethodHandle handle;
    private final Elementwise elementwise;

    /**
     * Loads the CPU library.
     *
     * @throws dev.moe.nativelib.NativeLibraryException if it cannot be loaded
     */
    public NativeGemm() {
        MoeNative.cpu();
        handle = Linker.nativeLinker().downcallHandle(moe_h.moe_f32_gemm_cpu$address(), moe_h.moe_f32_gemm_cpu$descriptor(),
                Linker.Option.critical(true));
        elementwise = new NativeElementwise();
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda, float[] b,
                     int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        gemmBatched(transA, transB, new long[] {m, n, k}, new long[] {aOff, bOff, cOff}, a, lda, b, ldb, beta, c, ldc);
    }

    @Override
    public void gemmBatched(boolean transA, boolean transB, long[] dims, long[] offsets, float[] a, int lda, float[] b,
                            int ldb, float beta, float[] c, int ldc) {
        Gemm.checkBatch(dims, offsets);
        for (int i = 0; i < dims.length / 3; i++) {
            Gemm.checkViews(transA, transB, (int) dims[3 * i], (int) dims[3 * i + 1], (int) dims[3 * i + 2], a,
                    (int) offsets[3 * i], lda, b, (int) offsets[3 * i + 1], ldb, beta, c, (int) offsets[3 * i + 2], ldc);
        }
        int status;
        try {
            status = (int) handle.invokeExact(transA ? 1 : 0, transB ? 1 : 0, (long) (dims.length / 3),
                    MemorySegment.ofArray(dims), MemorySegment.ofArray(offsets), MemorySegment.ofArray(a), (long) lda,
                    (long) a.length, MemorySegment.ofArray(b), (long) ldb, (long) b.length, beta, MemorySegment.ofArray(c),
                    (long) ldc, (long) c.length);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        NativeStatus.check(status, "moe_f32_gemm_cpu");
    }

    /** {@return the native CPU element-wise kernels} */
    @Override
    public Elementwise elementwise() {
        return elementwise;
    }

    @Override
    public String name() {
        return "cpu";
    }
}

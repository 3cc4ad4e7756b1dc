package dev.moe.train;

import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import dev.moe.bindings.moe_h;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.MoeNative;

/**
 * The native CPU {@link Elementwise} ({@code moe_swiglu_cpu}, {@code moe_softmax_causal_cpu}: 8-lane AVX2
 * with the gate's vector exp, OpenMP over rows), bit-identical to the Java reference. Arrays are passed
 * without a copy through critical downcalls, as in {@link NativeGemm}.
 */
final class NativeElementwise implements Elementwise {
    private final MethodHandle swiglu;
    private final MethodHandle softmax;

    /** Loads the CPU library ({@link dev.moe.nativelib.NativeLibraryException} if it cannot). */
    NativeElementwise() {
        MoeNative.cpu();
        Linker linker = Linker.nativeLinker();
        swiglu = linker.downcallHandle(moe_h.moe_swiglu_cpu$address(), moe_h.moe_swiglu_cpu$descriptor(),
                Linker.Option.critical(true));
        softmax = linker.downcallHandle(moe_h.moe_softmax_causal_cpu$address(), moe_h.moe_softmax_causal_cpu$descriptor(),
                Linker.Option.critical(true));
    }

    @Override
    public void swigluForward(float[] h13, float[] act, int rows, int width) {
        checkRows(rows, width, h13, 2, act, 1);
        callSwiglu(0, rows, width, h13, h13, act);
    }

    @Override
    public void swigluBackward(float[] dact, float[] h13, float[] dh13, int rows, int width) {
        checkRows(rows, width, h13, 2, dh13, 2);
        checkRows(rows, width, dact, 1, dact, 1);
        callSwiglu(1, rows, width, h13, dact, dh13);
    }

    @Override
    public void softmaxCausal(float[] x, int count, int seq, float scale) {
        checkMatrices(count, seq, scale, x, x);
        int status = callSoftmax(0, count, seq, scale, x, x);
        if (status == moe_h.MOE_STATUS_NON_FINITE_INPUT()) {
            throw new IllegalArgumentException("an attention score is not finite: the model has diverged");
        }
        NativeStatus.check(status, "moe_softmax_causal_cpu");
    }

    @Override
    public void softmaxCausalBackward(float[] probs, float[] dp, int count, int seq, float scale) {
        checkMatrices(count, seq, scale, probs, dp);
        NativeStatus.check(callSoftmax(1, count, seq, scale, probs, dp), "moe_softmax_causal_cpu");
    }

    private void callSwiglu(int backward, int rows, int width, float[] h13, float[] dact, float[] out) {
        int status;
        try {
            status = (int) swiglu.invokeExact(backward, (long) rows, (long) width, MemorySegment.ofArray(h13),
                    (long) h13.length, MemorySegment.ofArray(dact), (long) dact.length, MemorySegment.ofArray(out),
                    (long) out.length);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        NativeStatus.check(status, "moe_swiglu_cpu");
    }

    private int callSoftmax(int backward, int count, int seq, float scale, float[] probs, float[] x) {
        try {
            return (int) softmax.invokeExact(backward, (long) count, (long) seq, scale, MemorySegment.ofArray(probs),
                    (long) probs.length, MemorySegment.ofArray(x), (long) x.length);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** The shapes' checks in Java, before native code sees the arrays. */
    private static void checkRows(int rows, int width, float[] in, int inWidths, float[] out, int outWidths) {
        if (rows < 0 || width < 0) {
            throw new IllegalArgumentException("rows and width must be >= 0, got " + rows + " and " + width);
        }
        long need = (long) rows * width;
        if (in.length < need * inWidths || out.length < need * outWidths) {
            throw new IllegalArgumentException("SwiGLU of " + rows + " rows of width " + width + " needs arrays of "
                    + need * inWidths + " and " + need * outWidths + " floats, got " + in.length + " and " + out.length);
        }
    }

    private static void checkMatrices(int count, int seq, float scale, float[] probs, float[] x) {
        if (count < 0 || seq < 0 || !(scale > 0) || !Float.isFinite(scale)) {
            throw new IllegalArgumentException("softmax of " + count + " matrices of " + seq + " rows at scale " + scale
                    + ": counts must be >= 0 and the scale finite and > 0");
        }
        long need = (long) count * seq * seq;
        if (x.length < need || probs.length < need) {
            throw new IllegalArgumentException(count + " score matrices of " + seq + "x" + seq + " need " + need
                    + " floats, got " + Math.min(x.length, probs.length));
        }
    }

    @Override
    public String toString() {
        return "cpu";
    }
}

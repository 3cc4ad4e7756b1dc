package dev.moe.fp8;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link E4m3#encode} with the Java Vector API, eight floats at a time and branch-free: the same
 * integer arithmetic on the float bits, every case computed and the right one selected per lane, so
 * the codes are bit-identical to the scalar reference. Needs {@code --add-modules jdk.incubator.vector}
 * (check {@link Fp8Gemm#vectorApiAvailable()}).
 */
public final class E4m3Vector {
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int L = I.length();

    private E4m3Vector() {}

    /**
     * out[i] = E4m3.encode(in[i]) for i in [0, in.length); entries of {@code out} beyond are left as they are.
     *
     * @param in  the values
     * @param out receives the codes; at least as long as {@code in}
     * @throws IllegalArgumentException if {@code out} is shorter than {@code in}
     */
    public static void encode(float[] in, byte[] out) {
        if (out.length < in.length) {
            throw new IllegalArgumentException("output holds " + out.length + " codes, input " + in.length + " floats");
        }
        int[] codes = new int[L];
        int i = 0;
        for (; i + L <= in.length; i += L) {
            encode8(FloatVector.fromArray(F, in, i).reinterpretAsInts()).intoArray(codes, 0);
            for (int j = 0; j < L; j++) {
                out[i + j] = (byte) codes[j];
            }
        }
        for (; i < in.length; i++) {
            out[i] = E4m3.encode(in[i]);
        }
    }

    private static IntVector encode8(IntVector bits) {
        IntVector sign = bits.lanewise(VectorOperators.LSHR, 24).and(0x80);
        IntVector a = bits.and(0x7fffffff);
        IntVector exp = a.lanewise(VectorOperators.LSHR, 23);
        // Normal range: round the significand to 3 bits, half to even, and rebias 127 -> 7.
        IntVector normal = a.add(0x7ffff).add(a.lanewise(VectorOperators.LSHR, 20).and(1))
                .lanewise(VectorOperators.LSHR, 20).sub((127 - 7) << 3);
        // Subnormal range (2^-10 <= |x| < 2^-6): round m / 2^(141 - exp) to an integer, half to even.
        IntVector m = a.and(0x7fffff).or(0x800000);
        IntVector shift = IntVector.broadcast(I, 141).sub(exp);
        IntVector q = m.lanewise(VectorOperators.LSHR, shift);
        IntVector one = IntVector.broadcast(I, 1);
        IntVector rem = m.and(one.lanewise(VectorOperators.LSHL, shift).sub(1));
        IntVector half = one.lanewise(VectorOperators.LSHL, shift.sub(1));
        VectorMask<Integer> up = rem.compare(VectorOperators.GT, half)
                .or(rem.compare(VectorOperators.EQ, half).and(q.and(1).compare(VectorOperators.NE, 0)));
        IntVector sub = q.add(one, up);
        IntVector code = IntVector.zero(I)
                .blend(sub, exp.compare(VectorOperators.GE, 117))
                .blend(normal, exp.compare(VectorOperators.GE, 127 - 6))
                .blend(IntVector.broadcast(I, 0x7E), a.compare(VectorOperators.GE, Float.floatToRawIntBits(E4m3.MAX)))
                .or(sign);
        return code.blend(IntVector.broadcast(I, 0x7F), a.compare(VectorOperators.GT, 0x7f800000));
    }
}

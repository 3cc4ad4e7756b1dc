package dev.moe.train;

import dev.moe.backend.Backend;

/** Chooses the {@link Gemm} of a backend. */
public final class Gemms {
    private Gemms() {}

    /**
     * The matrix multiply of a concrete backend.
     *
     * @param backend java or cpu
     * @return the reference on java; on cpu the native kernel
     * @throws IllegalArgumentException for any other backend
     */
    public static Gemm create(Backend backend) {
        return switch (backend) {
            case JAVA -> new JavaGemm();
            case CPU -> new NativeGemm();
            default -> throw new IllegalArgumentException("training runs on java or cpu, not " + backend.cliName());
        };
    }
}

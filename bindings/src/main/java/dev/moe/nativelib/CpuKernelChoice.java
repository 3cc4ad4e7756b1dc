package dev.moe.nativelib;

import java.util.Locale;
import java.util.Map;

import dev.moe.bindings.moe_h;

/**
 * The CPU kernel variant asked for with {@code -Dmoe.cpu.kernel=NAME} ({@code portable}, {@code avx2},
 * {@code avx512}, {@code avx512-bf16} or {@code auto}), set once when libmoe is first loaded; without the
 * property the library picks the widest variant the CPU has. For comparing variants on one machine, or
 * keeping a narrower one where it measures faster.
 */
public final class CpuKernelChoice {
    static final String PROPERTY = "moe.cpu.kernel";
    private static final Map<String, Integer> NAMES = Map.of("auto", moe_h.MOE_CPU_KERNEL_AUTO(), "portable",
            moe_h.MOE_CPU_KERNEL_PORTABLE(), "avx2", moe_h.MOE_CPU_KERNEL_AVX2(), "avx512", moe_h.MOE_CPU_KERNEL_AVX512(),
            "avx512-bf16", moe_h.MOE_CPU_KERNEL_AVX512_BF16());
    private static final NativeLibraryException ERROR = apply(System.getProperty(PROPERTY));

    private CpuKernelChoice() {}

    /**
     * The name {@code -Dmoe.cpu.kernel} takes for a kernel variant.
     *
     * @param kernel a {@code MOE_CPU_KERNEL_*} value
     * @return {@code "avx512-bf16"}, {@code "avx512"}, {@code "avx2"}, {@code "portable"} or {@code "auto"}
     * @throws IllegalArgumentException if {@code kernel} is no variant
     */
    public static String name(int kernel) {
        return NAMES.entrySet().stream().filter(e -> e.getValue() == kernel).map(Map.Entry::getKey).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no CPU kernel variant " + kernel));
    }

    /** Throws, every time, if the property names no variant or one this CPU cannot run. */
    static void check() {
        if (ERROR != null) {
            throw ERROR;
        }
    }

    /** Sets the variant {@code name} asks for; the error to report, or null when set or not asked for. */
    static NativeLibraryException apply(String name) {
        if (name == null) {
            return null;
        }
        Integer kernel = NAMES.get(name.trim().toLowerCase(Locale.ROOT));
        if (kernel == null) {
            return new NativeLibraryException(
                    "-D" + PROPERTY + "=" + name + ": expected auto, portable, avx2, avx512 or avx512-bf16");
        }
        int status = moe_h.moe_cpu_set_kernel(kernel);
        if (status != moe_h.MOE_STATUS_OK()) {
            return new NativeLibraryException("-D" + PROPERTY + "=" + name + ": "
                    + moe_h.moe_status_message(status).getString(0));
        }
        return null;
    }
}

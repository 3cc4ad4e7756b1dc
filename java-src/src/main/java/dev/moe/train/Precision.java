package dev.moe.train;

/** The precision of the projections' GEMMs in training. */
public enum Precision {
    /** Everything in FP32. */
    FP32,
    /**
     * Forward and activation-gradient GEMMs of the projections in FP8 E4M3 with DeepSeek-V3's block
     * scaling (1×128 activation tiles, 128×128 weight blocks, FP32 promotion per 128-wide chunk).
     */
    FP8;

    /** {@return the command-line name: fp32 or fp8} */
    public String cliName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * Parses a command-line name.
     *
     * @param name fp32 or fp8
     * @return the precision
     * @throws IllegalArgumentException for any other name
     */
    public static Precision parse(String name) {
        return switch (name) {
            case "fp32" -> FP32;
            case "fp8" -> FP8;
            default -> throw new IllegalArgumentException("--precision: expected fp32 or fp8, got '" + name + "'");
        };
    }
}

package dev.moe.loss;

/** Published balance-loss coefficients (docs/specification.md §f.1, §f.2). */
public final class AuxLossCoefficients {
    private AuxLossCoefficients() {}

    /** DeepSeek-V2 expert-level balance factor α1. */
    public static final double V2_EXPERT = 0.003;
    /** DeepSeek-V2 device-level balance factor α2. */
    public static final double V2_DEVICE = 0.05;
    /** DeepSeek-V2 communication balance factor α3. */
    public static final double V2_COMMUNICATION = 0.02;
    /** DeepSeek-V2-Lite expert-level balance factor α1 (V2-Lite uses no device or communication loss). */
    public static final double V2_LITE_EXPERT = 0.001;
    /** DeepSeek-V3 complementary sequence-wise balance factor α. */
    public static final double V3_SEQUENCE = 0.0001;
}

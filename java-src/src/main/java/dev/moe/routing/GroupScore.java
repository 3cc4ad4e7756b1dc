package dev.moe.routing;

/** How a group (node / device) of experts is scored for group-limited routing (docs/specification.md §d.1). */
public enum GroupScore {
    /** The group's largest selection score (DeepSeek-V2 device-limited routing). */
    MAX(0),
    /**
     * The sum of the group's J largest selection scores, added largest first (DeepSeek-V3
     * node-limited routing uses J = K/M = 2; the CLI calls that {@code top2sum}).
     */
    TOP_J_SUM(1);

    private final int code;

    GroupScore(int code) {
        this.code = code;
    }

    /** {@return the MOE_GROUP_SCORE_* code of the C ABI} */
    public int code() {
        return code;
    }
}

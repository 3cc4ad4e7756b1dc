package dev.moe.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RoutingConfigTest {

    @Test
    void deepseekV3Preset() {
        RoutingConfig c = RoutingConfig.preset("deepseek-v3");
        assertEquals(new RoutingConfig(256, 8, 4, 8, ScoreFunction.SIGMOID, GroupScore.TOP_J_SUM, 2, true, 2.5f, BiasMode.ADD), c);
        assertEquals(32, c.groupSize());
        assertTrue(c.groupLimited());
    }

    @Test
    void deepseekV2Preset() {
        RoutingConfig c = RoutingConfig.preset("deepseek-v2");
        assertEquals(new RoutingConfig(160, 8, 3, 6, ScoreFunction.SOFTMAX, GroupScore.MAX, 1, false, 16.0f, BiasMode.ADD), c);
    }

    @Test
    void unknownPresetIsRejected() {
        var e = assertThrows(InvalidConfigException.class, () -> RoutingConfig.preset("mixtral"));
        assertTrue(e.getMessage().contains("mixtral"));
    }

    @Test
    void groupsMustSplitExperts() {  // docs/specification.md §k #7
        var e = assertThrows(InvalidConfigException.class, () -> RoutingConfig.builder().experts(10).groups(4).topkGroups(2).topk(2).build());
        assertTrue(e.getMessage().contains("N=10") && e.getMessage().contains("G=4"), e.getMessage());
    }

    @Test
    void groupSmallerThanJIsRejected() {  // docs/specification.md §k #7
        var e = assertThrows(InvalidConfigException.class,
                () -> RoutingConfig.builder().experts(16).groups(8).topkGroups(4).topk(8).groupTopJ(3).build());
        assertTrue(e.getMessage().contains("J=3") && e.getMessage().contains("§k #7"), e.getMessage());
    }

    @Test
    void keptGroupsMustHoldKExperts() {  // docs/specification.md §k #8
        var e = assertThrows(InvalidConfigException.class,
                () -> RoutingConfig.builder().experts(64).groups(8).topkGroups(1).topk(9).groupTopJ(2).build());
        assertTrue(e.getMessage().contains("K"), e.getMessage());
    }

    @Test
    void kNotMultipleOfMNeedsExplicitJ() {  // docs/specification.md §k #6
        var e = assertThrows(InvalidConfigException.class,
                () -> RoutingConfig.builder().experts(160).groups(8).topkGroups(3).topk(8).build());
        assertTrue(e.getMessage().contains("§k #6"), e.getMessage());
        RoutingConfig ok = RoutingConfig.builder().experts(160).groups(8).topkGroups(3).topk(8).groupTopJ(2).build();
        assertEquals(2, ok.groupTopJ());
    }

    @Test
    void mMayEqualGButNotExceedIt() {  // docs/specification.md §k #9
        RoutingConfig noLimit = RoutingConfig.builder().experts(64).groups(8).topkGroups(8).topk(8).build();
        assertFalse(noLimit.groupLimited());
        assertThrows(InvalidConfigException.class, () -> RoutingConfig.builder().experts(64).groups(8).topkGroups(9).topk(8).build());
        assertThrows(InvalidConfigException.class, () -> RoutingConfig.builder().topkGroups(0).build());
    }

    @Test
    void scaleMustBePositiveAndFinite() {
        assertThrows(InvalidConfigException.class, () -> RoutingConfig.builder().routeScale(0f).build());
        assertThrows(InvalidConfigException.class, () -> RoutingConfig.builder().routeScale(Float.NaN).build());
        assertThrows(InvalidConfigException.class, () -> RoutingConfig.builder().routeScale(Float.POSITIVE_INFINITY).build());
    }

    @Test
    void jDerivesFromKOverM() {
        RoutingConfig c = RoutingConfig.builder().experts(128).groups(8).topkGroups(2).topk(8).build();
        assertEquals(4, c.groupTopJ());
        assertEquals(1, RoutingConfig.deepseekV3().toBuilder().groupScore(GroupScore.MAX).build().groupTopJ());
    }
}

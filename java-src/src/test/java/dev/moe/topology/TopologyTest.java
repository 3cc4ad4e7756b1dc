package dev.moe.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.moe.routing.RoutingConfig;

class TopologyTest {

    @Test
    void contiguousPlacementOfV3() {
        Topology t = Topology.contiguous(8, 8, 256);
        assertEquals(64, t.gpus());
        assertEquals(0, t.gpuOf(3));
        assertEquals(1, t.gpuOf(4));
        assertEquals(7, t.nodeOf(255));
        assertEquals(1, t.nodeOf(32));
        t.requireGroupsMatch(RoutingConfig.deepseekV3(), GroupScope.NODE);
    }

    @Test
    void v2DeviceGroups() {
        Topology t = Topology.contiguous(1, 8, 160);
        t.requireGroupsMatch(RoutingConfig.deepseekV2(), GroupScope.DEVICE);
        var e = assertThrows(IllegalArgumentException.class, () -> t.requireGroupsMatch(RoutingConfig.deepseekV2(), GroupScope.NODE));
        assertTrue(e.getMessage().contains("G=8"), e.getMessage());
    }

    @Test
    void clearErrors() {
        var e = assertThrows(IllegalArgumentException.class, () -> Topology.contiguous(8, 8, 100));
        assertTrue(e.getMessage().contains("100 experts cannot be spread evenly"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Topology.contiguous(0, 8, 64));
        var e2 = assertThrows(IllegalArgumentException.class, () -> Topology.explicit(1, 2, new int[] {0, 1, 2}));
        assertTrue(e2.getMessage().contains("expert 2"), e2.getMessage());
        // Group 0's experts spread over two nodes: a group limit would not limit nodes.
        Topology mixed = Topology.explicit(2, 1, new int[] {0, 1, 0, 1});
        var e3 = assertThrows(IllegalArgumentException.class, () -> mixed.requireGroupsMatch(
                RoutingConfig.builder().experts(4).groups(2).topkGroups(1).topk(2).groupTopJ(2).build(), GroupScope.NODE));
        assertTrue(e3.getMessage().contains("expert 1"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> Topology.contiguous(4, 8, 256)
                .requireGroupsMatch(RoutingConfig.deepseekV3(), GroupScope.NODE));
        assertTrue(e4.getMessage().contains("one router group per node"), e4.getMessage());
    }
}

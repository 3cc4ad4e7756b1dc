package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code moe demo}: its balancing part runs the chosen preset, and the simulate command it prints reproduces it. */
class DemoCliTest {
    @TempDir
    Path dir;

    private static final Pattern DEMO_ROW = Pattern.compile(
            "(none|loss-free) +MaxVio_batch step 0 \\S+ -> final (\\S+) \\(last-100 mean (\\S+)\\), MaxVio_global (\\S+), dropped (\\d+)\\n"
                    + " +same run: \\./moe (simulate .*)\\n");
    private static final Pattern SIM_SUMMARY = Pattern.compile(
            "final MaxVio_batch (\\S+) \\(last-100 mean (\\S+)\\), MaxVio_global (\\S+) \\| dropped (\\d+)");

    @Test
    void v2DemoBalancesV2AndSimulateReproducesIt() {
        List<String> dropped = checkReproduced("deepseek-v2");
        assertTrue(Long.parseLong(dropped.getFirst()) > 0, "V2 drops at capacity factor 1.0 without balancing: " + dropped);
    }

    @Test
    void v3DemoIsReproducedBySimulate() {
        List<String> dropped = checkReproduced("deepseek-v3");
        assertEquals(List.of("0", "0"), dropped, "V3 never drops");
    }

    /** Runs the demo for {@code preset}, then each simulate command it printed; returns the demo's dropped counts. */
    private List<String> checkReproduced(String preset) {
        MoeCliTest.Result demo = MoeCliTest.cli("demo", "--preset", preset, "--tokens", "512", "--sim-steps", "40", "--seconds", "0.02",
                "--plot", dir.resolve("demo.png").toString());
        assertEquals(0, demo.code(), demo.out() + demo.err());
        assertTrue(demo.out().contains("balancing loop (" + preset + ", "), demo.out());
        Matcher m = DEMO_ROW.matcher(demo.out());
        List<String> dropped = new ArrayList<>();
        while (m.find()) {
            String[] args = m.group(6).replace("--csv run.csv", "--csv " + dir.resolve(m.group(1) + ".csv")).split(" ");
            assertTrue(m.group(6).contains("--preset " + preset + " ") && m.group(6).contains("--balancer " + m.group(1) + " "), m.group(6));
            MoeCliTest.Result sim = MoeCliTest.cli(args);
            assertEquals(0, sim.code(), sim.err());
            Matcher s = SIM_SUMMARY.matcher(sim.out());
            assertTrue(s.find(), sim.out());
            assertEquals(List.of(m.group(2), m.group(3), m.group(4), m.group(5)), List.of(s.group(1), s.group(2), s.group(3), s.group(4)),
                    m.group(1) + ": demo vs simulate");
            dropped.add(m.group(5));
        }
        assertEquals(2, dropped.size(), demo.out());
        return dropped;
    }
}

package dev.moe.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.moe.backend.Backend;
import dev.moe.routing.GateStats;
import dev.moe.routing.Router;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.SyntheticLogits;

/**
 * Gate throughput with the DeepSeek-V3 preset: the Java reference (baseline) against the native CPU
 * kernel through the zero-copy segment path and through the float[] convenience path.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class RouteBenchmark {
    @Param({"1", "16", "128", "1024", "4096", "16384"})
    public int tokens;

    @Param({"java", "cpu-segment", "cpu-array"})
    public String path;

    private Arena arena;
    private Router router;
    private MemorySegment logits;
    private MemorySegment ids;
    private MemorySegment weights;
    private float[] logitsArray;

    @Setup(Level.Trial)
    public void setUp() {
        RoutingConfig config = RoutingConfig.deepseekV3();
        arena = Arena.ofShared();
        router = Routers.create(config, path.equals("java") ? Backend.JAVA : Backend.CPU);
        logits = SyntheticLogits.generate(arena, tokens, config.numExperts(), 0.5f, 1);
        logitsArray = logits.toArray(ValueLayout.JAVA_FLOAT);
        ids = arena.allocate(ValueLayout.JAVA_INT, (long) tokens * config.topk());
        weights = arena.allocate(ValueLayout.JAVA_FLOAT, (long) tokens * config.topk());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public Object route() {
        if (path.equals("cpu-array")) {
            RoutingResult r = router.route(logitsArray, null);
            return r;
        }
        GateStats s = router.route(logits, tokens, null, ids, weights, null);
        return s;
    }
}

package dev.moe.cli;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.moe.backend.Backend;
import dev.moe.io.Npy;
import dev.moe.io.NpyArray;
import dev.moe.io.NpyDType;
import dev.moe.routing.Router;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code moe route}: routes a file of logits and writes ids and weights (cli.md "moe route"). */
@Command(name = "route", mixinStandardHelpOptions = true,
        description = {"Route tokens: scores, + bias, top-M groups, top-K experts, gate weights.",
                "Reads float32 [T, N] logits (.npy) and an optional float32 [N] bias; writes int32 [T, K] ids "
                        + "(biased score descending, ties to the lower id) and float32 [T, K] weights."})
final class RouteCommand implements Callable<Integer> {
    @Mixin
    RoutingOptions routing;

    @Option(names = "--logits", required = true, paramLabel = "L.npy", description = "float32 [T, N] router logits.")
    Path logits;

    @Option(names = "--bias", paramLabel = "B.npy", description = "float32 [N] selection bias (default zeros).")
    Path bias;

    @Option(names = "--out-ids", required = true, paramLabel = "I.npy", description = "Output: int32 [T, K] expert ids.")
    Path outIds;

    @Option(names = "--out-weights", required = true, paramLabel = "W.npy", description = "Output: float32 [T, K] gate weights.")
    Path outWeights;

    @Option(names = "--backend", paramLabel = "java|cpu|cuda|auto", defaultValue = "auto",
            description = "Where to route (default ${DEFAULT-VALUE}: cuda if usable, else cpu, else java).")
    String backend;

    @Override
    public Integer call() throws IOException {
        RoutingConfig config = routing.toConfig();
        Backend chosen = Backend.parse(backend);
        int n = config.numExperts();
        int k = config.topk();
        try (Arena arena = Arena.ofConfined()) {
            NpyArray z = Npy.readFloat32(logits, arena);
            if (z.rank() != 2 || z.dim(1) != n) {
                throw new UsageException(logits + ": expected float32 logits of shape [T, " + n + "] for N=" + n
                        + " experts, got shape " + z.shapeString());
            }
            long t = z.dim(0);
            MemorySegment b = null;
            if (bias != null) {
                NpyArray bv = Npy.readFloat32(bias, arena);
                if (bv.rank() != 1 || bv.dim(0) != n) {
                    throw new UsageException(bias + ": expected a float32 bias of shape [" + n + "], got shape " + bv.shapeString());
                }
                b = bv.data();
            }
            Router router = Routers.create(config, chosen);
            MemorySegment logitsSeg = z.data();
            if (router.backend() != Backend.JAVA && !isAligned(logitsSeg, b)) {
                logitsSeg = copy(arena, logitsSeg);
                b = b == null ? null : copy(arena, b);
            }
            long tk = Math.multiplyExact(t, k);
            MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, tk)).asSlice(0, 4 * tk);
            MemorySegment weights = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, tk)).asSlice(0, 4 * tk);
            router.route(logitsSeg, t, b, ids, weights, null);
            long[] shape = {t, k};
            Npy.write(outIds, NpyDType.INT32, shape, ids);
            try {
                Npy.write(outWeights, NpyDType.FLOAT32, shape, weights);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(outIds);  // never leave half of the output behind
                throw e;
            }
        }
        return 0;
    }

    private static boolean isAligned(MemorySegment logits, MemorySegment bias) {
        return logits.isNative() && logits.address() % 4 == 0 && (bias == null || (bias.isNative() && bias.address() % 4 == 0));
    }

    private static MemorySegment copy(Arena arena, MemorySegment s) {
        MemorySegment c = arena.allocate(Math.max(1, s.byteSize()), 64).asSlice(0, s.byteSize());
        c.copyFrom(s);
        return c;
    }
}

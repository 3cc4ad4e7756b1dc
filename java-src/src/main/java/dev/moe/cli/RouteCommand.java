package dev.moe.cli;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.moe.backend.Backend;
import dev.moe.io.Npy;
import dev.moe.io.NpyArray;
import dev.moe.io.NpyDType;
import dev.moe.io.OutputFiles;
import dev.moe.backend.Backend;
import dev.moe.routing.NonFiniteInputException;
import dev.moe.routing.Router;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code moe route}: routes a file of logits and writes ids and weights (docs/cli.md "moe route"). */
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
        try (OutputFiles outputs = OutputFiles.builder().input("--logits", logits).input("--bias", bias)
                .output("--out-ids", outIds).output("--out-weights", outWeights).open();
             Arena arena = Arena.ofConfined()) {
            NpyArray z = NpyInputs.readFloat32("--logits", logits, arena);  // a private, 64-byte-aligned copy: safe to hand to native code
            if (z.rank() != 2 || z.dim(1) != n) {
                throw new UsageException(logits + ": expected float32 logits of shape [T, " + n + "] for N=" + n
                        + " experts, got shape " + z.shapeString());
            }
            long t = z.dim(0);
            long bad = FiniteScan.firstNonFinite(z.data());
            if (bad >= 0) {
                throw new UsageException("--logits " + logits + ": "
                        + new NonFiniteInputException(bad / n, (int) (bad % n), FiniteScan.at(z.data(), bad)).getMessage());
            }
            MemorySegment b = null;
            if (bias != null) {
                NpyArray bv = NpyInputs.readFloat32("--bias", bias, arena);
                if (bv.rank() != 1 || bv.dim(0) != n) {
                    throw new UsageException(bias + ": expected a float32 bias of shape [" + n + "], got shape " + bv.shapeString());
                }
                b = bv.data();
                long badBias = FiniteScan.firstNonFinite(b);
                if (badBias >= 0) {
                    throw new UsageException("--bias " + bias + ": bias[" + badBias + "] is " + FiniteScan.at(b, badBias)
                            + "; the selection bias must be finite");
                }
            }
            Router router = Routers.create(config, chosen);  // after every check: auto's INFO line never precedes an error
            long tk = Math.multiplyExact(t, k);
            MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, tk)).asSlice(0, 4 * tk);
            MemorySegment weights = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, tk)).asSlice(0, 4 * tk);
            router.route(z.data(), t, b, ids, weights, null);
            long[] shape = {t, k};
            outputs.write(outIds, Npy.contents(NpyDType.INT32, shape, ids));
            outputs.write(outWeights, Npy.contents(NpyDType.FLOAT32, shape, weights));
            outputs.commit();
        }
        return 0;
    }
}

package dev.moe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.moe.eplb.Eplb;
import dev.moe.eplb.ExpertPlacementPlan;
import dev.moe.io.AtomicFiles;
import dev.moe.io.Npy;
import dev.moe.io.NpyArray;
import dev.moe.io.NpyDType;
import dev.moe.io.OutputFiles;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moe eplb}: expert replication and placement (docs/specification.md §j, docs/cli.md "moe eplb"). */
@Command(name = "eplb", mixinStandardHelpOptions = true,
        description = {"Plan redundant experts and their GPUs from estimated loads (DeepSeek EPLB).",
                "Hierarchical policy when G % N == 0 (groups stay on one node), else global. Ties go to the lower index."})
final class EplbCommand implements Callable<Integer> {
    @Option(names = "--loads", required = true, paramLabel = "W.npy",
            description = "[L, N_log] load per layer and expert: float32/float64 estimates or int32/int64/uint8 token counts "
                    + "(converted to float32, exact up to 2^24).")
    Path loads;

    @Option(names = "--replicas", required = true, paramLabel = "R", description = "Physical expert slots.")
    int replicas;

    @Option(names = "--groups", required = true, paramLabel = "G", description = "Expert groups.")
    int groups;

    @Option(names = "--nodes", required = true, paramLabel = "N", description = "Nodes.")
    int nodes;

    @Option(names = "--gpus", required = true, paramLabel = "P", description = "GPUs.")
    int gpus;

    @Option(names = "--out-phy2log", required = true, paramLabel = "O.npy", description = "Output: int32 [L, R].")
    Path outPhy2log;

    @Option(names = "--out-log2phy", paramLabel = "X.npy", description = "Output: int32 [L, N_log, maxcnt], padded with -1.")
    Path outLog2phy;

    @Option(names = "--out-counts", paramLabel = "C.npy", description = "Output: int32 [L, N_log] replica counts.")
    Path outCounts;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        try (OutputFiles outputs = OutputFiles.builder().input("--loads", loads).output("--out-phy2log", outPhy2log)
                .output("--out-log2phy", outLog2phy).output("--out-counts", outCounts).open()) {
            NpyInputs.Header h = NpyInputs.header(loads);
            if (h.shape().length != 2 || h.shape()[0] < 1 || h.shape()[1] < 1) {
                throw new UsageException(loads + ": expected loads of shape [L, N_log], got shape " + h.text());
            }
            NpyInputs.requireArraySized("--loads", loads, h);
            int layers = (int) h.shape()[0];
            int n = (int) h.shape()[1];
            long maxcnt = Math.max(1, (long) replicas - n + 1);
            // The loads (file copy and arrays), the plan's log2phy (and its flat copy), per-slot arrays of
            // every layer and the per-layer scratch of the packing.
            MemoryBudget.of("eplb of " + layers + " layers x " + n + " experts on --replicas " + replicas)
                    .offHeap(layers, n, 4).heap(layers, n, 4 * 3)
                    .heap(layers, n, maxcnt, outLog2phy != null ? 8 : 4).heap(layers, Math.max(replicas, 0), 12)
                    .heap(Math.max(replicas, 0), 32).require();
            if (MemoryBudget.product(layers, Math.max(replicas, 0)) > NpyInputs.MAX_ARRAY) {
                throw new UsageException("--out-phy2log " + outPhy2log + ": [" + layers + ", " + replicas
                        + "] would have more than 2^31 elements");
            }
            if (outLog2phy != null && MemoryBudget.product(layers, n, maxcnt) > NpyInputs.MAX_ARRAY) {
                throw new UsageException("--out-log2phy " + outLog2phy + ": [" + layers + ", " + n + ", " + maxcnt
                        + "] would have more than 2^31 elements");
            }
            float[][] w = readLoads(loads, layers, n);
            ExpertPlacementPlan plan = Eplb.rebalance(w, replicas, groups, nodes, gpus);
            outputs.write(outPhy2log, ints(flatten(plan.phy2log()), layers, replicas));
            if (outLog2phy != null) {
                int cnt = plan.log2phy()[0][0].length;
                int[] flat = new int[layers * n * cnt];
                for (int l = 0; l < layers; l++) {
                    for (int e = 0; e < n; e++) {
                        System.arraycopy(plan.log2phy()[l][e], 0, flat, (l * n + e) * cnt, cnt);
                    }
                }
                outputs.write(outLog2phy, ints(flat, layers, n, cnt));
            }
            if (outCounts != null) {
                outputs.write(outCounts, ints(flatten(plan.logcnt()), layers, n));
            }
            outputs.commit();
            print(plan, w);
        }
        return 0;
    }

    private void print(ExpertPlacementPlan plan, float[][] w) {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("eplb: %s policy, %d layers, %d experts -> %d slots on %d GPUs (%d nodes)%n",
                Eplb.isHierarchical(groups, nodes) ? "hierarchical" : "global", w.length, w[0].length, replicas, gpus, nodes);
        double[][] gpu = plan.gpuLoads(w, gpus);
        for (int l = 0; l < w.length; l++) {
            double max = 0;
            double sum = 0;
            for (double v : gpu[l]) {
                max = Math.max(max, v);
                sum += v;
            }
            out.printf("  layer %d: GPU load max/mean %.3f%n", l, sum == 0 ? 0 : max / (sum / gpus));
        }
        out.flush();
    }

    /** int32 .npy contents of {@code data} (no copy). */
    private static AtomicFiles.ChannelWriter ints(int[] data, long... shape) {
        return Npy.contents(NpyDType.INT32, shape, MemorySegment.ofArray(data));
    }

    /** The loads as FP32 rows, one per layer, from any numeric dtype docs/cli.md lets a command read. */
    private static float[][] readLoads(Path file, int layers, int n) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            NpyArray a = Npy.read(file, arena);
            ValueLayout layout = a.dtype().layout();
            float[][] w = new float[layers][n];
            for (int l = 0; l < layers; l++) {
                for (int e = 0; e < n; e++) {
                    long i = (long) l * n + e;
                    w[l][e] = switch (a.dtype()) {
                        case FLOAT32 -> a.data().getAtIndex((ValueLayout.OfFloat) layout, i);
                        case FLOAT64 -> (float) a.data().getAtIndex((ValueLayout.OfDouble) layout, i);
                        case INT32 -> a.data().getAtIndex((ValueLayout.OfInt) layout, i);
                        case INT64 -> a.data().getAtIndex((ValueLayout.OfLong) layout, i);
                        case UINT8 -> Byte.toUnsignedInt(a.data().get((ValueLayout.OfByte) layout, i));
                    };
                }
            }
            return w;
        }
    }

    private static int[] flatten(int[][] m) {
        int cols = m[0].length;
        int[] out = new int[m.length * cols];
        for (int r = 0; r < m.length; r++) {
            System.arraycopy(m[r], 0, out, r * cols, cols);
        }
        return out;
    }
}

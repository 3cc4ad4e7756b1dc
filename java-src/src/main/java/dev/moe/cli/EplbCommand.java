package dev.moe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import dev.moe.eplb.Eplb;
import dev.moe.eplb.ExpertPlacementPlan;
import dev.moe.io.Npy;
import dev.moe.io.NpyArray;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moe eplb}: expert replication and placement (spec §j, cli.md "moe eplb"). */
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
        float[][] w = readLoads(loads);
        ExpertPlacementPlan plan = Eplb.rebalance(w, replicas, groups, nodes, gpus);
        int layers = w.length;
        int n = w[0].length;
        int maxcnt = plan.log2phy()[0][0].length;
        List<Path> written = new ArrayList<>();
        try {
            write(outPhy2log, flatten(plan.phy2log()), new long[] {layers, replicas}, written);
            if (outLog2phy != null) {
                int[] flat = new int[layers * n * maxcnt];
                for (int l = 0; l < layers; l++) {
                    for (int e = 0; e < n; e++) {
                        System.arraycopy(plan.log2phy()[l][e], 0, flat, (l * n + e) * maxcnt, maxcnt);
                    }
                }
                write(outLog2phy, flat, new long[] {layers, n, maxcnt}, written);
            }
            if (outCounts != null) {
                write(outCounts, flatten(plan.logcnt()), new long[] {layers, n}, written);
            }
        } catch (IOException | RuntimeException e) {
            for (Path p : written) {
                Files.deleteIfExists(p);  // all outputs or none
            }
            throw e;
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("eplb: %s policy, %d layers, %d experts -> %d slots on %d GPUs (%d nodes)%n",
                Eplb.isHierarchical(groups, nodes) ? "hierarchical" : "global", layers, n, replicas, gpus, nodes);
        double[][] gpu = plan.gpuLoads(w, gpus);
        for (int l = 0; l < layers; l++) {
            double max = 0;
            double sum = 0;
            for (double v : gpu[l]) {
                max = Math.max(max, v);
                sum += v;
            }
            out.printf("  layer %d: GPU load max/mean %.3f%n", l, sum == 0 ? 0 : max / (sum / gpus));
        }
        out.flush();
        return 0;
    }

    /** The loads as FP32 rows, one per layer, from any numeric dtype cli.md lets a command read. */
    private static float[][] readLoads(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            NpyArray a = Npy.read(file, arena);
            if (a.rank() != 2 || a.dim(0) < 1 || a.dim(1) < 1 || a.dim(0) * a.dim(1) > Integer.MAX_VALUE) {
                throw new UsageException(file + ": expected loads of shape [L, N_log], got shape " + a.shapeString());
            }
            int layers = (int) a.dim(0);
            int n = (int) a.dim(1);
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

    private static void write(Path file, int[] data, long[] shape, List<Path> written) throws IOException {
        Npy.write(file, Npy.ofInts(data, shape));
        written.add(file);
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

package dev.moe.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.moe.backend.Backend;
import dev.moe.dist.Communicator;
import dev.moe.io.OutputFiles;
import dev.moe.layer.ExpertParallelMoeLayer;
import dev.moe.layer.ExpertParallelMoeLayer.Combine;
import dev.moe.layer.MoeLayer;
import dev.moe.layer.MoeLayerWeights;
import dev.moe.metrics.LoadMetrics;
import dev.moe.routing.RoutingConfig;
import dev.moe.topology.Topology;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code moe bench ep-layer}: the expert-parallel MoE layer, one rank per GPU of a pseudo-cluster
 * (ranks-per-node ranks form a node), timed per step, with the bytes each hop moved and the load's
 * MaxVio; {@code --check} compares the outputs with the single-process layer on rank 0.
 */
@Command(name = "ep-layer", mixinStandardHelpOptions = true,
        description = {"Time the expert-parallel MoE layer (FP8 dispatch, expert GEMMs, combine) across the ranks of an MPI job.",
                "Run as: mpirun -np N ./moe bench ep-layer --mpi [--ranks-per-node R] (ranks act as pseudo-nodes; without "
                        + "--mpi a single rank runs it). Router groups = nodes (node-limited routing, V3-style sigmoid gate)."})
final class BenchEpLayerCommand implements Callable<Integer> {
    @CommandLine.Mixin
    MpiOption mpi;

    @Option(names = "--ranks-per-node", defaultValue = "1", description = "Ranks per pseudo-node (default ${DEFAULT-VALUE}).")
    int ranksPerNode;

    @Option(names = "--experts", defaultValue = "64", description = "Routed experts N (default ${DEFAULT-VALUE}).")
    int experts;

    @Option(names = "--topk", defaultValue = "8", description = "Experts per token K (default ${DEFAULT-VALUE}).")
    int topk;

    @Option(names = "--node-limit", description = "Nodes a token may reach, M (default: half the nodes, at least 1).")
    Integer nodeLimit;

    @Option(names = "--hidden", defaultValue = "1024", description = "Model dimension H (default ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--intermediate", defaultValue = "256", description = "Expert width I, a multiple of 128 (default ${DEFAULT-VALUE}).")
    int intermediate;

    @Option(names = "--tokens", defaultValue = "512", description = "Tokens per rank per step (default ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--steps", defaultValue = "10", description = "Timed steps, after 2 warm-up steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--combine", defaultValue = "bf16", description = "exact, fp32 or bf16 (default ${DEFAULT-VALUE}).")
    String combine;

    @Option(names = "--backend", defaultValue = "auto", description = "java, cpu or auto (default ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the weights and inputs (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--check", description = "Also run the single-process layer on every rank's inputs (on rank 0) and compare.")
    boolean check;

    @Option(names = "--json", paramLabel = "out.json", description = "Also write the figures as JSON (rank 0).")
    Path json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Combine mode = switch (combine) {
            case "exact" -> Combine.EXACT;
            case "fp32" -> Combine.REDUCED_FP32;
            case "bf16" -> Combine.REDUCED_BF16;
            default -> throw new UsageException("--combine: expected exact, fp32 or bf16, got '" + combine + "'");
        };
        if (tokens < 0 || steps < 1) {
            throw new UsageException("--tokens must be >= 0 and --steps >= 1");
        }
        OutputFiles outputs = OutputFiles.builder().output("--json", json).open();  // checked before any work
        Communicator comm = mpi.open();
        return MpiOption.run(comm, () -> bench(comm, mode, outputs));
    }

    private int bench(Communicator comm, Combine mode, OutputFiles outputs) throws Exception {
        int ranks = comm.size();
        if (ranksPerNode < 1 || ranks % ranksPerNode != 0) {
            throw new UsageException("--ranks-per-node " + ranksPerNode + " does not divide the " + ranks + " ranks");
        }
        int nodes = ranks / ranksPerNode;
        int limit = nodeLimit != null ? nodeLimit : Math.max(1, nodes / 2);
        RoutingConfig config = RoutingConfig.builder().experts(experts).groups(nodes).topkGroups(limit).topk(topk).build();
        Topology topo = Topology.contiguous(nodes, ranksPerNode, experts);
        Backend be = Backend.parse(backend);
        MoeLayerWeights w = MoeLayerWeights.synthetic(config, hidden, intermediate, true, seed);
        ExpertParallelMoeLayer layer = ExpertParallelMoeLayer.create(w, be == Backend.AUTO ? dev.moe.routing.Routers.resolveAuto() : be,
                comm, topo, mode);
        PrintWriter0 out = new PrintWriter0(comm.rank() == 0 ? spec.commandLine().getOut() : null);
        out.printf("ep-layer: %s | %d ranks = %d nodes x %d, N=%d K=%d M=%d, H=%d I=%d, %d tokens/rank, combine %s, backend %s%n",
                comm.describe(), ranks, nodes, ranksPerNode, experts, topk, limit, hidden, intermediate, tokens, combine,
                layer.backend().cliName());

        long[] nanos = new long[steps];
        long[] traffic = null;
        double maxVio = 0;
        float[] lastX = null;
        float[] lastY = null;
        for (int step = -2; step < steps; step++) {
            float[] x = input(comm.rank(), step);
            comm.barrier();
            long t0 = System.nanoTime();
            ExpertParallelMoeLayer.Output o = layer.forward(x, tokens);
            long[] dt = {System.nanoTime() - t0};
            comm.allReduce(dt, Communicator.Reduction.MAX);  // a step lasts as long as its slowest rank
            if (step < 0) {
                continue;
            }
            nanos[step] = dt[0];
            long[] tr = o.traffic().toArray();
            comm.allReduce(tr, Communicator.Reduction.SUM);
            traffic = traffic == null ? tr : add(traffic, tr);
            long[] load = o.routing().expertLoad().clone();
            comm.allReduce(load, Communicator.Reduction.SUM);
            maxVio += LoadMetrics.maxVio(new long[][] {load}) / steps;
            lastX = x;
            lastY = o.hidden();
        }
        ExpertParallelMoeLayer.Traffic sum = ExpertParallelMoeLayer.Traffic.fromArray(traffic);
        if (sum.assignmentsComputed() != sum.assignmentsRouted()) {
            throw new IllegalStateException("token conservation: " + sum.assignmentsRouted() + " assignments routed, "
                    + sum.assignmentsComputed() + " computed");
        }
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        double median = sorted[steps / 2] / 1e6;
        double perStep = 1.0 / steps;
        long globalTokens = (long) tokens * ranks;
        out.printf(Locale.ROOT, "step %.2f ms median (%.2f min, %.2f max), %.0f tokens/s over the job | MaxVio_batch %.3f%n",
                median, sorted[0] / 1e6, sorted[steps - 1] / 1e6, globalTokens / (median / 1e3), maxVio);
        out.printf(Locale.ROOT, "per step, all ranks: dispatch inter-node %.3f MB (%.2f copies/token), intra-node %.3f MB "
                        + "(%.2f forwards/token); combine inter-node %.3f MB, intra-node %.3f MB; %d assignments, all computed once%n",
                sum.dispatchBytesInterNode() * perStep / 1e6, (double) sum.dispatchCopiesInterNode() / (globalTokens * steps),
                sum.dispatchBytesIntraNode() * perStep / 1e6, (double) sum.dispatchCopiesIntraNode() / (globalTokens * steps),
                sum.combineBytesInterNode() * perStep / 1e6, sum.combineBytesIntraNode() * perStep / 1e6,
                sum.assignmentsRouted() / steps);
        String checkResult = check ? check(comm, w, be, lastX, lastY, steps - 1) : null;
        if (checkResult != null) {
            out.println(checkResult);
        }
        if (json != null && comm.rank() == 0) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("machine", MachineInfo.describe());
            doc.put("mpi", comm.describe());
            doc.put("ranks", ranks);
            doc.put("ranks_per_node", ranksPerNode);
            doc.put("config", Map.of("experts", experts, "topk", topk, "node_limit", limit, "hidden", hidden,
                    "intermediate", intermediate, "tokens_per_rank", tokens, "combine", combine, "backend", layer.backend().cliName()));
            doc.put("step_ms_median", median);
            doc.put("step_ms", Arrays.stream(nanos).mapToDouble(v -> v / 1e6).toArray());
            doc.put("maxvio_batch", maxVio);
            Map<String, Object> bytes = new LinkedHashMap<>();
            bytes.put("dispatch_inter_node", sum.dispatchBytesInterNode() / steps);
            bytes.put("dispatch_intra_node", sum.dispatchBytesIntraNode() / steps);
            bytes.put("combine_inter_node", sum.combineBytesInterNode() / steps);
            bytes.put("combine_intra_node", sum.combineBytesIntraNode() / steps);
            doc.put("bytes_per_step", bytes);
            doc.put("assignments_per_step", sum.assignmentsRouted() / steps);
            if (checkResult != null) {
                doc.put("check", checkResult);
            }
            outputs.write(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(doc));
            outputs.commit();
        }
        return 0;
    }

    /** Rank r's input at a step: the same on every machine for a seed. */
    private float[] input(int rank, int step) {
        SplittableRandom rnd = new SplittableRandom(seed * 1_000_003L + rank * 7919L + step + 3);
        float[] x = new float[tokens * hidden];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    /**
     * Gathers every rank's last output; rank 0 runs the single-process layer on all ranks' inputs of
     * that step (regenerated from the seed) and compares.
     */
    private String check(Communicator comm, MoeLayerWeights w, Backend be, float[] x, float[] y, int step) {
        byte[] mine = new byte[4 * y.length];
        java.nio.ByteBuffer.wrap(mine).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(y);
        byte[][] all = comm.allGather(mine);
        if (comm.rank() != 0) {
            return null;
        }
        int ranks = comm.size();
        float[] xs = new float[ranks * x.length];
        float[] ys = new float[ranks * y.length];
        for (int r = 0; r < ranks; r++) {
            System.arraycopy(input(r, step), 0, xs, r * x.length, x.length);
            java.nio.ByteBuffer.wrap(all[r]).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(ys, r * y.length, y.length);
        }
        float[] want = MoeLayer.create(w, be == Backend.AUTO ? dev.moe.routing.Routers.resolveAuto() : be).forward(xs, ranks * tokens);
        long differ = 0;
        double maxAbs = 0;
        double scale = 0;
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(ys[i])) {
                differ++;
            }
            maxAbs = Math.max(maxAbs, Math.abs(want[i] - ys[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        if (combine.equals("exact") && differ != 0) {
            throw new IllegalStateException("check: the exact combine differs from the single-process layer in " + differ + " of "
                    + want.length + " values (max |diff| " + maxAbs + ")");
        }
        return differ == 0
                ? String.format(Locale.ROOT, "check: identical to the single-process layer (%d values, bit for bit)", want.length)
                : String.format(Locale.ROOT, "check: %d of %d values differ from the single-process layer, max |diff| %.3g "
                        + "(%.2g of max |y| %.3g)", differ, want.length, maxAbs, maxAbs / scale, scale);
    }

    private static long[] add(long[] a, long[] b) {
        for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
        }
        return a;
    }

    /** Prints on rank 0 only. */
    private record PrintWriter0(java.io.PrintWriter w) {
        void printf(String fmt, Object... args) {
            printf(Locale.ROOT, fmt, args);
        }

        void printf(Locale l, String fmt, Object... args) {
            if (w != null) {
                w.printf(l, fmt, args);
                w.flush();
            }
        }

        void println(String s) {
            if (w != null) {
                w.println(s);
                w.flush();
            }
        }
    }
}

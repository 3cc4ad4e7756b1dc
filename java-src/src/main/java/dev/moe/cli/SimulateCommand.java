package dev.moe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

import dev.moe.backend.Backend;
import dev.moe.balance.BiasUpdateRule;
import dev.moe.dist.Communicator;
import dev.moe.io.AtomicFiles;
import dev.moe.io.OutputFiles;
import dev.moe.backend.Backend;
import dev.moe.routing.GroupScore;
import dev.moe.routing.RoutingConfig;
import dev.moe.sim.BalancerKind;
import dev.moe.sim.SimulationResult;
import dev.moe.sim.SimulationSettings;
import dev.moe.sim.Simulator;
import dev.moe.sim.StepRecord;
import dev.moe.sim.Workload;
import dev.moe.topology.GroupScope;
import dev.moe.topology.Topology;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moe simulate}: the balancing loop over a synthetic router, one CSV row per step (docs/cli.md). */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = {"Run the load-balancing loop over a synthetic router and write one CSV row per step.",
                "Workloads: uniform = domains mixed uniformly, no per-expert popularity; skewed = plus static per-expert "
                        + "popularity (std 0.6); drift = popularity plus a domain mix drifting with period 500 steps.",
                "deepseek-v3: router groups are nodes (node-limited routing, never drops); deepseek-v2: groups are GPUs "
                        + "(device-limited, device-level dropping at capacity factor 1.0). --limit device gives deepseek-v3 "
                        + "V2's device-limited rule (groups = GPUs, group score = max) for traffic comparisons.",
                "aux-loss: trains per-expert logit offsets by SGD on the balance loss (V3: sequence-wise loss with --alpha; "
                        + "V2: its three losses with alpha1 = --alpha and alpha2, alpha3 in V2's ratios).",
                "CSV columns: " + StepRecord.CSV_HEADER})
final class SimulateCommand implements Callable<Integer> {
    @Option(names = "--preset", defaultValue = "deepseek-v3", description = "deepseek-v3 or deepseek-v2 (default ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--nodes", description = "Nodes (default: 8 for deepseek-v3, 1 for deepseek-v2).")
    Integer nodes;

    @Option(names = "--gpus-per-node", description = "GPUs per node (default 8).")
    Integer gpusPerNode;

    @Option(names = "--node-limit", description = "Nodes (V3) or devices (V2) a token may reach, M (default: the preset's, 4 or 3).")
    Integer nodeLimit;

    @Option(names = "--workload", defaultValue = "skewed", description = "uniform, skewed or drift (default ${DEFAULT-VALUE}).")
    String workload;

    @Option(names = "--steps", defaultValue = "2000", description = "Training steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--tokens-per-step", defaultValue = "8192", description = "Tokens per step (default ${DEFAULT-VALUE}).")
    int tokensPerStep;

    @Option(names = "--layers", defaultValue = "1", description = "MoE layers (default ${DEFAULT-VALUE}); MaxVio is their mean.")
    int layers;

    @Option(names = "--balancer", defaultValue = "loss-free", description = "loss-free, aux-loss or none (default ${DEFAULT-VALUE}).")
    String balancer;

    @Option(names = "--limit", description = "What the group limit M counts: node or device (default: node for deepseek-v3, "
            + "device for deepseek-v2).")
    String limit;

    @Option(names = "--capacity-factor", description = "Device-level token dropping at this capacity factor; 0 = never drop "
            + "(default: 1.0 for deepseek-v2, 0 for deepseek-v3, which never drops).")
    Double capacityFactor;

    @Option(names = "--aux-lr", defaultValue = "1000", description = "aux-loss: SGD learning rate of the logit offsets "
            + "(default ${DEFAULT-VALUE}).")
    float auxLr;

    @Option(names = "--gamma", defaultValue = "0.001", description = "Bias update speed (default ${DEFAULT-VALUE}).")
    float gamma;

    @Option(names = "--update", defaultValue = "sign", description = "Bias update rule: sign, proportional or multiplicative "
            + "(select on s*b; default ${DEFAULT-VALUE}).")
    String update;

    @Option(names = "--alpha", defaultValue = "0.0001", description = "Auxiliary-loss coefficient (default ${DEFAULT-VALUE}).")
    float alpha;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default ${DEFAULT-VALUE}); same seed, same CSV on every backend.")
    long seed;

    @Option(names = "--backend", defaultValue = "auto", description = "java, cpu, cuda or auto (default ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--csv", required = true, paramLabel = "run.csv", description = "Where to write the per-step CSV.")
    Path csv;

    @Option(names = "--plot", paramLabel = "run.png", description = "Also write a PNG: MaxVio, bias trajectories, load heat map.")
    Path plot;

    @CommandLine.Mixin
    MpiOption mpi;

    @Option(names = "--fail-at", hidden = true, paramLabel = "RANK:STEP",
            description = "Test hook: that rank fails at that step (the whole MPI job must end non-zero).")
    String failAt;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        SimulationSettings.Builder builder = settings();
        SimulationSettings checked = builder.build();  // every flag checked; the backend may still be auto
        MemoryBudget.of("simulate --tokens-per-step " + tokensPerStep + " --layers " + layers + " --steps " + steps)
                .simulation(checked).require();
        Communicator comm = mpi.open();
        return MpiOption.run(comm, () -> simulate(builder, checked, comm));
    }

    private int simulate(SimulationSettings.Builder builder, SimulationSettings checked, Communicator comm) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        boolean lead = comm.rank() == 0;
        Simulator.FailurePoint failure = failurePoint();
        // Rank 0 writes; its outputs are checked before any work.
        try (OutputFiles outputs = lead ? OutputFiles.builder().output("--csv", csv).output("--plot", plot).open() : null) {
            SimulationSettings settings = checked.backend() == Backend.AUTO
                    ? builder.backend(dev.moe.routing.Routers.resolveAuto()).build() : checked;
            Simulator sim = new Simulator(settings, comm).failAt(failure);
            SimulationResult r;
            if (System.console() != null && lead) {
                try (ProgressBar bar = new ProgressBarBuilder().setTaskName("simulate").setInitialMax(steps)
                        .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err))
                        .build()) {
                    r = sim.run(step -> bar.step());
                }
            } else {
                Consumer<StepRecord> none = step -> { };
                r = sim.run(none);
            }
            if (!lead) {
                return 0;  // rank 0 holds the same records and writes them
            }
            outputs.write(csv, r.csv().getBytes(StandardCharsets.US_ASCII));
            if (plot != null) {
                outputs.write(plot, SimulationPlots.png(r, balancer + ", " + workload + ", " + preset));
            }
            outputs.commit();
            report(out, settings, r, comm);
        }
        return 0;
    }

    private Simulator.FailurePoint failurePoint() {
        if (failAt == null) {
            return null;
        }
        String[] p = failAt.split(":");
        if (p.length != 2) {
            throw new UsageException("--fail-at: expected RANK:STEP, got '" + failAt + "'");
        }
        return new Simulator.FailurePoint(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
    }

    private void report(PrintWriter out, SimulationSettings settings, SimulationResult r, Communicator comm) {
        StepRecord last = r.last();
        out.println(String.format(Locale.ROOT,
                "%s %s %s: %d steps x %d tokens x %d layers on %s | final MaxVio_batch %.3f (last-100 mean %.3f), "
                        + "MaxVio_global %.3f | dropped %d | cross-node sends %.2f per token, max nodes/token %d | "
                        + "%.2fM routings/s, balancer %.3f%% of time",
                preset, balancer, workload, steps, tokensPerStep, layers, settings.backend().cliName(), last.maxVioBatch(),
                r.meanMaxVioLast(100), r.maxVioGlobal(), r.totalDropped(),
                (double) r.totalCrossNodeSends() / ((long) steps * tokensPerStep * layers),
                r.steps().stream().mapToInt(StepRecord::maxNodesPerToken).max().orElse(0), r.routingsPerSecond() / 1e6,
                100 * r.balancerShare()));
        if (settings.balancer() == BalancerKind.AUX_LOSS) {
            out.println(String.format(Locale.ROOT, "aux-loss: mean injected gradient norm |dL/dz| %.4g, final loss %.4g",
                    r.steps().stream().mapToDouble(StepRecord::auxGradNorm).average().orElse(0), last.auxLoss()));
        }
        if (comm.size() > 1) {
            printParallel(out, settings, r, comm);
        }
        out.flush();
    }

    /**
     * The distributed figures: step time, what the ranks exchanged, and what the dispatch of those routings
     * would move in the modelled cluster (FP8 rows: H code bytes + H/128 FP32 scales; H = 7168 for
     * deepseek-v3, 5120 for deepseek-v2).
     */
    private void printParallel(PrintWriter out, SimulationSettings settings, SimulationResult r, Communicator comm) {
        var p = r.parallel();
        int hidden = preset.equals("deepseek-v2") ? 5120 : 7168;
        long rowBytes = hidden + 4L * ((hidden + 127) / 128);
        double tokens = (double) steps * tokensPerStep * layers;
        out.println(String.format(Locale.ROOT,
                "mpi%s: %d ranks x %d tokens per step | step %.2f ms median, %.2f ms mean | load all-reduce %d B per rank "
                        + "per step, %d bias checks passed (bit-identical on every rank)",
                comm.describe().replaceFirst("^mpi rank \\d+ of \\d+", ""), p.ranks(), p.tokensPerRank(),
                1e3 * p.medianStepSeconds(), 1e3 * p.meanStepSeconds(), p.allReduceBytesPerStep(), p.biasChecks()));
        out.println(String.format(Locale.ROOT,
                "dispatch of these routings on %s (FP8 rows of %d B): inter-node %.2f copies/token = %.1f MB per step, "
                        + "intra-node %.2f forwards/token = %.1f MB per step",
                settings.topology().nodes() + " nodes x " + settings.topology().gpusPerNode() + " GPUs", rowBytes, r.totalCrossNodeSends() / tokens,
                r.totalCrossNodeSends() * rowBytes / 1e6 / steps, r.totalIntraNodeForwards() / tokens,
                r.totalIntraNodeForwards() * rowBytes / 1e6 / steps));
    }

    /** The settings of the flags, the backend as given (auto is resolved once the run is known to be valid). */
    SimulationSettings.Builder settings() {
        RoutingConfig base = RoutingConfig.preset(preset);
        boolean v3 = base.groupScore() == GroupScore.TOP_J_SUM;
        int nodeCount = nodes != null ? nodes : (v3 ? 8 : 1);
        int perNode = gpusPerNode != null ? gpusPerNode : 8;
        GroupScope scope = limitScope(v3);
        RoutingConfig.Builder b = base.toBuilder();
        if (scope == GroupScope.NODE) {
            b.groups(nodeCount).topkGroups(nodeLimit != null ? nodeLimit : Math.min(base.topkGroups(), nodeCount));
        } else {
            int gpus = nodeCount * perNode;
            // V2's device-limited rule: groups are GPUs ranked by their best expert.
            b.groups(gpus).groupScore(GroupScore.MAX).topkGroups(nodeLimit != null ? nodeLimit : Math.min(3, gpus));
        }
        if (v3 && capacityFactor != null && capacityFactor != 0) {
            throw new UsageException("--capacity-factor: deepseek-v3 never drops tokens (docs/specification.md §g.2); use --preset deepseek-v2");
        }
        double cf = capacityFactor != null ? capacityFactor : (v3 ? 0 : 1.0);
        return SimulationSettings.builder()
                .routing(b.build(), Topology.contiguous(nodeCount, perNode, base.numExperts()), scope)
                .layers(layers).steps(steps).tokensPerStep(tokensPerStep).workload(Workload.parse(workload))
                .balancer(BalancerKind.parse(balancer)).gamma(gamma).rule(BiasUpdateRule.byName(update)).alpha(alpha)
                .auxLearningRate(auxLr).capacityFactor(cf).seed(seed)
                .backend(Backend.parse(backend)).heldOutTokens(16384);
    }

    private GroupScope limitScope(boolean v3) {
        if (limit == null) {
            return v3 ? GroupScope.NODE : GroupScope.DEVICE;
        }
        return switch (limit) {
            case "node" -> GroupScope.NODE;
            case "device" -> GroupScope.DEVICE;
            default -> throw new UsageException("--limit: expected node or device, got '" + limit + "'");
        };
    }
}

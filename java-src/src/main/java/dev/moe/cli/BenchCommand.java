package dev.moe.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moe bench}: in-process timing comparisons of the backends, as JSON. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Time the backends on the same data.",
        subcommands = {BenchRouteCommand.class, BenchFp8GemmCommand.class, BenchLayerCommand.class, BenchEpLayerCommand.class, BenchTrainCommand.class})
final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Without a subcommand: the usage, on stderr, and exit 2. */
    @Override
    public Integer call() {
        return MoeCli.missingSubcommand(spec);
    }
}

package dev.moe.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moe fp8}: FP8 E4M3 tools of the DeepSeek-V3 recipe (quantisation; GEMM to come). */
@Command(name = "fp8", mixinStandardHelpOptions = true, description = "FP8 (E4M3) block quantisation tools.",
        subcommands = {Fp8QuantizeCommand.class, Fp8GemmCommand.class})
final class Fp8Command implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Without a subcommand: the usage, on stderr, and exit 2. */
    @Override
    public Integer call() {
        return MoeCli.missingSubcommand(spec);
    }
}

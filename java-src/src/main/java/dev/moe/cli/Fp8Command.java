package dev.moe.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moe fp8}: FP8 E4M3 tools of the DeepSeek-V3 recipe (quantisation; GEMM to come). */
@Command(name = "fp8", mixinStandardHelpOptions = true, description = "FP8 (E4M3) block quantisation tools.",
        subcommands = {Fp8QuantizeCommand.class, Fp8GemmCommand.class})
final class Fp8Command implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}

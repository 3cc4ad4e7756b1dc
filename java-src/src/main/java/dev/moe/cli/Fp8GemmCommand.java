package dev.moe.cli;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.moe.backend.Backend;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8Gemm;
import dev.moe.fp8.Fp8Quantizer;
import dev.moe.fp8.NonFiniteTensorException;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.io.Npy;
import dev.moe.io.NpyArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code moe fp8 gemm}: quantises A (1x128) and B (128x128) and writes C = A_q·B_qᵀ (cli.md). */
@Command(name = "gemm", mixinStandardHelpOptions = true,
        description = {"FP8 block-scaled GEMM C = A·Bᵀ, DeepSeek-V3 recipe: A [M, K] (activations) quantised in 1x128 tiles, "
                + "B [N, K] (weights, one row per output channel) in 128x128 blocks, exactly as 'fp8 quantize' does; FP32 "
                + "accumulation, each 128-wide K chunk scaled by its two scales. Writes float32 C [M, N]."})
final class Fp8GemmCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--a", required = true, paramLabel = "A.npy", description = "float32 [M, K] activations.")
    Path a;

    @Option(names = "--b", required = true, paramLabel = "B.npy", description = "float32 [N, K] weights.")
    Path b;

    @Option(names = "--out", required = true, paramLabel = "C.npy", description = "Output: float32 [M, N].")
    Path out;

    @Option(names = "--backend", paramLabel = "java|cpu|cuda|auto", defaultValue = "auto",
            description = "Where to quantise and multiply (default ${DEFAULT-VALUE}: cuda if a GPU is usable, else cpu, else java).")
    String backend;

    @Override
    public Integer call() throws IOException {
        Backend be = Backend.parse(backend);
        Fp8Gemm gemm = Fp8Gemm.create(be);
        Fp8Quantizer quantizer = Fp8Quantizer.create(gemm.backend());
        QuantizedTensor qa = read(quantizer, a, "--a", Fp8Block.ROW_1X128);
        QuantizedTensor qb = read(quantizer, b, "--b", Fp8Block.TILE_128X128);
        if (qa.cols() != qb.cols()) {
            throw new UsageException("--a " + a + " is [" + qa.rows() + ", " + qa.cols() + "] but --b " + b + " is [" + qb.rows()
                    + ", " + qb.cols() + "]: C = A·Bᵀ needs the same K");
        }
        float[] c = gemm.gemm(qa, qb);
        Npy.write(out, Npy.ofFloats(c, qa.rows(), qb.rows()));
        spec.commandLine().getOut().println("C [" + qa.rows() + ", " + qb.rows() + "] = A·Bᵀ (K = " + qa.cols() + ") on "
                + gemm.backend().cliName() + ": " + out);
        return 0;
    }

    private static QuantizedTensor read(Fp8Quantizer quantizer, Path file, String option, Fp8Block block) throws IOException {
        float[] x;
        int rows;
        int cols;
        try (Arena arena = Arena.ofConfined()) {
            NpyArray arr = Npy.readFloat32(file, arena);
            if (arr.rank() != 2) {
                throw new UsageException(option + " " + file + ": expected a 2-D float32 matrix, got shape " + arr.shapeString());
            }
            if (arr.elementCount() > Integer.MAX_VALUE - 8) {
                throw new UsageException(option + " " + file + ": " + arr.shapeString() + " has more than 2^31 elements");
            }
            rows = (int) arr.dim(0);
            cols = (int) arr.dim(1);
            x = arr.toFloatArray();
        }
        try {
            return quantizer.quantize(x, rows, cols, block, false);
        } catch (NonFiniteTensorException e) {
            throw new UsageException(option + " " + file + ": " + e.getMessage());
        }
    }
}

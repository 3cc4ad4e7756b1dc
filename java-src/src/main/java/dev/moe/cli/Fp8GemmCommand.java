package dev.moe.cli;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
import dev.moe.io.NpyDType;
import dev.moe.io.OutputFiles;
import dev.moe.backend.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code moe fp8 gemm}: quantises A (1x128) and B (128x128) and writes C = A_q·B_qᵀ (docs/cli.md). */
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
        try (OutputFiles outputs = OutputFiles.builder().input("--a", a).input("--b", b).output("--out", out).open();
             Arena arena = Arena.ofConfined()) {
            NpyArray xa = matrix(a, "--a", arena);
            NpyArray xb = matrix(b, "--b", arena);
            int m = (int) xa.dim(0);
            int n = (int) xb.dim(0);
            int k = (int) xa.dim(1);
            if (xb.dim(1) != k) {
                throw new UsageException("--a " + a + " is [" + m + ", " + k + "] but --b " + b + " is [" + n + ", " + xb.dim(1)
                        + "]: C = A·Bᵀ needs the same K");
            }
            if ((long) m * n > NpyInputs.MAX_ARRAY) {
                throw new UsageException("--out " + out + ": C [" + m + ", " + n + "] would have more than 2^31 elements");
            }
            // float copies, codes and scales of A and B, then C, all on the heap.
            MemoryBudget.of("fp8 gemm of A [" + m + ", " + k + "] and B [" + n + ", " + k + "]")
                    .heap(m, k, 5).heap(n, k, 5).heap(m, n, 4).require();
            Fp8Gemm gemm = Fp8Gemm.create(be);  // after every check: auto's INFO line never precedes an error
            Fp8Quantizer quantizer = Fp8Quantizer.create(gemm.backend());
            QuantizedTensor qa = quantizer.quantize(xa.toFloatArray(), m, k, Fp8Block.ROW_1X128, false);
            QuantizedTensor qb = quantizer.quantize(xb.toFloatArray(), n, k, Fp8Block.TILE_128X128, false);
            float[] c = gemm.gemm(qa, qb);
            outputs.write(out, Npy.contents(NpyDType.FLOAT32, new long[] {m, n}, MemorySegment.ofArray(c)));
            outputs.commit();
            spec.commandLine().getOut().println("C [" + m + ", " + n + "] = A·Bᵀ (K = " + k + ") on "
                    + gemm.backend().cliName() + ": " + out);
        }
        return 0;
    }

    /** A float32 [rows, cols] matrix whose dimensions and element count fit Java arrays, all values finite. */
    private static NpyArray matrix(Path file, String option, Arena arena) throws IOException {
        NpyInputs.Header h = NpyInputs.header(file);
        if (h.shape().length != 2) {
            throw new UsageException(option + " " + file + ": expected a 2-D float32 matrix, got shape " + h.text());
        }
        NpyInputs.requireArraySized(option, file, h);
        NpyArray arr = NpyInputs.readFloat32(option, file, arena);
        long bad = FiniteScan.firstNonFinite(arr.data());
        if (bad >= 0) {
            throw new UsageException(option + " " + file + ": " + new NonFiniteTensorException(bad / arr.dim(1), bad % arr.dim(1),
                    FiniteScan.at(arr.data(), bad)).getMessage());
        }
        return arr;
    }
}

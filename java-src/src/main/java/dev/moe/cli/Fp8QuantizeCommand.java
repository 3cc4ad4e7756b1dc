package dev.moe.cli;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.moe.backend.Backend;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8Quantizer;
import dev.moe.fp8.NonFiniteTensorException;
import dev.moe.io.Npy;
import dev.moe.io.NpyArray;
import dev.moe.io.NpyDType;
import dev.moe.io.OutputFiles;
import dev.moe.backend.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code moe fp8 quantize}: block-quantises a float32 matrix to E4M3 codes and per-tile scales. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Block-quantise a float32 [R, C] matrix to FP8 E4M3 (DeepSeek-V3 recipe).",
                "Per tile: scale = max(amax, 1e-4) / 448 (optionally rounded up to a power of two), q = e4m3(x / scale). "
                        + "Writes uint8 [R, C] codes and float32 scales [R, ceil(C/128)] (1x128) or "
                        + "[ceil(R/128), ceil(C/128)] (128x128); both files or neither."})
final class Fp8QuantizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--in", required = true, paramLabel = "X.npy", description = "float32 [R, C] input matrix.")
    Path in;

    @Option(names = "--block", required = true, paramLabel = "1x128|128x128",
            description = "Tile shape: 1x128 (activations) or 128x128 (weights).")
    String block;

    @Option(names = "--out-q", required = true, paramLabel = "Q.npy", description = "Output: uint8 [R, C] E4M3 codes.")
    Path outQ;

    @Option(names = "--out-scales", required = true, paramLabel = "S.npy", description = "Output: float32 tile scales.")
    Path outScales;

    @Option(names = "--backend", paramLabel = "java|cpu|cuda|auto", defaultValue = "auto",
            description = "Where to quantise (default ${DEFAULT-VALUE}: cuda if a GPU is usable, else cpu, else java).")
    String backend;

    @Option(names = "--pow2-scales", description = "Round each scale up to a power of two (UE8M0 scales).")
    boolean pow2;

    @Override
    public Integer call() throws IOException {
        Fp8Block tiles = parseBlock();
        Backend be = Backend.parse(backend);
        try (OutputFiles outputs = OutputFiles.builder().input("--in", in).output("--out-q", outQ).output("--out-scales", outScales)
                .open();
             Arena arena = Arena.ofConfined()) {
            NpyArray a = NpyInputs.readFloat32("--in", in, arena);  // a private, 64-byte-aligned copy: safe to hand to native code
            if (a.rank() != 2) {
                throw new UsageException("--in " + in + ": expected a 2-D float32 matrix [R, C], got shape " + a.shapeString());
            }
            long rows = a.dim(0);
            long cols = a.dim(1);
            long[] scaleShape = tiles.scaleShape(rows, cols);
            MemorySegment x = a.data();
            long bad = FiniteScan.firstNonFinite(x);
            if (bad >= 0) {
                throw new UsageException("--in " + in + ": "
                        + new NonFiniteTensorException(bad / cols, bad % cols, FiniteScan.at(x, bad)).getMessage());
            }
            Fp8Quantizer quantizer = Fp8Quantizer.create(be);  // after every check: auto's INFO line never precedes an error
            MemorySegment q = arena.allocate(Math.max(1, a.elementCount()), 64).asSlice(0, a.elementCount());
            long ns = tiles.scaleCount(rows, cols);
            MemorySegment scales = arena.allocate(Math.max(1, 4 * ns), 64).asSlice(0, 4 * ns);
            try {
                quantizer.quantize(x, rows, cols, tiles, pow2, q, scales);
            } catch (NonFiniteTensorException e) {
                throw new UsageException("--in " + in + ": " + e.getMessage());
            }
            outputs.write(outQ, Npy.contents(NpyDType.UINT8, new long[] {rows, cols}, q));
            outputs.write(outScales, Npy.contents(NpyDType.FLOAT32, scaleShape, scales));
            outputs.commit();
            spec.commandLine().getOut().println("quantized [" + rows + ", " + cols + "] in " + tiles.cliName() + " tiles on "
                    + quantizer.backend().cliName() + (pow2 ? " (power-of-two scales)" : "") + ": " + outQ + ", " + outScales
                    + " [" + scaleShape[0] + ", " + scaleShape[1] + "]");
        }
        return 0;
    }

    private Fp8Block parseBlock() {
        try {
            return Fp8Block.parse(block);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--block: " + e.getMessage());
        }
    }
}

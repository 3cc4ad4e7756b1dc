package dev.moe.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import dev.moe.backend.Backend;
import dev.moe.cli.MoeCli;
import dev.moe.fp8.BlockQuantizer;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8Gemm;
import dev.moe.fp8.Fp8Quantizer;
import dev.moe.fp8.NonFiniteTensorException;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.io.Npy;

/**
 * Fuzzed FP8 inputs (any float bit pattern, any small shape: java and cpu quantise to the same bytes
 * or both reject the same element; their GEMMs agree) and fuzzed command lines (every one ends in
 * exit code 0, 1 or 2 with no exception escaping and no file written outside the scratch directory).
 * Regression mode over src/test/resources/dev/moe/fuzz/KernelAndCliFuzzTestInputs in every build.
 */
class KernelAndCliFuzzTest {

    @FuzzTest(maxDuration = "20s")
    void fp8QuantiseAndGemm(FuzzedDataProvider in) {
        int rows = in.consumeInt(0, 5);
        int cols = in.consumeInt(0, 300);
        Fp8Block block = in.consumeBoolean() ? Fp8Block.ROW_1X128 : Fp8Block.TILE_128X128;
        boolean pow2 = in.consumeBoolean();
        boolean small = in.consumeBoolean();
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = small ? in.consumeRegularFloat(-1e6f, 1e6f) : in.consumeFloat();
        }
        QuantizedTensor java;
        try {
            java = BlockQuantizer.quantize(x, rows, cols, block, pow2);
        } catch (NonFiniteTensorException e) {
            NonFiniteTensorException n = assertThrows(NonFiniteTensorException.class,
                    () -> Fp8Quantizer.create(Backend.CPU).quantize(x, rows, cols, block, pow2));
            assertEquals(e.getMessage(), n.getMessage());
            return;
        }
        QuantizedTensor cpu = Fp8Quantizer.create(Backend.CPU).quantize(x, rows, cols, block, pow2);
        assertEquals(java, cpu);
        if (small) {
            QuantizedTensor a = BlockQuantizer.quantize(x, rows, cols, Fp8Block.ROW_1X128, false);
            QuantizedTensor b = BlockQuantizer.quantize(x, rows, cols, Fp8Block.TILE_128X128, false);
            float[] cj = Fp8Gemm.create(Backend.JAVA).gemm(a, b);
            float[] cc = Fp8Gemm.create(Backend.CPU).gemm(a, b);
            float[] da = BlockQuantizer.dequantize(a);
            float[] db = BlockQuantizer.dequantize(b);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < rows; j++) {
                    double bound = 0;  // Σ|a·b|: the scale of any summation order's rounding error
                    for (int q = 0; q < cols; q++) {
                        bound += Math.abs((double) da[i * cols + q] * db[j * cols + q]);
                    }
                    int o = i * rows + j;
                    assertTrue(Math.abs((double) cj[o] - cc[o]) <= 2e-5 * bound + 1e-30, "C[" + i + ", " + j + "]: java " + cj[o]
                            + " vs cpu " + cc[o] + " (bound " + bound + ")");
                }
            }
        }
    }

    private static final String[] WORDS = {"route", "simulate", "eplb", "fp8", "quantize", "gemm", "layer", "version", "--preset",
        "deepseek-v3", "deepseek-v2", "--logits", "--bias", "--out-ids", "--out-weights", "--backend", "java", "cpu", "cuda",
        "auto", "--experts", "--groups", "--topk-groups", "--topk", "--score", "sigmoid", "softmax", "--group-score", "max",
        "top2sum", "--scale", "--normalize", "true", "false", "--steps", "--tokens-per-step", "--csv", "--balancer",
        "loss-free", "aux-loss", "none", "--workload", "skewed", "--in", "--block", "1x128", "128x128", "--out-q",
        "--out-scales", "--a", "--b", "--out", "--loads", "--replicas", "--nodes", "--gpus", "--out-phy2log", "--weights",
        "--layer", "--input", "-1", "0", "1", "2", "3", "8", "abc", "1e9", "NaN", "--help"};

    @FuzzTest(maxDuration = "20s")
    void commandLines(FuzzedDataProvider in) throws IOException {
        Path dir = Files.createTempDirectory("moe-fuzz-cli");
        try {
            Path logits = dir.resolve("l.npy");
            Npy.write(logits, Npy.ofFloats(new float[2 * 256], 2, 256));
            String[] paths = {logits.toString(), dir.resolve("out1.npy").toString(), dir.resolve("out2.npy").toString(),
                dir.resolve("run.csv").toString(), dir.resolve("missing.npy").toString()};
            int count = in.consumeInt(0, 12);
            List<String> args = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                args.add(in.consumeBoolean() ? paths[in.consumeInt(0, paths.length - 1)] : WORDS[in.consumeInt(0, WORDS.length - 1)]);
            }
            StringWriter sink = new StringWriter();
            int code = MoeCli.run(new PrintWriter(sink, true), new PrintWriter(sink, true), args.toArray(String[]::new));
            assertTrue(code == 0 || code == 1 || code == 2, "exit code " + code + " for " + args);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }
}

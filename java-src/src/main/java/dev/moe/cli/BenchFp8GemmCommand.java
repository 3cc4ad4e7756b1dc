package dev.moe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.moe.backend.Backend;
import dev.moe.backend.BackendStatus;
import dev.moe.backend.BackendUnavailableException;
import dev.moe.backend.Backends;
import dev.moe.backend.MachinePeaks;
import dev.moe.fp8.CudaGemmKernel;
import dev.moe.fp8.ExpertWeights;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8Gemm;
import dev.moe.fp8.Fp8Quantizer;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.io.AtomicFiles;
import dev.moe.io.OutputFiles;
import dev.moe.backend.Backend;
import dev.moe.backend.BackendStatus;
import dev.moe.backend.BackendUnavailableException;
import dev.moe.backend.Backends;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code moe bench fp8-gemm} (docs/cli.md): times the FP8 block-scaled GEMM of each backend on the same
 * generated operands and reports GFLOP/s as a fraction of this machine's FP32 FMA peak and, for the
 * memory-bound shapes, of its streaming read bandwidth, both measured in the same run.
 */
@Command(name = "fp8-gemm", mixinStandardHelpOptions = true,
        description = {"Time the FP8 block-scaled GEMM C = A·Bᵀ (A [M, K] 1x128, B [N, K] 128x128) on each backend and write JSON.",
                "With --experts E: grouped contiguous layout, the M rows split evenly over E experts, B [E, N, K].",
                "Also measures the FP32 FMA peak and the streaming read bandwidth of this machine in the same run.",
                "On cuda the operands stay on the GPU and the row reports TFLOP/s against the device's FP8 peak and HBM bandwidth.",
                "The java backend is timed twice: the scalar reference and, when the JVM has jdk.incubator.vector, the Vector API "
                        + "path (\"java-vector\", dense only)."})
final class BenchFp8GemmCommand implements Callable<Integer> {
    @Option(names = "--m", required = true, description = "Rows of A (tokens).")
    int m;

    @Option(names = "--n", required = true, description = "Rows of B (output channels).")
    int n;

    @Option(names = "--k", required = true, description = "Inner dimension.")
    int k;

    @Option(names = "--experts", defaultValue = "1", description = "Experts E of a grouped GEMM (default ${DEFAULT-VALUE}: dense).")
    int experts;

    @Option(names = "--backends", paramLabel = "java,cpu,cuda", split = ",",
            description = "Backends to time (default: every usable one). A named backend that is unusable is an error.")
    List<String> backends;

    @Option(names = "--seconds", defaultValue = "2", paramLabel = "S",
            description = "Time per backend, at most 86400 (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--json", required = true, paramLabel = "out.json", description = "Where to write the results.")
    Path json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (m < 1 || n < 1 || k < 1 || experts < 1 || m % experts != 0) {
            throw new UsageException("--m, --n, --k and --experts must be >= 1 and --m a multiple of --experts; got m=" + m + " n=" + n
                    + " k=" + k + " experts=" + experts);
        }
        FlagChecks.seconds(seconds);
        requireMemory();
        OutputFiles outputs = OutputFiles.builder().output("--json", json).open();  // checked before any work
        List<Fp8Gemm> gemms = new ArrayList<>();
        boolean cuda = false;
        for (Backend b : BenchRouteCommand.chosen(backends, Backend.JAVA, Backend.CPU, Backend.CUDA)) {
            if (b == Backend.CUDA) {
                BackendStatus st = Backends.status(Backend.CUDA);
                if (!st.usable()) {
                    throw new BackendUnavailableException(Backend.CUDA, st.detail());
                }
                cuda = true;
                continue;
            }
            gemms.add(Fp8Gemm.create(b));  // fails before any timing if a named backend is unusable
            if (b == Backend.JAVA && experts == 1 && Fp8Gemm.vectorApiAvailable()) {
                gemms.add(Fp8Gemm.vector());  // reported as "java-vector"
            }
        }
        SplittableRandom rnd = new SplittableRandom(1);
        Fp8Quantizer q = Fp8Quantizer.create(Backend.AUTO);
        QuantizedTensor a = q.quantize(gaussian(rnd, (long) m * k), m, k, Fp8Block.ROW_1X128, false);
        List<QuantizedTensor> ws = new ArrayList<>();
        for (int e = 0; e < experts; e++) {
            ws.add(q.quantize(gaussian(rnd, (long) n * k), n, k, Fp8Block.TILE_128X128, false));
        }
        ExpertWeights w = ExpertWeights.of(ws);
        int[] offsets = new int[experts + 1];
        for (int e = 0; e <= experts; e++) {
            offsets[e] = e * (m / experts);
        }
        double flops = 2.0 * m * n * k;
        double bytes = (double) experts * n * k + (double) m * k + 4.0 * m * n;  // codes read once + C written
        List<Map<String, Object>> results = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<double[]> times = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ac = arena.allocateFrom(ValueLayout.JAVA_BYTE, a.codes());
            MemorySegment as = arena.allocateFrom(ValueLayout.JAVA_FLOAT, a.scales());
            MemorySegment wc = arena.allocateFrom(ValueLayout.JAVA_BYTE, w.codes());
            MemorySegment wsg = arena.allocateFrom(ValueLayout.JAVA_FLOAT, w.scales());
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, (long) m * n);
            for (Fp8Gemm g : gemms) {
                Runnable run;
                if (g.backend() == Backend.CPU) {
                    run = experts == 1 ? () -> g.gemm(m, n, k, ac, as, wc, wsg, c)
                            : () -> g.groupedContiguous(offsets, n, k, ac, as, wc, wsg, c);
                } else {
                    run = experts == 1 ? () -> g.gemm(a, ws.getFirst()) : () -> g.groupedContiguous(a, offsets, w);
                }
                names.add(g.isVector() ? "java-vector" : g.backend().cliName());
                times.add(Timing.measure(run, seconds));
            }
        }
        // The machine's ceilings, measured after the timings: at the start the JVM's compiler threads still
        // compete for the cores and the probes read low.
        MachinePeaks peaks = MachinePeaks.measure(Math.min(1.0, seconds), BenchRouteCommand.READ_PROBE_BYTES);
        double peak = peaks.fmaGflops();
        double readGbs = peaks.readGbs();
        for (int i = 0; i < names.size(); i++) {
            double[] t = times.get(i);
            double median = Timing.median(t);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("backend", names.get(i));
            row.put("median_s", median);
            row.put("min_s", t[0]);
            row.put("runs", t.length);
            row.put("gflops", flops / median / 1e9);
            row.put("fraction_of_peak", flops / median / 1e9 / peak);
            row.put("gbs", bytes / median / 1e9);
            row.put("fraction_of_read_bandwidth", bytes / median / 1e9 / readGbs);
            results.add(row);
        }
        if (cuda) {
            for (CudaGemmKernel kernel : CudaGemmKernel.values()) {
                Map<String, Object> row = cudaRow(a, w, offsets, flops, bytes, kernel);
                if (row != null) {
                    results.add(row);
                }
            }
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("machine", MachineInfo.describe());
        doc.put("benchmark", "fp8-gemm");
        doc.put("m", m);
        doc.put("n", n);
        doc.put("k", k);
        doc.put("experts", experts);
        doc.put("fma_peak_gflops", peak);
        doc.put("read_gbs", readGbs);
        doc.put("results", results);
        outputs.write(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(doc));
        outputs.commit();
        printTable(results, peak, readGbs);
        return 0;
    }

    /**
     * The operands fit this machine (FP32 draws, their FP8 codes per expert and concatenated, native copies,
     * C on the heap for java and off it) and every operand fits one Java array.
     */
    private void requireMemory() {
        long bCodes = MemoryBudget.product(experts, n, k);
        MemoryBudget.of("bench fp8-gemm --m " + m + " --n " + n + " --k " + k + " --experts " + experts)
                .heap(m, k, 4 + 1).heap(n, k, 4).heap(bCodes, 2).heap(m, n, 4 * 2).offHeap(m, k).offHeap(bCodes).offHeap(m, n, 4)
                .require();
        for (long elements : new long[] {MemoryBudget.product(m, k), bCodes, MemoryBudget.product(m, n)}) {
            if (elements > NpyInputs.MAX_ARRAY) {
                throw new UsageException("--m " + m + " --n " + n + " --k " + k + " --experts " + experts + ": an operand would have "
                        + "more than 2^31 elements");
            }
        }
    }

    /**
     * A CUDA kernel on device-resident operands: TFLOP/s against the GPU's FP8 peak and HBM bandwidth.
     * One row per {@link CudaGemmKernel} ("cuda" exact CUDA cores, "cuda-tc" mma.sync, "cuda-wgmma" and
     * "cuda-wgmma-tma" Hopper's); null for a kernel this GPU does not run.
     */
    private Map<String, Object> cudaRow(QuantizedTensor a, ExpertWeights w, int[] offsets, double flops, double bytes,
                                        CudaGemmKernel kernel) {
        String device = CudaGemmRun.deviceName();
        double[] t;
        try (CudaGemmRun run = new CudaGemmRun(a, w, offsets, kernel)) {
            if (!run.supported()) {
                spec.commandLine().getErr().printf("%s: not run on %s for this layout (see moe.h), skipped%n", kernel.label(), device);
                return null;
            }
            t = Timing.measure(run::run, seconds);
        }
        double median = Timing.median(t);
        double tflops = flops / median / 1e12;
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("backend", kernel.label());
        row.put("device", device);
        row.put("median_s", median);
        row.put("min_s", t[0]);
        row.put("runs", t.length);
        row.put("gflops", tflops * 1e3);
        row.put("tflops", tflops);
        row.put("fp8_peak_tflops", CudaGemmRun.fp8PeakTflops(device));
        row.put("fraction_of_peak", tflops / CudaGemmRun.fp8PeakTflops(device));
        row.put("gbs", bytes / median / 1e9);
        row.put("fraction_of_read_bandwidth", bytes / median / 1e9 / CudaGemmRun.hbmGbs(device));
        return row;
    }

    private static float[] gaussian(SplittableRandom rnd, long count) {
        if (count > Integer.MAX_VALUE - 8) {
            throw new UsageException("operand of " + count + " elements is too large for one benchmark call");
        }
        float[] x = new float[(int) count];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    private void printTable(List<Map<String, Object>> results, double peak, double readGbs) {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("fp8-gemm m=%d n=%d k=%d experts=%d | FMA peak %.1f GFLOP/s, read bandwidth %.1f GB/s (measured now)%n", m, n, k,
                experts, peak, readGbs);
        out.printf("%-8s %12s %10s %8s %10s %8s%n", "backend", "median ms", "GFLOP/s", "of peak", "GB/s", "of read");
        for (Map<String, Object> r : results) {
            out.printf("%-8s %12.3f %10.2f %7.1f%% %10.2f %7.1f%%%n", r.get("backend"), (Double) r.get("median_s") * 1e3,
                    (Double) r.get("gflops"), 100 * (Double) r.get("fraction_of_peak"), (Double) r.get("gbs"),
                    100 * (Double) r.get("fraction_of_read_bandwidth"));
        }
        for (Map<String, Object> r : results) {
            if (r.containsKey("device")) {
                out.printf("%s on %s: %.1f TFLOP/s; its \"of peak\" is of the FP8 dense peak (%.0f TFLOP/s), \"of read\" of HBM%n",
                        r.get("backend"), r.get("device"), (Double) r.get("tflops"), (Double) r.get("fp8_peak_tflops"));
            }
        }
        out.printf("written: %s%n", json);
        out.flush();
    }
}

package dev.moe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import dev.moe.backend.Backend;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8Gemm;
import dev.moe.fp8.Fp8Quantizer;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.routing.Router;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.SyntheticLogits;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code moe soak}: routes, quantises and multiplies on the cpu backend from several threads for a
 * while and reports the process's resident memory over time, to show that native memory (arenas,
 * kernel scratch, OpenMP) does not grow with use.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = {"Run the cpu kernels (route, FP8 quantise, FP8 GEMM) from --threads threads for --seconds seconds and "
                + "print resident memory (VmRSS) at the start, after warm-up, and at the end. Exit 1 if it grew by more "
                + "than --max-growth-mib after warm-up."})
final class SoakCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--seconds", defaultValue = "30", description = "Duration, > 0 and at most 86400 (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--threads", defaultValue = "8", description = "Caller threads, 1 to 1024 (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--max-growth-mib", defaultValue = "32", description = "Allowed RSS growth after warm-up (default ${DEFAULT-VALUE}).")
    long maxGrowthMib;

    @Override
    public Integer call() throws Exception {
        FlagChecks.seconds(seconds);
        FlagChecks.threads(threads);
        PrintWriter out = spec.commandLine().getOut();
        Router router = Routers.create(RoutingConfig.deepseekV3(), Backend.CPU);
        Fp8Quantizer quantizer = Fp8Quantizer.create(Backend.CPU);
        Fp8Gemm gemm = Fp8Gemm.create(Backend.CPU);
        float[] logits = SyntheticLogits.generate(2048, 256, 1f, 1);
        float[] x = gaussian(64 * 2048, 2);
        QuantizedTensor w = quantizer.quantize(gaussian(512 * 2048, 3), 512, 2048, Fp8Block.TILE_128X128, false);
        long start = rssKib();
        AtomicLong calls = new AtomicLong();
        Runnable work = () -> {
            router.route(logits, null);
            QuantizedTensor a = quantizer.quantize(x, 64, 2048, Fp8Block.ROW_1X128, false);
            gemm.gemm(a, w);
            calls.incrementAndGet();
        };
        runFor(work, Math.min(2.0, seconds / 4));  // warm-up: JIT, arenas, OpenMP pools reach steady state
        System.gc();
        long warm = rssKib();
        long peak = warm;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            runFor(work, Math.min(1.0, (end - System.nanoTime()) / 1e9));
            peak = Math.max(peak, rssKib());
        }
        System.gc();
        long last = rssKib();
        long growth = last - warm;
        out.println(String.format(Locale.ROOT, "soak: %d calls (route 2048 tokens + quantise 64x2048 + GEMM 64x512x2048) on %d "
                        + "threads in %.0f s | VmRSS start %.1f MiB, after warm-up %.1f MiB, peak %.1f MiB, end %.1f MiB, "
                        + "growth after warm-up %+.1f MiB (limit %d MiB)", calls.get(), threads, seconds, start / 1024.0,
                warm / 1024.0, peak / 1024.0, last / 1024.0, growth / 1024.0, maxGrowthMib));
        out.flush();
        return growth > maxGrowthMib * 1024 ? MoeCli.EXIT_FAILURE : 0;
    }

    private void runFor(Runnable work, double secs) throws Exception {
        long stop = System.nanoTime() + (long) (secs * 1e9);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            Future<?>[] fs = new Future<?>[threads];
            for (int t = 0; t < threads; t++) {
                fs[t] = pool.submit(() -> {
                    while (System.nanoTime() < stop) {
                        work.run();
                    }
                });
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static float[] gaussian(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    /** Resident set size of this process in KiB (Linux /proc/self/status). */
    static long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("/proc/self/status has no VmRSS line");
    }
}

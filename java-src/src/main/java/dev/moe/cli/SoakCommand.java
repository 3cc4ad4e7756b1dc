package dev.moe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
 * while and checks that native memory (arenas, kernel scratch, OpenMP) does not grow with use.
 *
 * <p>What it judges is the native heap ({@link NativeHeap}: malloc'd bytes in use), not the resident
 * set: VmRSS also holds the Java heap's pages, which grow by tens to hundreds of MiB in a healthy run
 * (the collector expands the heap under allocation and returns pages only lazily after shrinking it),
 * and the allocator's cached free memory; a VmRSS verdict failed runs that leaked nothing.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = {"Run the cpu kernels (route, FP8 quantise, FP8 GEMM) from --threads threads for --seconds seconds and "
                + "measure the native heap (bytes malloc'd and not freed, all glibc arenas: native libraries, OpenMP, FFM "
                + "arenas, the JVM's C heap; not the Java heap) after warm-up and at the end. Exit 1 if it grew by more than "
                + "--max-growth-mib. Resident memory (VmRSS, which includes the Java heap) is printed for reference.",
                "Without glibc's malloc_info the verdict falls back to VmRSS minus the committed Java heap."})
final class SoakCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--seconds", defaultValue = "30", description = "Duration, > 0 and at most 86400 (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--threads", defaultValue = "8", description = "Caller threads, 1 to 1024 (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--max-growth-mib", defaultValue = "32",
            description = "Allowed native heap growth after warm-up (default ${DEFAULT-VALUE}).")
    long maxGrowthMib;

    /** Memory at one point of the run, in bytes; {@code nativeHeap} is -1 where the C library cannot say. */
    record Sample(long rss, long nativeHeap, long javaHeapCommitted) {
        static Sample now() throws IOException {
            return new Sample(rssKib() * 1024, NativeHeap.inUseBytes().orElse(-1), ManagementFactory.getMemoryMXBean()
                    .getHeapMemoryUsage().getCommitted());
        }

        /** The native memory figure the verdict uses: the native heap, else VmRSS outside the committed Java heap. */
        long nativeBytes() {
            return nativeHeap >= 0 ? nativeHeap : rss - javaHeapCommitted;
        }
    }

    /**
     * What a soak saw: the number of calls and memory at the start, after warm-up, at its peak (per
     * second) and at the end (after a collection).
     */
    record Result(long calls, Sample start, Sample warm, Sample peak, Sample end) {
        /** {@return native memory growth from the end of warm-up to the end, in bytes} */
        long nativeGrowth() {
            return end.nativeBytes() - warm.nativeBytes();
        }
    }

    @Override
    public Integer call() throws Exception {
        FlagChecks.seconds(seconds);
        FlagChecks.threads(threads);
        PrintWriter out = spec.commandLine().getOut();
        Result r = soak(kernelCalls(), threads, seconds);
        long growth = r.nativeGrowth();
        String what = NativeHeap.available() ? "native heap (malloc'd, in use)" : "VmRSS outside the committed Java heap";
        out.println(String.format(Locale.ROOT, "soak: %d calls (route 2048 tokens + quantise 64x2048 + GEMM 64x512x2048) on %d "
                        + "threads in %.0f s | %s after warm-up %.1f MiB, peak %.1f MiB, end %.1f MiB, growth after warm-up %+.1f "
                        + "MiB (limit %d MiB) | VmRSS start %.1f MiB, after warm-up %.1f MiB, end %.1f MiB (includes the Java heap, "
                        + "committed %.1f -> %.1f MiB)", r.calls(), threads, seconds, what, mib(r.warm().nativeBytes()),
                mib(r.peak().nativeBytes()), mib(r.end().nativeBytes()), mib(growth), maxGrowthMib, mib(r.start().rss()),
                mib(r.warm().rss()), mib(r.end().rss()), mib(r.warm().javaHeapCommitted()), mib(r.end().javaHeapCommitted())));
        out.flush();
        return growth > maxGrowthMib << 20 ? MoeCli.EXIT_FAILURE : 0;
    }

    private static double mib(long bytes) {
        return bytes / (double) (1 << 20);
    }

    /** One unit of work on the cpu backend: route a batch, quantise activations, multiply by a weight matrix. */
    static Runnable kernelCalls() {
        Router router = Routers.create(RoutingConfig.deepseekV3(), Backend.CPU);
        Fp8Quantizer quantizer = Fp8Quantizer.create(Backend.CPU);
        Fp8Gemm gemm = Fp8Gemm.create(Backend.CPU);
        float[] logits = SyntheticLogits.generate(2048, 256, 1f, 1);
        float[] x = gaussian(64 * 2048, 2);
        QuantizedTensor w = quantizer.quantize(gaussian(512 * 2048, 3), 512, 2048, Fp8Block.TILE_128X128, false);
        return () -> {
            router.route(logits, null);
            QuantizedTensor a = quantizer.quantize(x, 64, 2048, Fp8Block.ROW_1X128, false);
            gemm.gemm(a, w);
        };
    }

    /**
     * Runs {@code work} from {@code threads} threads for {@code seconds} (after a warm-up of a quarter
     * of that, at most 2 s, in which JIT, arenas and OpenMP pools reach their steady state) and samples memory.
     *
     * @param work    one call; run over and over
     * @param threads caller threads
     * @param seconds duration after the warm-up
     * @return the calls made and the memory samples
     * @throws Exception if a call fails
     */
    static Result soak(Runnable work, int threads, double seconds) throws Exception {
        Sample start = Sample.now();
        AtomicLong calls = new AtomicLong();
        Runnable counted = () -> {
            work.run();
            calls.incrementAndGet();
        };
        runFor(counted, threads, Math.min(2.0, seconds / 4));
        Sample warm = settled();
        Sample peak = warm;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            runFor(counted, threads, Math.min(1.0, (end - System.nanoTime()) / 1e9));
            Sample s = Sample.now();
            peak = s.nativeBytes() > peak.nativeBytes() ? s : peak;
        }
        return new Result(calls.get(), start, warm, peak, settled());
    }

    /**
     * The lowest of a few samples taken after a collection (once the cleaners of unreachable FFM arenas
     * have run): a leak stays in every sample, while what is only briefly allocated (a JIT compilation's
     * arena, a thread being torn down) is in some of them at most.
     */
    private static Sample settled() throws IOException, InterruptedException {
        System.gc();
        Sample low = null;
        for (int i = 0; i < 5; i++) {
            Thread.sleep(40);
            Sample s = Sample.now();
            low = low == null || s.nativeBytes() < low.nativeBytes() ? s : low;
        }
        return low;
    }

    private static void runFor(Runnable work, int threads, double secs) throws Exception {
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
            pool.awaitTermination(10, TimeUnit.SECONDS);  // the threads' native state is freed before a sample
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

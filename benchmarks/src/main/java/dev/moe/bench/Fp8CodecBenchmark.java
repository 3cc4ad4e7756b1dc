package dev.moe.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.moe.backend.Backend;
import dev.moe.fp8.BlockQuantizer;
import dev.moe.fp8.E4m3;
import dev.moe.fp8.E4m3Vector;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8Quantizer;
import dev.moe.fp8.QuantizedTensor;

/**
 * E4M3 codec and 1×128 block quantisation throughput on 2^24 floats ([128 Ki, 128], 64 MiB): Java
 * scalar reference, Java Vector API, native (AVX2, OpenMP). {@code Fp8CodecReport} turns the JMH
 * JSON into Gelem/s and ratios.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class Fp8CodecBenchmark {
    static final int ROWS = 1 << 17;
    static final int COLS = 128;

    float[] x;
    byte[] codes;
    Arena arena;
    MemorySegment xs;
    MemorySegment qs;
    MemorySegment scales;
    Fp8Quantizer cpu;

    @Setup
    public void setup() {
        SplittableRandom rnd = new SplittableRandom(1);
        x = new float[ROWS * COLS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() * 40f;
        }
        codes = new byte[x.length];
        arena = Arena.ofShared();
        xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
        qs = arena.allocate(x.length, 64);
        scales = arena.allocate(ValueLayout.JAVA_FLOAT, ROWS);
        cpu = Fp8Quantizer.create(Backend.CPU);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public byte[] encodeJavaScalar() {
        for (int i = 0; i < x.length; i++) {
            codes[i] = E4m3.encode(x[i]);
        }
        return codes;
    }

    @Benchmark
    public byte[] encodeJavaVector() {
        E4m3Vector.encode(x, codes);
        return codes;
    }

    @Benchmark
    public MemorySegment encodeNative() {
        cpu.encode(xs, qs);
        return qs;
    }

    @Benchmark
    public QuantizedTensor quantize1x128Java() {
        return BlockQuantizer.quantize(x, ROWS, COLS, Fp8Block.ROW_1X128, false);
    }

    @Benchmark
    public MemorySegment quantize1x128Native() {
        cpu.quantize(xs, ROWS, COLS, Fp8Block.ROW_1X128, false, qs, scales);
        return qs;
    }
}

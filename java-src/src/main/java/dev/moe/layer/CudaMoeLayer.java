package dev.moe.layer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

import dev.moe.bindings.moe_h;
import dev.moe.cuda.CudaDevice;
import dev.moe.cuda.CudaGraph;
import dev.moe.cuda.CudaStream;
import dev.moe.cuda.DeviceArena;
import dev.moe.cuda.DeviceBuffer;
import dev.moe.fp8.CudaGemmKernel;
import dev.moe.layer.CudaLayerArgs.Slot;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.CudaException;
import dev.moe.routing.GateStats;
import dev.moe.routing.RoutingResult;

/**
 * One MoE layer resident on a GPU: the weights are copied to the device once, and each
 * {@link #forward} runs router logits, gate, permutation, FP8 GEMMs, SwiGLU, shared expert and combine
 * as one chain of kernels on the layer's stream ({@code moe_layer_forward_cuda}), with a single
 * synchronisation when the results are copied back. Batches of up to {@link #graphMaxTokens()}
 * tokens replay a CUDA graph captured once per batch size, which removes the per-kernel launch cost.
 *
 * <p>Results are bit-identical to {@link MoeLayer} on the {@code java} backend (ids, weights and the
 * output): every kernel sums in the reference's order. Device memory belongs to the layer's
 * {@link DeviceArena}s and is freed by {@link #close}. Not thread-safe: {@code forward} and {@code close}
 * are synchronised, so calls from several threads queue up.
 */
public final class CudaMoeLayer implements AutoCloseable {
    /** Default largest batch that is run as a CUDA graph. */
    public static final int DEFAULT_GRAPH_MAX_TOKENS = 256;

    private final MoeLayerWeights w;
    private final int device;
    private final int graphMaxTokens;
    private final CudaGemmKernel kernel;
    private final DeviceArena weightArena;
    private final CudaStream stream;
    private final Map<Slot, MemorySegment> weightPointers = new EnumMap<>(Slot.class);
    private final Map<Integer, CudaGraph> graphs = new HashMap<>();
    private DeviceArena callArena;
    private Map<Slot, DeviceBuffer> call;
    private int capacity;
    private boolean closed;

    private CudaMoeLayer(MoeLayerWeights w, int device, int graphMaxTokens, CudaGemmKernel kernel) {
        this.w = w;
        this.device = device;
        this.graphMaxTokens = graphMaxTokens;
        this.kernel = kernel;
        this.weightArena = new DeviceArena(device);
        CudaStream s = null;
        try (Arena host = Arena.ofConfined()) {
            s = CudaStream.create(device);
            for (Map.Entry<Slot, MemorySegment> e : CudaLayerArgs.weights(w, host).entrySet()) {
                DeviceBuffer b = weightArena.allocate(e.getValue().byteSize());
                b.copyFrom(e.getValue(), s);
                weightPointers.put(e.getKey(), b.pointer());
            }
            s.synchronize();  // the host copies die with this arena
        } catch (RuntimeException e) {
            if (s != null) {
                s.close();
            }
            weightArena.close();
            throw e;
        }
        this.stream = s;
    }

    /**
     * The layer on CUDA device {@code device}, running batches of up to {@code graphMaxTokens} tokens as
     * CUDA graphs (0 for never), with the exact GEMMs (bit-identical to {@link MoeLayer}).
     *
     * @throws CudaException when the device is not usable or its memory does not hold the weights
     */
    public static CudaMoeLayer create(MoeLayerWeights weights, int device, int graphMaxTokens) {
        return create(weights, device, graphMaxTokens, false);
    }

    /**
     * As {@link #create(MoeLayerWeights, int, int)}; with {@code tensorCores} the expert GEMMs run on the
     * device's fastest tensor-core kernel ({@link CudaGemmKernel#fastestFor(CudaDevice)}; on compute capability 9.0
     * the TMA-fed wgmma kernel when H is a multiple of 16, else mma.sync), close to {@link MoeLayer} but not
     * bit-identical (see {@link dev.moe.fp8.Fp8Gemm#cudaTensorCores()}).
     *
     * @throws CudaException when the device is not usable or its memory does not hold the weights
     */
    public static CudaMoeLayer create(MoeLayerWeights weights, int device, int graphMaxTokens, boolean tensorCores) {
        Objects.requireNonNull(weights, "weights");
        CudaGemmKernel k = CudaGemmKernel.EXACT;
        if (tensorCores) {
            k = CudaGemmKernel.fastestFor(CudaDevice.query(requireDevice(device)));
            k = k == CudaGemmKernel.WGMMA_TMA && weights.hidden() % 16 != 0 ? CudaGemmKernel.MMA : k;
        }
        return create(weights, device, graphMaxTokens, k);
    }

    /**
     * As {@link #create(MoeLayerWeights, int, int)} with the expert and shared-expert GEMMs on {@code kernel}:
     * EXACT, MMA (compute capability 8.0+) or WGMMA_TMA (9.0, H a multiple of 16).
     *
     * @throws IllegalArgumentException for WGMMA (the layer does not run it), or WGMMA_TMA with H not a multiple of 16
     * @throws CudaException when the device is not usable, does not run the kernel, or its memory does not hold the weights
     */
    public static CudaMoeLayer create(MoeLayerWeights weights, int device, int graphMaxTokens, CudaGemmKernel kernel) {
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(kernel, "kernel");
        requireDevice(device);
        if (graphMaxTokens < 0) {
            throw new IllegalArgumentException("graphMaxTokens must be >= 0, got " + graphMaxTokens);
        }
        CudaLayerArgs.requireLayerKernel(kernel);
        if (kernel == CudaGemmKernel.WGMMA_TMA && weights.hidden() % 16 != 0) {
            throw new IllegalArgumentException("the WGMMA_TMA layer needs H a multiple of 16 (TMA row strides), got " + weights.hidden());
        }
        return new CudaMoeLayer(weights, device, graphMaxTokens, kernel);
    }

    private static int requireDevice(int device) {
        if (device < 0) {
            throw new IllegalArgumentException("device must be >= 0, got " + device);
        }
        return device;
    }

    /** The layer on device 0 with the default graph threshold. */
    public static CudaMoeLayer create(MoeLayerWeights weights) {
        return create(weights, 0, DEFAULT_GRAPH_MAX_TOKENS);
    }

    public MoeLayerWeights weights() {
        return w;
    }

    public int device() {
        return device;
    }

    /** Whether the expert GEMMs run on tensor cores. */
    public boolean tensorCores() {
        return kernel.tensorCores();
    }

    /** {@return the kernel of the expert GEMMs} */
    public CudaGemmKernel gemmKernel() {
        return kernel;
    }

    /** The largest batch run as a CUDA graph. */
    public int graphMaxTokens() {
        return graphMaxTokens;
    }

    /**
     * Runs the layer on x float [T, H] (finite); returns y [T, H] and the routing.
     *
     * @throws IllegalArgumentException for a wrong shape or a non-finite input
     * @throws ArithmeticException      when router logits or an activation overflow FP32
     */
    public synchronized MoeLayer.Output forward(float[] x, int tokens) {
        if (closed) {
            throw new IllegalStateException("the CUDA MoE layer is closed");
        }
        MoeLayer.checkInput(x, tokens, w.hidden());
        int k = w.config().topk();
        int n = w.config().numExperts();
        if (tokens == 0) {
            return new MoeLayer.Output(new float[0], new RoutingResult(0, k, new int[0], new float[0], new long[n], new GateStats(0, 0)));
        }
        ensureCapacity(tokens);
        try (Arena host = Arena.ofConfined()) {
            call.get(Slot.X).copyFrom(host.allocateFrom(ValueLayout.JAVA_FLOAT, x), stream);
            if (tokens <= graphMaxTokens) {
                CudaGraph g = graphs.get(tokens);
                if (g == null) {
                    g = capture(tokens);
                    graphs.put(tokens, g);
                }
                g.launch(stream);
            } else {
                enqueue(host, tokens);
            }
            MemorySegment out = host.allocate(ValueLayout.JAVA_FLOAT, (long) tokens * w.hidden());
            MemorySegment ids = host.allocate(ValueLayout.JAVA_INT, (long) tokens * k);
            MemorySegment weights = host.allocate(ValueLayout.JAVA_FLOAT, (long) tokens * k);
            MemorySegment load = host.allocate(ValueLayout.JAVA_LONG, n);
            MemorySegment diag = host.allocate(ValueLayout.JAVA_LONG, CudaLayerArgs.DIAGNOSTICS);
            call.get(Slot.OUT).copyTo(out, stream);
            call.get(Slot.IDS).copyTo(ids, stream);
            call.get(Slot.WEIGHTS).copyTo(weights, stream);
            call.get(Slot.LOAD).copyTo(load, stream);
            call.get(Slot.DIAGNOSTICS).copyTo(diag, stream);
            stream.synchronize();
            CudaLayerArgs.checkDiagnostics(diag);
            RoutingResult routing = new RoutingResult(tokens, k, ids.toArray(ValueLayout.JAVA_INT),
                    weights.toArray(ValueLayout.JAVA_FLOAT), load.toArray(ValueLayout.JAVA_LONG),
                    new GateStats(tokens, diag.getAtIndex(ValueLayout.JAVA_LONG, 1)));
            return new MoeLayer.Output(out.toArray(ValueLayout.JAVA_FLOAT), routing);
        }
    }

    /** The layer's work for {@code tokens} tokens, enqueued on the stream: clear the load counts, run the layer. */
    private void enqueue(Arena host, int tokens) {
        call.get(Slot.LOAD).clear(stream);
        Map<Slot, MemorySegment> ptr = new EnumMap<>(weightPointers);
        call.forEach((slot, b) -> ptr.put(slot, b.pointer()));
        MemorySegment args = CudaLayerArgs.struct(host, w, tokens, kernel, ptr, call.get(Slot.WORKSPACE).bytes());
        NativeStatus.check(moe_h.moe_layer_forward_cuda(device, stream.handle(), args), "moe_layer_forward_cuda");
    }

    /** A CUDA graph of {@link #enqueue} for {@code tokens} tokens (the buffers stay put until capacity grows). */
    private CudaGraph capture(int tokens) {
        try (Arena host = Arena.ofConfined()) {
            return CudaGraph.capture(stream, () -> enqueue(host, tokens));
        }
    }

    /** Per-call buffers for at least {@code tokens} tokens (powers of two, so growth is rare). */
    private void ensureCapacity(int tokens) {
        if (tokens <= capacity) {
            return;
        }
        int cap = Math.max(16, Integer.highestOneBit(tokens - 1) << 1);
        cap = cap < tokens ? tokens : cap;  // tokens above 2^30
        releaseCallBuffers();
        DeviceArena arena = new DeviceArena(device);
        Map<Slot, DeviceBuffer> buffers = new EnumMap<>(Slot.class);
        try {
            for (Map.Entry<Slot, Long> e : CudaLayerArgs.callBytes(w, cap).entrySet()) {
                buffers.put(e.getKey(), arena.allocate(e.getValue()));
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        callArena = arena;
        call = buffers;
        capacity = cap;
    }

    /** Graphs hold the old buffers' addresses: destroy them with the buffers. */
    private void releaseCallBuffers() {
        for (CudaGraph g : graphs.values()) {
            g.close();
        }
        graphs.clear();
        if (callArena != null) {
            callArena.close();
            callArena = null;
            call = null;
            capacity = 0;
        }
    }

    /** Frees the graphs and all device memory of the layer. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            releaseCallBuffers();
        } finally {
            try {
                stream.close();
            } finally {
                weightArena.close();
            }
        }
    }
}

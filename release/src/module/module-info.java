/**
 * The moe library as one module ({@code dev.moe}, the release jar): routing, balancing, topology and
 * metrics, FP8 quantisation and GEMMs, the MoE layers, auxiliary losses, EPLB, the simulator, training,
 * file formats, the CUDA and MPI front ends, what this machine offers, the native libraries' loader and
 * failures. Not exported: the FFM bindings and the plumbing between the library and its C ABI ({@code dev.moe.bindings},
 * {@code dev.moe.nativecall}: they pass arguments to C unchecked), the CLI ({@code dev.moe.cli}) and the
 * shared arithmetic helpers ({@code dev.moe.math}).
 *
 * <p>On the module path run with {@code --enable-native-access=dev.moe} (the manifest's
 * {@code Enable-Native-Access: ALL-UNNAMED} covers the class path), and add
 * {@code --add-modules jdk.incubator.vector} to use {@code Fp8Gemm.vector()}.
 */
module dev.moe {
    requires org.slf4j;
    requires com.fasterxml.jackson.databind;
    requires static jdk.incubator.vector;

    exports dev.moe.backend;
    exports dev.moe.balance;
    exports dev.moe.cuda;
    exports dev.moe.dist;
    exports dev.moe.eplb;
    exports dev.moe.fp8;
    exports dev.moe.io;
    exports dev.moe.layer;
    exports dev.moe.loss;
    exports dev.moe.metrics;
    exports dev.moe.nativelib;
    exports dev.moe.routing;
    exports dev.moe.safetensors;
    exports dev.moe.sim;
    exports dev.moe.topology;
    exports dev.moe.train;
}

/*
 * moe.h - the C ABI of the MoE routing library. This header is the single source of truth:
 * the Java bindings (bindings/src/main/java/dev/moe/bindings) are exactly what jextract generates
 * from it (see bindings/jextract.sh), and MOE_ABI_VERSION is checked when the library is loaded.
 *
 * Rules of the boundary: fixed-width types only, every buffer comes with its element count, every
 * function returns an int32 status code (MOE_STATUS_*) unless it is a pure query, nothing throws.
 *
 * Numerics (spec moe-routing.md §b-§d, §k), shared bit-for-bit with the Java reference router:
 *  - everything is FP32; no FMA contraction except where an fma is written explicitly;
 *  - exp is moe's own deterministic expf (Cody-Waite reduction, degree-5 polynomial with explicit
 *    fmas, two-step 2^n scaling so subnormal results round once): identical in Java, C++ and CUDA;
 *  - sigmoid(z) = 1/(1+exp(-z)) for z >= 0 and e/(1+e), e = exp(z), for z < 0 (overflow-safe);
 *  - softmax(z)_i = exp(z_i - max z) / S, where S sums the exponentials in 8 lanes (lane = i mod 8,
 *    in increasing i) combined as ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7));
 *  - selection score sel_i = s_i + bias_i (MOE_BIAS_ADD) or s_i * bias_i (MOE_BIAS_MULTIPLY); group score = max, or the sum of the J largest sel in
 *    the group added largest first; the M best groups are kept (others act as -inf); the K best
 *    experts of the kept groups are returned sorted by sel descending, ties to the lower index;
 *  - weight_k = s_k, or with normalize s_k / (sum_k s_k + 1e-20f) (sum in output order), then * scale.
 */
#ifndef MOE_MOE_H
#define MOE_MOE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change of this header. The loader refuses a library whose
 * moe_abi_version() differs from the value the bindings were generated with. */
#define MOE_ABI_VERSION 3

/* Status codes. */
#define MOE_STATUS_OK 0
#define MOE_STATUS_NULL_POINTER 1
#define MOE_STATUS_INVALID_CONFIG 2
#define MOE_STATUS_BAD_BUFFER_SIZE 3
#define MOE_STATUS_NON_FINITE_INPUT 4
#define MOE_STATUS_UNSUPPORTED_CPU 5
#define MOE_STATUS_OUT_OF_MEMORY 6
#define MOE_STATUS_NO_GPU 7
#define MOE_STATUS_CUDA_ERROR 8
#define MOE_STATUS_INTERNAL_ERROR 9
#define MOE_STATUS_UNSUPPORTED_GPU 10

/* Score functions (moe_gate_config.score_func). */
#define MOE_SCORE_SIGMOID 0
#define MOE_SCORE_SOFTMAX 1

/* Group scores (moe_gate_config.group_score). */
#define MOE_GROUP_SCORE_MAX 0
#define MOE_GROUP_SCORE_TOP_J_SUM 1

/* How the selection bias combines with the scores (moe_gate_config.bias_mode). */
#define MOE_BIAS_ADD 0
#define MOE_BIAS_MULTIPLY 1

/* CPU kernel variants (moe_cpu_kernel / moe_cpu_set_kernel). */
#define MOE_CPU_KERNEL_AUTO 0
#define MOE_CPU_KERNEL_PORTABLE 1
#define MOE_CPU_KERNEL_AVX2 2

/* FP8 block-quantisation tile shapes (moe_fp8_quantize_cpu). */
#define MOE_FP8_BLOCK_1X128 0
#define MOE_FP8_BLOCK_128X128 1

/* CUDA GEMM kernels, as the host twins name them: the exact CUDA-core kernel, the tensor-core kernel's
 * FP8 MMA path (sm_89+) and BF16 MMA path (sm_80..sm_88), the Hopper wgmma kernel (sm_90a), and its
 * TMA-fed, warp-specialised, persistent form (_wgmma_tma). */
#define MOE_CUDA_GEMM_EXACT 0
#define MOE_CUDA_GEMM_MMA_E4M3 1
#define MOE_CUDA_GEMM_MMA_BF16 2
#define MOE_CUDA_GEMM_WGMMA 3
#define MOE_CUDA_GEMM_WGMMA_TMA 4

/* Copy directions of moe_cuda_memcpy. */
#define MOE_CUDA_H2D 1
#define MOE_CUDA_D2H 2
#define MOE_CUDA_D2D 3

/* Routing configuration. Valid when: num_experts >= 1, num_groups >= 1, num_experts % num_groups == 0,
 * 1 <= topk_groups <= num_groups, 1 <= topk <= topk_groups * (num_experts / num_groups), and, when
 * topk_groups < num_groups with MOE_GROUP_SCORE_TOP_J_SUM, 1 <= group_topj <= num_experts / num_groups;
 * route_scale finite and > 0; normalize 0 or 1; bias_mode MOE_BIAS_ADD or MOE_BIAS_MULTIPLY. topk_groups == num_groups means "no group limit". */
typedef struct moe_gate_config {
    int32_t num_experts;   /* N */
    int32_t num_groups;    /* G */
    int32_t topk_groups;   /* M */
    int32_t topk;          /* K */
    int32_t score_func;    /* MOE_SCORE_* */
    int32_t group_score;   /* MOE_GROUP_SCORE_* */
    int32_t group_topj;    /* J for MOE_GROUP_SCORE_TOP_J_SUM, ignored otherwise */
    int32_t normalize;     /* 1: renormalise the K selected weights to sum to 1 before scaling */
    float route_scale;     /* rho, multiplies the final weights */
    int32_t bias_mode;     /* MOE_BIAS_*: sel = s + bias (DeepSeek-V3) or s * bias ([LF] multiplicative variant) */
} moe_gate_config;

/* Optional diagnostics filled by a gate call. */
typedef struct moe_gate_stats {
    int64_t first_bad_row;    /* first token row holding a non-finite logit, -1 if none */
    int64_t zero_sum_rows;    /* rows whose selected weights summed to 0 (the 1e-20 guard applied) */
} moe_gate_stats;

/* Library identity. */
int32_t moe_abi_version(void);
const char* moe_library_version(void);
const char* moe_status_message(int32_t status);

/* CPU: 1 if the running CPU has AVX2+FMA+F16C (the fast kernel), else 0. */
int32_t moe_cpu_has_avx2(void);
/* The kernel variant in use (MOE_CPU_KERNEL_PORTABLE or MOE_CPU_KERNEL_AVX2). */
int32_t moe_cpu_kernel(void);
/* Choose the kernel variant for this process; AUTO picks AVX2 when the CPU has it. Asking for AVX2 on
 * a CPU without it returns MOE_STATUS_UNSUPPORTED_CPU and changes nothing. */
int32_t moe_cpu_set_kernel(int32_t kernel);
/* Upper bound of OpenMP threads the kernels use (1 when built without OpenMP). */
int32_t moe_cpu_max_threads(void);

/* Validate a configuration: MOE_STATUS_OK or MOE_STATUS_INVALID_CONFIG. */
int32_t moe_gate_config_check(const moe_gate_config* config);

/* Fused gate on the CPU: scores, + bias, group scores, top-M groups, masked top-K, renormalise, scale,
 * and (optionally) the per-expert load histogram, in one pass over the logits.
 *   logits       fp32 [num_tokens, N] (logits_count == num_tokens * N)
 *   bias         fp32 [N] (bias_count == N), or NULL with bias_count 0 for no bias
 *   out_ids      int32 [num_tokens, K]   (ids_count == num_tokens * K)
 *   out_weights  fp32  [num_tokens, K]   (weights_count == num_tokens * K)
 *   expert_load  int64 [N] accumulated (+=) with one count per (token, chosen expert), or NULL with
 *                load_count 0
 *   stats        optional diagnostics, may be NULL
 * A non-finite logit makes the call return MOE_STATUS_NON_FINITE_INPUT with stats->first_bad_row set;
 * the outputs are then unspecified and expert_load is left unchanged. num_tokens == 0 is valid. */
int32_t moe_gate_cpu(const moe_gate_config* config,
                     const float* logits, int64_t logits_count,
                     const float* bias, int64_t bias_count,
                     int64_t num_tokens,
                     int32_t* out_ids, int64_t ids_count,
                     float* out_weights, int64_t weights_count,
                     int64_t* expert_load, int64_t load_count,
                     moe_gate_stats* stats);

/* The CUDA gate kernel's per-token code (the same source as moe_gate_cuda) run on the host,
 * single-threaded, with moe_gate_cpu's contract: lets tests check the GPU arithmetic without a GPU.
 * Configurations the CUDA kernel does not support (N > 1024, J > 32) give MOE_STATUS_INVALID_CONFIG. */
int32_t moe_gate_cuda_host(const moe_gate_config* config,
                           const float* logits, int64_t logits_count,
                           const float* bias, int64_t bias_count,
                           int64_t num_tokens,
                           int32_t* out_ids, int64_t ids_count,
                           float* out_weights, int64_t weights_count,
                           int64_t* expert_load, int64_t load_count,
                           moe_gate_stats* stats);

/* Machine ceilings, measured in the calling process (for benchmark reports): the FP32 FMA peak of all
 * OpenMP threads in GFLOP/s, and the streaming read bandwidth over a buffer of `bytes` (>= 1 MiB) in GB/s,
 * each measured for about `seconds` (0 < seconds <= 60). MOE_STATUS_UNSUPPORTED_CPU without AVX2+FMA. */
int32_t moe_cpu_fma_peak(double seconds, double* gflops);
int32_t moe_cpu_read_bandwidth(int64_t bytes, double seconds, double* gbs);

/* ---- FP8 block-scaled GEMM on the CPU (spec §i.2-§i.3) ----
 * C[m, n] = sum over K-chunks c of (sum_{k in chunk c} A[m, k] * B[n, k]) * a_scales[m, c] * b_scales[n / 128, c],
 * chunks of 128 along K (the last may be shorter), FP32 accumulation with the chunk sum "promoted" into the
 * FP32 result once per chunk. A and B hold OCP E4M3 codes (A: activations, 1x128 scales [M, ceil(K/128)];
 * B: weights, one row per output channel, 128x128 scales [ceil(N/128), ceil(K/128)]). C is overwritten.
 * Scales must be finite (else MOE_STATUS_NON_FINITE_INPUT); NaN codes (0x7F, 0xFF) give unspecified results.
 * Sums inside a chunk are not in a specified order: results agree with a reference to FP32 rounding. */
int32_t moe_fp8_gemm_cpu(int64_t m, int64_t n, int64_t k,
                         const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                         const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                         float* c, int64_t c_count);

/* Grouped over E experts, contiguous layout (prefill/training): the rows of A (and C) are sorted by
 * expert, expert e owning rows offsets[e] .. offsets[e+1]-1 (offsets int64 [E+1], offsets[0] == 0,
 * non-decreasing); B E4M3 codes [E, N, K] with scales [E, ceil(N/128), ceil(K/128)]. */
int32_t moe_fp8_grouped_gemm_contiguous_cpu(int64_t num_groups, const int64_t* offsets, int64_t offsets_count,
                                            int64_t n, int64_t k,
                                            const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                                            const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                                            float* c, int64_t c_count);

/* Grouped over E experts, masked layout (decode): A [E, max_m, K] with scales [E, max_m, ceil(K/128)],
 * expert e using its first counts[e] rows (int32 [E], 0..max_m); C [E, max_m, N], rows past a count set to 0. */
int32_t moe_fp8_grouped_gemm_masked_cpu(int64_t num_groups, int64_t max_m, const int32_t* counts, int64_t counts_count,
                                        int64_t n, int64_t k,
                                        const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                                        const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                                        float* c, int64_t c_count);

/* FP32 GEMMs on the CPU, the dense products of training (forward X·Wᵀ, activation gradient dY·W, weight
 * gradient dYᵀ·X), as a batch that shares transposes, leading dimensions and beta (one product is a batch of
 * one; attention heads and experts are batches). Entry i computes
 *   C_i[m, n] = beta·C_i + op(A_i)·op(B_i),  m, n, k = dims[3i], dims[3i+1], dims[3i+2],
 * row-major, A_i, B_i, C_i starting offsets[3i], offsets[3i+1], offsets[3i+2] elements into a, b, c;
 * op(A)(i, p) is A[i * lda + p], or A[p * lda + i] when trans_a = 1; op(B)(p, j) is B[p * ldb + j], or
 * B[j * ldb + p] when trans_b = 1. beta is 0 (C overwritten, never read) or 1 (added to). a_count, b_count,
 * c_count are the elements available from a, b, c; every view must lie inside them
 * (MOE_STATUS_BAD_BUFFER_SIZE). Entries must write disjoint parts of C. Each element sums its products in
 * blocks of 256 along k in order, so the result is the same for any thread count and batch split. */
int32_t moe_f32_gemm_cpu(int32_t trans_a, int32_t trans_b, int64_t count, const int64_t* dims, const int64_t* offsets,
                         const float* a, int64_t lda, int64_t a_count, const float* b, int64_t ldb, int64_t b_count,
                         float beta, float* c, int64_t ldc, int64_t c_count);

/* An empty call, to measure the cost of crossing the FFM boundary. */
void moe_noop(void);

/* ---- FP8 E4M3 (OCP "e4m3fn", DeepSeek-V3 recipe), shared bit-for-bit with dev.moe.fp8.E4m3 ----
 * Code S EEEE MMM, bias 7: normal (-1)^S 2^(E-7) (1+M/8), subnormal (E=0) (-1)^S 2^-6 (M/8); max finite
 * 448 (0x7E); no infinities; NaN is 0x7F and 0xFF only.
 * Encoding rounds to nearest, ties to even, after clamping |x| to 448 (finite values and infinities
 * saturate to +-448); NaN encodes as 0x7F; -0.0 encodes as 0x80.
 * Both codec calls need in_count == out_count (else MOE_STATUS_BAD_BUFFER_SIZE); a NULL buffer with a
 * count > 0 gives MOE_STATUS_NULL_POINTER. Kernel variant (portable/AVX2) as for the gate. */
int32_t moe_fp8_e4m3_encode(const float* in, int64_t in_count, uint8_t* out, int64_t out_count);
/* Exact decode; 0x7F and 0xFF decode to a quiet NaN. */
int32_t moe_fp8_e4m3_decode(const uint8_t* in, int64_t in_count, float* out, int64_t out_count);

/* Block quantisation of x fp32 [rows, cols] (x_count == rows * cols, rows, cols >= 0) into E4M3 codes
 * q uint8 [rows, cols] (q_count == x_count) and fp32 scales, one per tile:
 *   MOE_FP8_BLOCK_1X128:   tile = 1 row x 128 columns,   scales [rows, ceil(cols/128)]
 *   MOE_FP8_BLOCK_128X128: tile = 128 rows x 128 columns, scales [ceil(rows/128), ceil(cols/128)]
 * Edge tiles use the elements that exist. Per tile: amax = max |x|; s = max(amax, 1e-4f) / 448f;
 * with pow2_scales == 1, s = 2^ceil(log2 s) (exact); q = encode(x / s), all in FP32.
 * pow2_scales must be 0 or 1 and block one of MOE_FP8_BLOCK_* (else MOE_STATUS_INVALID_CONFIG).
 * A non-finite x returns MOE_STATUS_NON_FINITE_INPUT; q and scales are then unspecified. */
int32_t moe_fp8_quantize_cpu(const float* x, int64_t x_count, int64_t rows, int64_t cols,
                             int32_t block, int32_t pow2_scales,
                             uint8_t* q, int64_t q_count, float* scales, int64_t scales_count);

/* Host self-test of the CUDA FP8 codec arithmetic (the __host__ __device__ functions the CUDA kernels
 * use, compiled for the host): encode on all 2^32 float bit patterns against the CPU encoders (portable,
 * and AVX2 where the CPU has it), decode on all 256 codes, and tile scales (pow2 off and on) and the codes
 * of x / s against moe_fp8_quantize_cpu on sampled tiles. Writes the number of differing results to
 * *mismatches (0 when the GPU codec equals the CPU codec bit for bit). Takes seconds (OpenMP). */
int32_t moe_fp8_codec_selftest(uint64_t* mismatches);

/* The CUDA FP8 GEMM's block code (the same source as moe_fp8_gemm_cuda) run on the host, thread by
 * thread between the kernel's barriers, with moe_fp8_gemm_cpu's contract (host pointers, finite scales
 * checked). Sums in increasing k: bit-identical to dev.moe.fp8.Fp8GemmReference. Single-threaded; for tests. */
int32_t moe_fp8_gemm_cuda_host(int64_t m, int64_t n, int64_t k,
                               const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                               const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                               float* c, int64_t c_count);

/* A tensor-core CUDA FP8 GEMM's code run on the host: `kernel` MOE_CUDA_GEMM_MMA_E4M3 or _MMA_BF16 (the
 * block code of moe_fp8_gemm_cuda_tc, mma.sync emulated from the PTX fragment layout), _WGMMA (as
 * moe_fp8_gemm_cuda_wgmma_host) or _WGMMA_TMA (the pipelined kernel's producer and consumers as threads
 * taking turns at their mbarrier waits, TMA boxes and wgmmas emulated; MOE_STATUS_INTERNAL_ERROR for a
 * deadlock or barrier misuse), each summing in increasing k: moe_fp8_gemm_cuda_host's contract,
 * bit-identical to dev.moe.fp8.Fp8GemmReference. For tests. */
int32_t moe_fp8_gemm_cuda_tc_host(int32_t kernel, int64_t m, int64_t n, int64_t k,
                                  const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                                  const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                                  float* c, int64_t c_count);

/* The Hopper CUDA FP8 GEMM's block code (the same source as moe_fp8_gemm_cuda_wgmma) run on the host: the
 * operands staged into a byte array standing for shared memory, each wgmma emulated by decoding its matrix
 * descriptors and summing in increasing k: moe_fp8_gemm_cuda_host's contract, bit-identical to
 * dev.moe.fp8.Fp8GemmReference. MOE_STATUS_INTERNAL_ERROR if a descriptor cannot be decoded or reaches
 * outside the block's shared memory. For tests. */
int32_t moe_fp8_gemm_cuda_wgmma_host(int64_t m, int64_t n, int64_t k,
                                     const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                                     const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                                     float* c, int64_t c_count);

/* The grouped CUDA GEMMs' launches and block code for kernel MOE_CUDA_GEMM_* (exact, a path of _tc with
 * mma.sync emulated, _wgmma with its descriptors decoded, or _wgmma_tma's pipeline) run on the host: the contiguous layout as
 * moe_fp8_grouped_gemm_contiguous_cuda* plans it, and the masked layout with counts in host memory (rows
 * past a count are 0). */
int32_t moe_fp8_grouped_gemm_contiguous_cuda_host(int32_t kernel, int64_t num_groups, const int64_t* offsets,
                                                  int64_t offsets_count, int64_t n, int64_t k, const uint8_t* a, int64_t a_count,
                                                  const float* a_scales, int64_t a_scales_count, const uint8_t* b, int64_t b_count,
                                                  const float* b_scales, int64_t b_scales_count, float* c, int64_t c_count);
int32_t moe_fp8_grouped_gemm_masked_cuda_host(int32_t kernel, int64_t num_groups, int64_t max_m, const int32_t* counts,
                                              int64_t counts_count, int64_t n, int64_t k, const uint8_t* a, int64_t a_count,
                                              const float* a_scales, int64_t a_scales_count, const uint8_t* b, int64_t b_count,
                                              const float* b_scales, int64_t b_scales_count, float* c, int64_t c_count);

/* ---- One MoE layer forward, GPU-resident (moe_layer_forward_cuda) ----
 * The forward pass of one MoE layer (spec §c.3) as a chain of moe's CUDA kernels with no host round trip:
 * router logits x·gateᵀ (FP32, each summed in increasing h), the fused gate, FP8 activations (1x128 tiles),
 * the permutation into expert order (tokens ascending within an expert), grouped FP8 GEMM with w13, SwiGLU
 * silu(a)·b with silu(a) = a * sigmoid(a) (the gate's sigmoid above), FP8 again, grouped FP8 GEMM with w2,
 * the optional shared expert on every token, and the combine sum_k weight_k * y_k in the router's order
 * (then + shared): bit-identical to dev.moe.layer.MoeLayer. Pointers are device pointers for
 * moe_layer_forward_cuda and host pointers for moe_layer_forward_cuda_host. Weights are those of
 * dev.moe.layer.MoeLayerWeights: w13 stacks w1 (rows 0..I-1) and w3, all experts' matrices back to back,
 * scales in 128x128 blocks. */
typedef struct moe_layer_args {
    moe_gate_config gate;               /* the router (N experts, top-K, ...) */
    int64_t tokens;                     /* T >= 0 */
    int64_t hidden;                     /* H >= 1 */
    int64_t intermediate;               /* I >= 1, a multiple of 128 */
    int64_t shared_intermediate;        /* Is: 0 for no shared expert, else a multiple of 128 */
    int64_t tensor_cores;               /* 0: the exact CUDA-core GEMMs (bit-identical to MoeLayer); 1: the
                                         * tensor-core GEMMs of moe_fp8_gemm_cuda_tc (close, not identical,
                                         * on the GPU; compute capability 8.0+; the host twin emulates the
                                         * FP8 MMA path); 2: Hopper's moe_fp8_*_cuda_wgmma_tma kernel
                                         * (compute capability 9.0, hidden a multiple of 16, N x 2I and
                                         * N x H below 2^31, w13 and w2 16-byte aligned; the host twin
                                         * runs its pipeline emulation) */
    const float* x;                     /* fp32 [T, H], finite */
    const float* gate_weight;           /* fp32 [N, H] */
    const float* gate_bias;             /* fp32 [N], or NULL for no selection bias */
    const uint8_t* w13;                 /* e4m3 [N, 2I, H] */
    const float* w13_scales;            /* fp32 [N, 2I/128, ceil(H/128)] */
    const uint8_t* w2;                  /* e4m3 [N, H, I] */
    const float* w2_scales;             /* fp32 [N, ceil(H/128), I/128] */
    const uint8_t* shared_w13;          /* e4m3 [2Is, H], or NULL when Is == 0 */
    const float* shared_w13_scales;     /* fp32 [2Is/128, ceil(H/128)] */
    const uint8_t* shared_w2;           /* e4m3 [H, Is] */
    const float* shared_w2_scales;      /* fp32 [ceil(H/128), Is/128] */
    float* out;                         /* fp32 [T, H] (written) */
    int32_t* ids;                       /* int32 [T, K] (written): the gate's choices */
    float* weights;                     /* fp32 [T, K] (written): their weights */
    int64_t* expert_load;               /* int64 [N] accumulated (+=), or NULL */
    int64_t* diagnostics;               /* int64 [4] (written): [0] first token with a non-finite logit
                                         * (INT64_MAX if none; then every output is unspecified), [1] rows
                                         * where the gate's 1e-20 guard applied, [2] non-zero when an
                                         * activation was not finite (outputs unspecified), [3] 0 */
    void* workspace;                    /* scratch of moe_layer_workspace_bytes bytes, 256-byte aligned */
    int64_t workspace_bytes;
} moe_layer_args;

/* Scratch bytes moe_layer_forward_cuda(_host) needs for args' shapes (gate, tokens, hidden, intermediate,
 * shared_intermediate; pointers are not read) into *bytes; MOE_STATUS_INVALID_CONFIG for invalid shapes. */
int32_t moe_layer_workspace_bytes(const moe_layer_args* args, int64_t* bytes);

/* moe_layer_forward_cuda's kernels run on the host, block by block and thread by thread between their
 * barriers, on host pointers: proves the GPU pipeline on machines without a GPU. A non-finite logit or
 * activation returns MOE_STATUS_NON_FINITE_INPUT (diagnostics say which). Single-threaded; for tests. */
int32_t moe_layer_forward_cuda_host(const moe_layer_args* args);

/* ---- CUDA (provided by the separate library moe_cuda; absent when built without nvcc) ---- */

/* Must equal MOE_ABI_VERSION. */
int32_t moe_cuda_abi_version(void);
/* Number of usable CUDA devices in *count; returns MOE_STATUS_NO_GPU (with *count = 0) when the
 * driver or a device is missing, and writes the CUDA runtime's error code to *cuda_error. */
int32_t moe_cuda_device_count(int32_t* count, int32_t* cuda_error);
/* Name of device `device` as a NUL-terminated string into name[0 .. name_capacity-1]. */
int32_t moe_cuda_device_name(int32_t device, char* name, int64_t name_capacity);
/* Compute capability of device `device` into *major and *minor (e.g. 9 and 0 for H100/H200). */
int32_t moe_cuda_device_capability(int32_t device, int32_t* major, int32_t* minor);
/* Message of a CUDA runtime error code, e.g. for the cuda_error of moe_cuda_device_count. */
const char* moe_cuda_error_string(int32_t cuda_error);

/* CUDA runtime helpers. Every call first selects `device` (cudaSetDevice) for the calling thread.
 * Status: a missing driver or device (or a device index out of range) gives MOE_STATUS_NO_GPU, any
 * other CUDA failure MOE_STATUS_CUDA_ERROR (its CUDA code then comes from moe_cuda_last_error).
 * A `stream` is a cudaStream_t (NULL: the legacy default stream of the device); stream-ordered calls
 * only enqueue work and return without waiting for it. */
/* Allocate `bytes` (>= 0) of device memory into *ptr (NULL for 0 bytes); MOE_STATUS_OUT_OF_MEMORY when
 * the device has not enough. */
int32_t moe_cuda_malloc(int32_t device, int64_t bytes, void** ptr);
/* Free memory from moe_cuda_malloc (NULL is allowed and does nothing). Waits for the device as cudaFree does. */
int32_t moe_cuda_free(int32_t device, void* ptr);
/* Copy `bytes` (>= 0) from src to dst on `stream`, kind MOE_CUDA_H2D, MOE_CUDA_D2H or MOE_CUDA_D2D (else
 * MOE_STATUS_INVALID_CONFIG); host memory may be pageable (the copy of pageable memory may then return
 * only once the host side is read or written). */
int32_t moe_cuda_memcpy(int32_t device, void* stream, void* dst, const void* src, int64_t bytes, int32_t kind);
/* Set `bytes` (>= 0) device bytes at ptr to (uint8_t)value on `stream`. */
int32_t moe_cuda_memset(int32_t device, void* stream, void* ptr, int32_t value, int64_t bytes);
/* Create a non-blocking stream on `device` into *stream. */
int32_t moe_cuda_stream_create(int32_t device, void** stream);
/* Destroy a stream from moe_cuda_stream_create (NULL does nothing). */
int32_t moe_cuda_stream_destroy(int32_t device, void* stream);
/* Wait until all work enqueued on `stream` has finished; an error of that work (e.g. a failed kernel)
 * is reported here as MOE_STATUS_CUDA_ERROR. */
int32_t moe_cuda_stream_synchronize(int32_t device, void* stream);
/* The CUDA runtime error code behind the last MOE_STATUS_CUDA_ERROR or MOE_STATUS_NO_GPU a moe_cuda_*
 * call returned on this thread (else cudaGetLastError()), 0 (cudaSuccess) if none; clears it. A CUDA
 * runtime that could not initialise (e.g. no driver) keeps reporting that error. */
int32_t moe_cuda_last_error(void);

/* ---- FP8 E4M3 on CUDA: same results as the CPU calls above, bit for bit ----
 * Pointers are device pointers (of `device`); the work is enqueued on `stream` and the call returns at
 * once: results are ready after moe_cuda_stream_synchronize. Argument checks and their status codes are
 * those of the CPU calls (checked before the device is touched; a call with nothing to do returns
 * MOE_STATUS_OK without touching it); a launch failure gives MOE_STATUS_CUDA_ERROR. */
int32_t moe_fp8_e4m3_encode_cuda(int32_t device, void* stream, const float* in, int64_t in_count,
                                 uint8_t* out, int64_t out_count);
int32_t moe_fp8_e4m3_decode_cuda(int32_t device, void* stream, const uint8_t* in, int64_t in_count,
                                 float* out, int64_t out_count);
/* Block quantisation as moe_fp8_quantize_cpu. A non-finite x cannot be returned as a status (the call
 * does not wait for the kernel): the kernel sets the device int32 *nonfinite_flag to 1 when it meets one
 * (and q and scales are then unspecified) and leaves it unchanged otherwise, so the caller zeroes it
 * before the call and reads it after synchronising. nonfinite_flag may be NULL (no report). */
int32_t moe_fp8_quantize_cuda(int32_t device, void* stream, const float* x, int64_t x_count,
                              int64_t rows, int64_t cols, int32_t block, int32_t pow2_scales,
                              uint8_t* q, int64_t q_count, float* scales, int64_t scales_count,
                              int32_t* nonfinite_flag);

/* Fused gate on CUDA device `device`, enqueued on `stream` (a cudaStream_t; NULL = the default stream)
 * without synchronising. logits, bias, out_ids, out_weights and expert_load are device pointers with
 * moe_gate_cpu's shapes and meaning (expert_load accumulated with atomics, may be NULL); `stats` is a
 * device int64[2] the call fills: stats[0] = first token with a non-finite logit (INT64_MAX if none;
 * then the other outputs are unspecified and expert_load is untouched), stats[1] = rows where the
 * 1e-20 guard applied. Same arithmetic as moe_gate_cpu: ids and weights bit-identical.
 * N up to 1024, J up to 32 (else MOE_STATUS_INVALID_CONFIG). MOE_STATUS_NO_GPU without a driver/device. */
int32_t moe_gate_cuda(int32_t device, void* stream, const moe_gate_config* config,
                      const float* logits, int64_t logits_count,
                      const float* bias, int64_t bias_count,
                      int64_t num_tokens,
                      int32_t* out_ids, int64_t ids_count,
                      float* out_weights, int64_t weights_count,
                      int64_t* expert_load, int64_t load_count,
                      int64_t* stats);

/* FP8 block-scaled GEMM on CUDA with moe_fp8_gemm_cpu's shapes: a, a_scales, b, b_scales and c are device
 * pointers, the work is enqueued on `stream`. Sums in increasing k, promoted per 128-chunk: bit-identical
 * to dev.moe.fp8.Fp8GemmReference (moe_fp8_gemm_cuda_host runs the same code on the host). The scales are
 * not checked for finiteness (device memory): the caller checks them. CUDA cores (no tensor cores yet);
 * M up to 65535 * 64 rows per call. */
int32_t moe_fp8_gemm_cuda(int32_t device, void* stream, int64_t m, int64_t n, int64_t k,
                          const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                          const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                          float* c, int64_t c_count);

/* Grouped contiguous FP8 GEMM on CUDA (moe_fp8_grouped_gemm_contiguous_cpu's layout). offsets is HOST
 * memory (int64 [E+1]: the call plans the launch from it); the other buffers are device pointers. */
int32_t moe_fp8_grouped_gemm_contiguous_cuda(int32_t device, void* stream, int64_t num_groups, const int64_t* offsets,
                                             int64_t offsets_count, int64_t n, int64_t k,
                                             const uint8_t* a, int64_t a_count, const float* a_scales,
                                             int64_t a_scales_count, const uint8_t* b, int64_t b_count,
                                             const float* b_scales, int64_t b_scales_count, float* c, int64_t c_count);

/* The FP8 GEMMs above on tensor cores (mma.sync m16n8k32 e4m3 on compute capability 8.9+; on 8.0-8.8 the
 * codes are decoded to BF16, exactly, for mma.sync m16n8k16 bf16; below 8.0 MOE_STATUS_UNSUPPORTED_GPU):
 * each 128-wide k chunk is summed by the tensor cores and promoted to the FP32
 * result on the CUDA cores (acc += part * (sa * sb)), so results match the reference closely but not bit for
 * bit (the tensor core's summation order and internal precision). Same arguments as the exact calls. */
int32_t moe_fp8_gemm_cuda_tc(int32_t device, void* stream, int64_t m, int64_t n, int64_t k,
                             const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                             const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                             float* c, int64_t c_count);
/* The dense FP8 GEMM above on Hopper's warpgroup MMA (wgmma.mma_async m64n128k32 e4m3, operands in shared
 * memory with 128-byte swizzle), same chunk promotion and tolerance as moe_fp8_gemm_cuda_tc. Compute
 * capability exactly 9.0 and a library built for sm_90a, else MOE_STATUS_UNSUPPORTED_GPU. Same arguments. */
int32_t moe_fp8_gemm_cuda_wgmma(int32_t device, void* stream, int64_t m, int64_t n, int64_t k,
                                const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                                const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                                float* c, int64_t c_count);
int32_t moe_fp8_grouped_gemm_contiguous_cuda_tc(int32_t device, void* stream, int64_t num_groups, const int64_t* offsets,
                                                int64_t offsets_count, int64_t n, int64_t k,
                                                const uint8_t* a, int64_t a_count, const float* a_scales,
                                                int64_t a_scales_count, const uint8_t* b, int64_t b_count,
                                                const float* b_scales, int64_t b_scales_count, float* c, int64_t c_count);

/* Masked grouped FP8 GEMM on CUDA (moe_fp8_grouped_gemm_masked_cpu's layout), exact or on tensor cores (_tc). All
 * buffers are device memory, counts included (int32 [E], read by the kernel, so the call can sit in a CUDA
 * graph for decode; a count outside 0..max_m is clamped, not reported). Rows past a count are set to 0. */
int32_t moe_fp8_grouped_gemm_masked_cuda(int32_t device, void* stream, int64_t num_groups, int64_t max_m, const int32_t* counts,
                                         int64_t counts_count, int64_t n, int64_t k, const uint8_t* a, int64_t a_count,
                                         const float* a_scales, int64_t a_scales_count, const uint8_t* b, int64_t b_count,
                                         const float* b_scales, int64_t b_scales_count, float* c, int64_t c_count);
int32_t moe_fp8_grouped_gemm_masked_cuda_tc(int32_t device, void* stream, int64_t num_groups, int64_t max_m, const int32_t* counts,
                                            int64_t counts_count, int64_t n, int64_t k, const uint8_t* a, int64_t a_count,
                                            const float* a_scales, int64_t a_scales_count, const uint8_t* b, int64_t b_count,
                                            const float* b_scales, int64_t b_scales_count, float* c, int64_t c_count);
/* The grouped layouts on Hopper's wgmma (as moe_fp8_gemm_cuda_wgmma: compute capability 9.0, sm_90a). */
int32_t moe_fp8_grouped_gemm_contiguous_cuda_wgmma(int32_t device, void* stream, int64_t num_groups, const int64_t* offsets,
                                                   int64_t offsets_count, int64_t n, int64_t k, const uint8_t* a, int64_t a_count,
                                                   const float* a_scales, int64_t a_scales_count, const uint8_t* b,
                                                   int64_t b_count, const float* b_scales, int64_t b_scales_count, float* c,
                                                   int64_t c_count);
int32_t moe_fp8_grouped_gemm_masked_cuda_wgmma(int32_t device, void* stream, int64_t num_groups, int64_t max_m,
                                               const int32_t* counts, int64_t counts_count, int64_t n, int64_t k,
                                               const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                                               const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                                               float* c, int64_t c_count);
/* The three wgmma GEMMs as one persistent, warp-specialised kernel per launch: 128 x 128 output tiles, a
 * producer thread loading 128-wide K chunks of A and B by TMA into a ring of shared-memory stages, two
 * consumer warpgroups running the same wgmma chunk and promotion as the _wgmma calls (so both give the same
 * bits). Same arguments and requirements as the _wgmma calls; shapes TMA cannot describe (K not a
 * multiple of 16, bases not 16-byte aligned) run the _wgmma kernel instead. */
int32_t moe_fp8_gemm_cuda_wgmma_tma(int32_t device, void* stream, int64_t m, int64_t n, int64_t k,
                                    const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                                    const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                                    float* c, int64_t c_count);
int32_t moe_fp8_grouped_gemm_contiguous_cuda_wgmma_tma(int32_t device, void* stream, int64_t num_groups, const int64_t* offsets,
                                                       int64_t offsets_count, int64_t n, int64_t k, const uint8_t* a,
                                                       int64_t a_count, const float* a_scales, int64_t a_scales_count,
                                                       const uint8_t* b, int64_t b_count, const float* b_scales,
                                                       int64_t b_scales_count, float* c, int64_t c_count);
int32_t moe_fp8_grouped_gemm_masked_cuda_wgmma_tma(int32_t device, void* stream, int64_t num_groups, int64_t max_m,
                                                   const int32_t* counts, int64_t counts_count, int64_t n, int64_t k,
                                                   const uint8_t* a, int64_t a_count, const float* a_scales,
                                                   int64_t a_scales_count, const uint8_t* b, int64_t b_count,
                                                   const float* b_scales, int64_t b_scales_count, float* c, int64_t c_count);

/* One MoE layer forward on `device`, every kernel enqueued on `stream` with no host synchronisation (see
 * moe_layer_args): shapes and pointers are checked (MOE_STATUS_INVALID_CONFIG, MOE_STATUS_NULL_POINTER,
 * MOE_STATUS_BAD_BUFFER_SIZE for a small workspace) before anything is enqueued; non-finite data is
 * reported in args->diagnostics, read after synchronising. Capturable into a CUDA graph. */
int32_t moe_layer_forward_cuda(int32_t device, void* stream, const moe_layer_args* args);

/* CUDA graphs: capture the work enqueued on `stream` (a stream from moe_cuda_stream_create, not NULL)
 * between begin and end into an executable graph *graph_exec, launch it (again and again) on a stream,
 * destroy it. While capturing, enqueued work does not run. end also ends a capture that failed half-way
 * (returning the error and no graph). */
int32_t moe_cuda_graph_capture_begin(int32_t device, void* stream);
int32_t moe_cuda_graph_capture_end(int32_t device, void* stream, void** graph_exec);
int32_t moe_cuda_graph_launch(int32_t device, void* stream, void* graph_exec);
int32_t moe_cuda_graph_destroy(int32_t device, void* graph_exec);

#ifdef __cplusplus
}
#endif

#endif /* MOE_MOE_H */

/*
 * moe.h - the C ABI of the MoE routing library. This header is the single source of truth:
 * the Java bindings (bindings/src/main/java/dev/moe/bindings) are exactly what jextract generates
 * from it (see bindings/jextract.sh), and MOE_ABI_VERSION is checked when the library is loaded.
 *
 * Rules of the boundary: fixed-width types only, every buffer comes with its element count, every
 * function returns an int32 status code (MOE_STATUS_*) unless it is a pure query, nothing throws.
 *
 * Two libraries implement it: libmoe (CPU, always loadable) and libmoe_cuda (the moe_cuda_* and *_cuda
 * functions; built where nvcc is found, needing only the NVIDIA driver at run time). A program that never
 * uses a GPU never loads libmoe_cuda, so an operation has one entry per library, both taking the same
 * arguments (the FP8 GEMM: moe_fp8_gemm_cpu and moe_fp8_gemm_cuda with one moe_fp8_gemm_args), rather
 * than one entry with a device field. Test-only code (the CUDA kernels' host twins, the codec self-test)
 * is a third library, libmoe_testkit, with its own header (native/testkit/moe_testkit.h); libmoe and
 * libmoe_cuda export exactly the functions of this header.
 *
 * Numerics (docs/specification.md §b-§d, §k), shared bit-for-bit with the Java reference router:
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
 * moe_abi_version() (moe_cuda_abi_version() for libmoe_cuda) differs from the value the bindings were
 * generated with. */
#define MOE_ABI_VERSION 8

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
#define MOE_STATUS_NOT_IMPLEMENTED 11

/* Score functions (moe_gate_config.score_func). */
#define MOE_SCORE_SIGMOID 0
#define MOE_SCORE_SOFTMAX 1

/* Group scores (moe_gate_config.group_score). */
#define MOE_GROUP_SCORE_MAX 0
#define MOE_GROUP_SCORE_TOP_J_SUM 1

/* How the selection bias combines with the scores (moe_gate_config.bias_mode). */
#define MOE_BIAS_ADD 0
#define MOE_BIAS_MULTIPLY 1

/* CPU kernel variants (moe_library_info.cpu_kernel, moe_cpu_set_kernel). AVX512 is the AVX2 variant with
 * AVX-512 forms of the kernels that have one (the gate, the FP32 and FP8 GEMMs); it gives the same bits as AVX2.
 * AVX512_BF16 is the AVX512 variant whose FP8 GEMM multiplies with BF16 dot products (AVX512_BF16 and
 * AVX512BW; twice the products per instruction of an FP32 FMA): E4M3 values and their products are exact
 * in BF16 and FP32, so its results are as close to the reference as the other variants', not bit-identical
 * with them (another summation order); every other kernel gives the AVX512 bits. */
#define MOE_CPU_KERNEL_AUTO 0
#define MOE_CPU_KERNEL_PORTABLE 1
#define MOE_CPU_KERNEL_AVX2 2
#define MOE_CPU_KERNEL_AVX512 3
#define MOE_CPU_KERNEL_AVX512_BF16 4

/* FP8 quantisation tiles (moe_fp8_quantize_*) and operand scale blocks (moe_fp8_gemm_args): one scale
 * per 1 x 128 or per 128 x 128 elements, or none at all (the codes of the values themselves). */
#define MOE_FP8_BLOCK_1X128 0
#define MOE_FP8_BLOCK_128X128 1
#define MOE_FP8_BLOCK_NONE 2

/* FP8 GEMM kernels (moe_fp8_gemm_args.kernel, moe_layer_args.gemm_kernel):
 *   CPU        the CPU library's kernel (the variant moe_cpu_set_kernel chose); moe_fp8_gemm_cpu only
 *   EXACT      CUDA cores, summing in increasing k: bit-identical to the Java reference; any GPU
 *   MMA        mma.sync tensor cores: m16n8k32 e4m3 from compute capability 8.9, and on 8.0-8.8 the codes
 *              decoded (exactly) to BF16 for m16n8k16 bf16; 64 x 64 tiles
 *   WGMMA      Hopper's wgmma.mma_async m64n128k32 e4m3, operands staged by the threads into 128-byte
 *              swizzled shared memory; 64 x 128 tiles; compute capability 9.0 and a build with sm_90a code
 *   WGMMA_TMA  the same wgmma chunk as one persistent, warp-specialised kernel per launch: a producer warp
 *              loads 128-wide K chunks of A and B by TMA into a ring of shared-memory stages, two consumer
 *              warpgroups own a 128 x 128 tile each; same bits as WGMMA, same requirements. Shapes TMA
 *              cannot describe (K not a multiple of 16, code bases not 16-byte aligned) run WGMMA instead.
 * The tensor-core kernels sum each 128-wide k chunk on the tensor cores and promote it to the FP32 result on
 * the CUDA cores (acc += part * (sa * sb)): close to the reference, not bit-identical (the tensor cores'
 * summation order and internal precision). A kernel the device cannot run gives MOE_STATUS_UNSUPPORTED_GPU. */
#define MOE_GEMM_KERNEL_CPU 0
#define MOE_GEMM_KERNEL_EXACT 1
#define MOE_GEMM_KERNEL_MMA 2
#define MOE_GEMM_KERNEL_WGMMA 3
#define MOE_GEMM_KERNEL_WGMMA_TMA 4

/* FP8 GEMM layouts (moe_fp8_gemm_args.layout):
 *   DENSE                one C = A·B
 *   GROUPED_CONTIGUOUS   E groups over the rows of A and C (sorted by group, group g owning rows
 *                        offsets[g] .. offsets[g+1]-1), each with its own B: prefill and training forward
 *   GROUPED_MASKED       E groups of max_m row slots, group g using its first counts[g]: decode
 *   GROUPED_CONTIGUOUS_K E groups over the reduction dimension K, each writing its own C (the weight
 *                        gradient dW_g = dY_gᵀ·X_g of a grouped layer); reserved: MOE_STATUS_NOT_IMPLEMENTED */
#define MOE_GEMM_LAYOUT_DENSE 0
#define MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS 1
#define MOE_GEMM_LAYOUT_GROUPED_MASKED 2
#define MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS_K 3

/* How an operand lies in memory (moe_fp8_gemm_args.a_major, b_major): K-major stores A(m, k) at
 * a[m * lda + k] and B(n, k) at b[n * ldb + k] (the forward pass: activations and weights row by row);
 * MN-major stores them at a[k * lda + m] and b[k * ldb + n] (the activation gradient dY·W reads W
 * MN-major; the weight gradient dYᵀ·X reads both operands MN-major). Reserved: MN-major gives
 * MOE_STATUS_NOT_IMPLEMENTED. */
#define MOE_GEMM_MAJOR_K 0
#define MOE_GEMM_MAJOR_MN 1

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

/* What moe_library_query reports about the CPU library and the machine it runs on. */
typedef struct moe_library_info {
    const char* version;       /* the library's version, NUL-terminated, static */
    int32_t abi_version;       /* MOE_ABI_VERSION it was built with */
    int32_t cpu_has_avx2;      /* 1 if the CPU has AVX2+FMA+F16C (what the fast kernels need), else 0 */
    int32_t cpu_kernel;        /* the kernel variant in use: MOE_CPU_KERNEL_PORTABLE, _AVX2, _AVX512 or _AVX512_BF16 */
    int32_t cpu_max_threads;   /* upper bound of the OpenMP threads the kernels use */
    int32_t cpu_has_avx512;    /* 1 if the CPU and OS support AVX-512F+VL besides AVX2 (the AVX512 variant), else 0 */
    int32_t cpu_has_avx512_bf16; /* 1 if the CPU also has AVX512_BF16 and AVX512BW (the AVX512_BF16 variant), else 0 */
} moe_library_info;

/* One FP8 block-scaled GEMM (docs/specification.md §i.2-§i.3), on the CPU (moe_fp8_gemm_cpu) or a GPU (moe_fp8_gemm_cuda):
 *   C[m, n] = sum over K-chunks c of (sum_{k in chunk c} A(m, k) * B(n, k)) * sa(m, c) * sb(n, c)
 * chunks of 128 along K (the last may be shorter), FP32 accumulation with the chunk sum "promoted" into the
 * FP32 result once per chunk; C is overwritten. A and B hold OCP E4M3 codes; NaN codes (0x7F, 0xFF) give
 * unspecified results. Implemented today: K-major A with 1x128 scales sa [M, ceil(K/128)] (activations) and
 * K-major B with 128x128 scales sb [ceil(N/128), ceil(K/128)] (weights, one row per output channel), packed
 * (ld* 0 or equal to the packed value), in the layouts DENSE, GROUPED_CONTIGUOUS and GROUPED_MASKED; the
 * fields for the backward GEMMs are validated and their other values give MOE_STATUS_NOT_IMPLEMENTED.
 * Grouped layouts: B holds E matrices [E, N, K] with scales [E, ceil(N/128), ceil(K/128)];
 *   GROUPED_CONTIGUOUS: m = offsets[E], A [m, K], C [m, N]; offsets is HOST memory on both devices
 *     (int64 [E+1], offsets[0] == 0, non-decreasing; the CUDA call plans its launches from it);
 *   GROUPED_MASKED: m = E * max_m, A [E, max_m, K] with scales [E, max_m, ceil(K/128)], C [E, max_m, N],
 *     rows past a count set to 0; counts int32 [E] in host memory for the CPU (each in 0..max_m, else
 *     MOE_STATUS_BAD_BUFFER_SIZE) and device memory for CUDA (read by the kernel, so the call can sit in a
 *     CUDA graph; a count outside 0..max_m is clamped, not reported).
 * Every *_count is the element count of its buffer and must match the shapes (MOE_STATUS_BAD_BUFFER_SIZE);
 * a NULL buffer with a count > 0 gives MOE_STATUS_NULL_POINTER. The CPU call also checks that the scales
 * are finite (MOE_STATUS_NON_FINITE_INPUT); the CUDA call cannot (device memory): the caller checks them. */
typedef struct moe_fp8_gemm_args {
    int32_t struct_size;       /* sizeof(moe_fp8_gemm_args): the struct may grow; a library accepts every
                                * size it knows (today: this one) and refuses others (MOE_STATUS_INVALID_CONFIG) */
    int32_t kernel;            /* MOE_GEMM_KERNEL_* */
    int32_t layout;            /* MOE_GEMM_LAYOUT_* */
    int32_t a_major;           /* MOE_GEMM_MAJOR_K or _MN */
    int32_t b_major;           /* MOE_GEMM_MAJOR_K or _MN */
    int32_t a_scale_block;     /* MOE_FP8_BLOCK_*: A's scale granularity (1X128 implemented) */
    int32_t b_scale_block;     /* MOE_FP8_BLOCK_*: B's scale granularity (128X128 implemented) */
    int32_t device;            /* CUDA device index (moe_fp8_gemm_cuda; ignored by moe_fp8_gemm_cpu) */
    int64_t m, n, k;           /* C is [m, n]; k is the reduction dimension */
    int64_t lda, ldb, ldc;     /* leading dimensions in elements, 0: packed */
    int64_t groups;            /* E, >= 0, for the grouped layouts (ignored for DENSE) */
    int64_t max_m;             /* row slots per group for GROUPED_MASKED (ignored otherwise) */
    const int64_t* offsets;    /* GROUPED_CONTIGUOUS: int64 [E+1], host memory */
    const int32_t* counts;     /* GROUPED_MASKED: int32 [E] */
    const uint8_t* a;
    int64_t a_count;
    const float* a_scales;
    int64_t a_scales_count;
    const uint8_t* b;
    int64_t b_count;
    const float* b_scales;
    int64_t b_scales_count;
    float* c;
    int64_t c_count;
    void* stream;              /* cudaStream_t the CUDA call enqueues on (NULL: the default stream) */
} moe_fp8_gemm_args;

/* What moe_cuda_device_query reports. Versions are 1000 * major + 10 * minor (13000 is CUDA 13.0). */
typedef struct moe_cuda_device_info {
    int32_t device_count;      /* usable CUDA devices (0 without a driver or device) */
    int32_t major;             /* compute capability of the device asked about, e.g. 9 and 0 for H100/H200 */
    int32_t minor;
    int32_t multiprocessors;   /* its streaming multiprocessors */
    int32_t driver_version;    /* the installed CUDA driver's, 0 without one; set even when the query fails */
    int32_t runtime_version;   /* the CUDA runtime linked into the library (statically); it needs a driver of
                                * at least this version, else every call fails with CUDA error 35; set even
                                * when the query fails */
    int32_t has_wgmma_image;   /* 1 when the library holds the sm_90a image for this device, so its wgmma
                                * kernels are real (a plain sm_90 image would load with every one a trap) */
    int32_t reserved;          /* 0 */
    const char* name;          /* its name, NUL-terminated, owned by the library (valid until the process ends) */
} moe_cuda_device_info;

/* ---- One MoE layer forward, GPU-resident (moe_layer_forward_cuda) ----
 * The forward pass of one MoE layer (docs/specification.md §c.3) as a chain of moe's CUDA kernels with no host round trip:
 * router logits x·gateᵀ (FP32, each summed in increasing h), the fused gate, FP8 activations (1x128 tiles),
 * the permutation into expert order (tokens ascending within an expert), grouped FP8 GEMM with w13, SwiGLU
 * silu(a)·b with silu(a) = a * sigmoid(a) (the gate's sigmoid above), FP8 again, grouped FP8 GEMM with w2,
 * the optional shared expert on every token, and the combine sum_k weight_k * y_k in the router's order
 * (then + shared): with the EXACT GEMMs bit-identical to dev.moe.layer.MoeLayer. Pointers are device
 * pointers. Weights are those of dev.moe.layer.MoeLayerWeights: w13 stacks w1 (rows 0..I-1) and w3, all
 * experts' matrices back to back, scales in 128x128 blocks. */
typedef struct moe_layer_args {
    moe_gate_config gate;               /* the router (N experts, top-K, ...) */
    int32_t gemm_kernel;                /* MOE_GEMM_KERNEL_EXACT, _MMA or _WGMMA_TMA (the latter: hidden a
                                         * multiple of 16, N x 2I and N x H below 2^31, w13 and w2 16-byte
                                         * aligned); _WGMMA gives MOE_STATUS_NOT_IMPLEMENTED */
    int32_t reserved;                   /* 0 */
    int64_t tokens;                     /* T >= 0 */
    int64_t hidden;                     /* H >= 1 */
    int64_t intermediate;               /* I >= 1, a multiple of 128 */
    int64_t shared_intermediate;        /* Is: 0 for no shared expert, else a multiple of 128 */
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

/* ==== libmoe (CPU) ==== */

/* MOE_ABI_VERSION of the library (checked when it is loaded). */
int32_t moe_abi_version(void);
/* The library's version, the CPU's features and the kernel variant in use into *info. */
int32_t moe_library_query(moe_library_info* info);
/* A one-line description of a MOE_STATUS_* code (static string; "unknown status code" for others). */
const char* moe_status_message(int32_t status);

/* Choose the CPU kernel variant (MOE_CPU_KERNEL_*) for this process; AUTO picks the widest the CPU has
 * (AVX512_BF16, else AVX512, else AVX2, else PORTABLE). Asking for a variant the CPU lacks returns MOE_STATUS_UNSUPPORTED_CPU
 * and changes nothing. Every CPU kernel follows it. */
int32_t moe_cpu_set_kernel(int32_t kernel);

/* This machine's ceilings, measured now in the calling process (benchmark reports compare against them):
 * the FP32 FMA peak of all OpenMP threads in GFLOP/s (512-bit FMAs with the AVX512 kernel variants, 256-bit
 * otherwise: the width the kernels use), then the streaming read bandwidth over a buffer of
 * read_bytes (>= 1 MiB; make it much larger than the last-level cache) in GB/s, each measured for about
 * `seconds` (0 < seconds <= 60, else MOE_STATUS_BAD_BUFFER_SIZE). MOE_STATUS_UNSUPPORTED_CPU without AVX2+FMA. */
int32_t moe_cpu_machine_peaks(double seconds, int64_t read_bytes, double* fma_gflops, double* read_gbs);

/* Validate a configuration: MOE_STATUS_OK or MOE_STATUS_INVALID_CONFIG (NULL: MOE_STATUS_NULL_POINTER). */
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

/* ---- FP8 E4M3 (OCP "e4m3fn", DeepSeek-V3 recipe), shared bit-for-bit with dev.moe.fp8.E4m3 ----
 * Code S EEEE MMM, bias 7: normal (-1)^S 2^(E-7) (1+M/8), subnormal (E=0) (-1)^S 2^-6 (M/8); max finite
 * 448 (0x7E); no infinities; NaN is 0x7F and 0xFF only.
 * Encoding rounds to nearest, ties to even, after clamping |x| to 448 (finite values and infinities
 * saturate to +-448); NaN encodes as 0x7F; -0.0 encodes as 0x80. Kernel variant (portable/AVX2) as for
 * the gate. */

/* Block quantisation of x fp32 [rows, cols] (x_count == rows * cols, rows, cols >= 0) into E4M3 codes
 * q uint8 [rows, cols] (q_count == x_count) and fp32 scales, one per tile:
 *   MOE_FP8_BLOCK_1X128:   tile = 1 row x 128 columns,   scales [rows, ceil(cols/128)]
 *   MOE_FP8_BLOCK_128X128: tile = 128 rows x 128 columns, scales [ceil(rows/128), ceil(cols/128)]
 *   MOE_FP8_BLOCK_NONE:    the codes of x itself (plain encoding; any value, NaN and infinities included);
 *                          no scales (NULL, scales_count 0), pow2_scales 0
 * Edge tiles use the elements that exist. Per tile: amax = max |x|; s = max(amax, 1e-4f) / 448f;
 * with pow2_scales == 1, s = 2^ceil(log2 s) (exact); q = encode(x / s), all in FP32.
 * pow2_scales must be 0 or 1 and block one of MOE_FP8_BLOCK_* (else MOE_STATUS_INVALID_CONFIG).
 * With tiles, a non-finite x returns MOE_STATUS_NON_FINITE_INPUT; q and scales are then unspecified. */
int32_t moe_fp8_quantize_cpu(const float* x, int64_t x_count, int64_t rows, int64_t cols,
                             int32_t block, int32_t pow2_scales,
                             uint8_t* q, int64_t q_count, float* scales, int64_t scales_count);
/* Exact decode of in_count codes (in_count == out_count, else MOE_STATUS_BAD_BUFFER_SIZE; a NULL buffer
 * with a count > 0 gives MOE_STATUS_NULL_POINTER); 0x7F and 0xFF decode to a quiet NaN. */
int32_t moe_fp8_e4m3_decode(const uint8_t* in, int64_t in_count, float* out, int64_t out_count);

/* The FP8 GEMM of *args (see moe_fp8_gemm_args) with kernel MOE_GEMM_KERNEL_CPU, on host memory: sums
 * inside a chunk are not in a specified order, so results agree with the reference to FP32 rounding. */
int32_t moe_fp8_gemm_cpu(const moe_fp8_gemm_args* args);

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

/* Training's element-wise kernels on the CPU, the twins of dev.moe.train's Java loops: every operation as
 * written below, in FP32, no fused multiply-add, sums over 8 interleaved lanes (lane = j mod 8, in
 * increasing j) combined as ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)); so every kernel variant and thread count
 * gives the Java twin's bits. *_count is the elements available from each buffer (at least what the shapes
 * use, else MOE_STATUS_BAD_BUFFER_SIZE); backward must be 0 or 1 (else MOE_STATUS_INVALID_CONFIG).
 *
 * SwiGLU of rows of h13 = [h1 | h3], float [rows, 2*width], with s = sigmoid(h1) (the gate's, above):
 *   backward = 0: out[r, c] = (h1 * s) * h3                                  out [rows, width], dact unused
 *   backward = 1: out[r, c] = ((dact * h3) * s) * (1 + h1 * (1 - s)),        out [rows, 2*width],
 *                 out[r, width + c] = (dact * h1) * s                        dact [rows, width]
 * Non-finite values propagate. */
int32_t moe_swiglu_cpu(int32_t backward, int64_t rows, int64_t width, const float* h13, int64_t h13_count,
                       const float* dact, int64_t dact_count, float* out, int64_t out_count);
/* Causal softmax of the rows of count score matrices x [count, seq, seq], in place: row i keeps columns
 * 0..i and the others become 0. scale must be finite and > 0 (else MOE_STATUS_INVALID_CONFIG).
 *   backward = 0: x holds scores; x[i, j] = e_j * (1 / sum_j e_j), e_j = exp((x[i, j] - max) * scale), the max
 *                 over j <= i, exp the gate's; probs unused. A non-finite score gives
 *                 MOE_STATUS_NON_FINITE_INPUT (x is then unspecified).
 *   backward = 1: probs = the forward's output p, x holds dP; x[i, j] = (p * (dP - d)) * scale,
 *                 d = sum_{j <= i} p * dP. */
int32_t moe_softmax_causal_cpu(int32_t backward, int64_t count, int64_t seq, float scale, const float* probs,
                               int64_t probs_count, float* x, int64_t x_count);

/* Scratch bytes moe_layer_forward_cuda needs for args' shapes (gate, gemm_kernel, tokens, hidden,
 * intermediate, shared_intermediate; pointers are not read) into *bytes; MOE_STATUS_INVALID_CONFIG for
 * invalid shapes. In the CPU library, so that a caller can size the workspace without a GPU. */
int32_t moe_layer_workspace_bytes(const moe_layer_args* args, int64_t* bytes);

/* ==== libmoe_cuda (absent when built without nvcc) ====
 * Every call that takes a `device` first selects it (cudaSetDevice) for the calling thread. Status: a
 * missing driver or device (or a device index out of range) gives MOE_STATUS_NO_GPU, any other CUDA
 * failure MOE_STATUS_CUDA_ERROR (its CUDA code then comes from moe_cuda_last_error). A `stream` is a
 * cudaStream_t (NULL: the legacy default stream of the device); stream-ordered calls only enqueue work
 * and return without waiting for it. Kernel calls check their arguments (with the status codes of the
 * CPU calls) before the device is touched, and a call with nothing to do returns MOE_STATUS_OK without
 * touching it; results are ready after moe_cuda_stream_synchronize. */

/* Must equal MOE_ABI_VERSION. */
int32_t moe_cuda_abi_version(void);
/* The number of usable devices, and the name and compute capability of `device`, into *info. Without a
 * driver or device: MOE_STATUS_NO_GPU with info->device_count = 0 (moe_cuda_last_error says why); a device
 * index out of range: MOE_STATUS_NO_GPU with the count filled. */
int32_t moe_cuda_device_query(int32_t device, moe_cuda_device_info* info);
/* The CUDA runtime error behind the last MOE_STATUS_CUDA_ERROR or MOE_STATUS_NO_GPU a call returned on
 * this thread (else cudaGetLastError()), 0 (cudaSuccess) if none, and clears it; its message (NUL-
 * terminated, truncated) into message[0 .. capacity-1] unless message is NULL. A CUDA runtime that could
 * not initialise (e.g. no driver) keeps reporting that error. */
int32_t moe_cuda_last_error(char* message, int64_t capacity);

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

/* CUDA graphs: capture the work enqueued on `stream` (a stream from moe_cuda_stream_create, not NULL)
 * between begin and end into an executable graph *graph_exec, launch it (again and again) on a stream,
 * destroy it. While capturing, enqueued work does not run; other threads' CUDA calls neither fail nor join
 * the capture. end also ends a capture that failed half-way (returning the error and no graph). */
int32_t moe_cuda_graph_capture_begin(int32_t device, void* stream);
int32_t moe_cuda_graph_capture_end(int32_t device, void* stream, void** graph_exec);
int32_t moe_cuda_graph_launch(int32_t device, void* stream, void* graph_exec);
int32_t moe_cuda_graph_destroy(int32_t device, void* graph_exec);

/* moe_fp8_quantize_cpu on device `device` (x, q and scales device pointers), enqueued on `stream`: the same
 * codes and scales bit for bit. A non-finite x cannot be returned as a status (the call does not wait for
 * the kernel): the kernel sets the device int32 *nonfinite_flag to 1 when it meets one (and q and scales
 * are then unspecified) and leaves it unchanged otherwise, so the caller zeroes it before the call and
 * reads it after synchronising. nonfinite_flag may be NULL (no report); MOE_FP8_BLOCK_NONE never sets it. */
int32_t moe_fp8_quantize_cuda(int32_t device, void* stream, const float* x, int64_t x_count,
                              int64_t rows, int64_t cols, int32_t block, int32_t pow2_scales,
                              uint8_t* q, int64_t q_count, float* scales, int64_t scales_count,
                              int32_t* nonfinite_flag);
/* moe_fp8_e4m3_decode on device `device`, enqueued on `stream`: the same values bit for bit. */
int32_t moe_fp8_e4m3_decode_cuda(int32_t device, void* stream, const uint8_t* in, int64_t in_count,
                                 float* out, int64_t out_count);

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

/* The FP8 GEMM of *args (see moe_fp8_gemm_args and MOE_GEMM_KERNEL_*) on args->device, enqueued on
 * args->stream; a, a_scales, b, b_scales, c (and counts) are device pointers, offsets host memory. At most
 * 65535 row tiles per launch (MOE_STATUS_BAD_BUFFER_SIZE beyond). */
int32_t moe_fp8_gemm_cuda(const moe_fp8_gemm_args* args);

/* One MoE layer forward on `device`, every kernel enqueued on `stream` with no host synchronisation (see
 * moe_layer_args): shapes and pointers are checked (MOE_STATUS_INVALID_CONFIG, MOE_STATUS_NULL_POINTER,
 * MOE_STATUS_BAD_BUFFER_SIZE for a small workspace) before anything is enqueued; non-finite data is
 * reported in args->diagnostics, read after synchronising. Capturable into a CUDA graph. */
int32_t moe_layer_forward_cuda(int32_t device, void* stream, const moe_layer_args* args);

#ifdef __cplusplus
}
#endif

#endif /* MOE_MOE_H */

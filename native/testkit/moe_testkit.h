/*
 * moe_testkit.h - the C ABI of libmoe_testkit, the library the tests load next to libmoe: the CUDA
 * kernels' code run on the host ("host twins"), so that tests prove the GPU arithmetic, indexing and
 * synchronisation on machines without a GPU, and a self-test of the CUDA codec arithmetic. Not shipped:
 * the release jar holds libmoe and libmoe_cuda only. The test bindings (dev.moe.bindings.moe_testkit_h in
 * bindings/src/test) are what jextract generates from this header (bindings/jextract.sh), and
 * moe_testkit_abi_version() must equal MOE_ABI_VERSION (moe.h) when the library is loaded.
 *
 * Every twin is single-threaded and slow: for tests, not speed. Statuses and checks are those of the
 * CUDA calls they stand for, on host pointers.
 */
#ifndef MOE_MOE_TESTKIT_H
#define MOE_MOE_TESTKIT_H

#include <stdint.h>

#include "moe/moe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A kernel kind only the GEMM twin takes: MOE_GEMM_KERNEL_MMA's BF16 path (compute capability 8.0-8.8:
 * codes decoded exactly to BF16 for mma.sync m16n8k16); MOE_GEMM_KERNEL_MMA itself runs the FP8 path. */
#define MOE_TESTKIT_GEMM_KERNEL_MMA_BF16 102

/* MOE_ABI_VERSION of the library (checked when it is loaded). */
int32_t moe_testkit_abi_version(void);

/* The CUDA gate kernel's per-token warp code (the same source as moe_gate_cuda) with moe_gate_cpu's
 * contract: each token's 32 lanes one after the other in each phase, the warp collectives as folds over
 * the lanes. Configurations the CUDA kernel does not support (N > 1024, J > 32) give
 * MOE_STATUS_INVALID_CONFIG. */
int32_t moe_testkit_gate_cuda_host(const moe_gate_config* config,
                                   const float* logits, int64_t logits_count,
                                   const float* bias, int64_t bias_count,
                                   int64_t num_tokens,
                                   int32_t* out_ids, int64_t ids_count,
                                   float* out_weights, int64_t weights_count,
                                   int64_t* expert_load, int64_t load_count,
                                   moe_gate_stats* stats);

/* moe_fp8_gemm_cuda's launches and block code for args->kernel (EXACT, MMA, MOE_TESTKIT_GEMM_KERNEL_MMA_BF16,
 * WGMMA or WGMMA_TMA) and args->layout, on host pointers (counts too), thread by thread between the
 * kernel's barriers: mma.sync emulated from the PTX fragment layout, each wgmma from its shared-memory
 * descriptors, the TMA kernel's producer and consumers as threads taking turns at their mbarrier waits.
 * Each sums in increasing k: bit-identical to dev.moe.fp8.Fp8GemmReference. moe_fp8_gemm_cuda's checks,
 * and finite scales; MOE_STATUS_INTERNAL_ERROR for a descriptor the emulation cannot decode or one reaching
 * outside the block's shared memory, a deadlock or a barrier misuse. */
int32_t moe_testkit_fp8_gemm_cuda_host(const moe_fp8_gemm_args* args);

/* moe_layer_forward_cuda's kernels run on the host, block by block and thread by thread between their
 * barriers, on host pointers (MOE_GEMM_KERNEL_MMA: the FP8 path; WGMMA_TMA: its pipeline emulation). A
 * non-finite logit or activation returns MOE_STATUS_NON_FINITE_INPUT (diagnostics say which). */
int32_t moe_testkit_layer_forward_cuda_host(const moe_layer_args* args);

/* The CUDA FP8 codec arithmetic (shared/fp8_codec.cuh, compiled for the host) against the CPU kernels
 * (portable, and AVX2 where the CPU has it): encode on all 2^32 float bit patterns, decode on all 256
 * codes, and tile scales (pow2 off and on) and the codes of x / s on sampled tiles. Writes the number of
 * differing results to *mismatches (0 when the GPU codec equals the CPU codec bit for bit). Takes seconds
 * (OpenMP). */
int32_t moe_testkit_fp8_codec_selftest(uint64_t* mismatches);

#ifdef __cplusplus
}
#endif

#endif /* MOE_MOE_TESTKIT_H */

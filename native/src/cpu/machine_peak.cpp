// Machine ceilings measured in the same process as a benchmark (docs/cli.md `bench fp8-gemm`): the FP32
// FMA peak of all OpenMP threads (at the vector width the kernel variant in use computes with) and the
// streaming read bandwidth. Compiled with baseline flags; the AVX2 and AVX-512 loops are per-function
// targets, called only when the CPU has them.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <immintrin.h>
#include <omp.h>

#include "cpu_features.hpp"
#include "moe/moe.h"

namespace {

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// 12 independent FMA chains: enough to cover FMA latency x throughput on current x86 cores.
__attribute__((target("avx2,fma"))) float fma_loop(int64_t iters) {
    __m256 acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i) * 1e-3f);
    const __m256 mul = _mm256_set1_ps(0.999999f);
    const __m256 add = _mm256_set1_ps(1e-7f);
    for (int64_t it = 0; it < iters; ++it) {
        for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], mul, add);
    }
    __m256 s = acc[0];
    for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}

// The same with 512-bit vectors: twice the FLOPs per instruction where the core executes them at full width.
__attribute__((target("avx512f"))) float fma_loop_512(int64_t iters) {
    __m512 acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i) * 1e-3f);
    const __m512 mul = _mm512_set1_ps(0.999999f);
    const __m512 add = _mm512_set1_ps(1e-7f);
    for (int64_t it = 0; it < iters; ++it) {
        for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], mul, add);
    }
    __m512 s = acc[0];
    for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
    alignas(64) float out[16];
    _mm512_store_ps(out, s);
    return out[0] + out[15];
}

__attribute__((target("avx2"))) float read_loop(const float* p, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int64_t i = 0; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
        a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
    }
    float out[8];
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    return out[0];
}

volatile float g_sink;

constexpr int kMinRounds = 4;  // the first round is a warm-up; the best of the others is reported

// GFLOP/s of FP32 FMAs on all OpenMP threads: the best of short rounds over about `seconds`, so that a
// moment of contention from other processes does not pull the figure down.
double fma_peak(double seconds, bool wide) {
    const int64_t iters = 1 << 20;  // 12*8*2*1M = 201 MFLOP per thread per round (~2 ms; twice with 512 bits)
    const int64_t lanes = wide ? 16 : 8;
    double best = 0.0;
    const double start = now();
    for (int round = 0; round < kMinRounds || now() - start < seconds; ++round) {
        float sink = 0.0f;
        int threads = 1;
        const double t0 = now();
#pragma omp parallel reduction(+ : sink)
        {
#pragma omp single
            threads = omp_get_num_threads();
            sink += wide ? fma_loop_512(iters) : fma_loop(iters);
        }
        const double t = now() - t0;
        g_sink = sink;
        const double rate = static_cast<double>(threads) * static_cast<double>(iters) * 12 * static_cast<double>(lanes) * 2 / t;
        if (round > 0 && rate > best) best = rate;  // round 0 wakes the threads up
    }
    return best / 1e9;
}

// GB/s read from a buffer of `bytes` by all OpenMP threads: the best of several passes over about
// `seconds`; false when the buffer cannot be allocated.
bool read_bandwidth(int64_t bytes, double seconds, double* gbs) {
    const int64_t n = bytes / static_cast<int64_t>(sizeof(float)) / 256 * 256;
    float* p = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(n) * sizeof(float)));
    if (p == nullptr) return false;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) p[i] = 1.0f;  // first touch by the threads that read it
    double best = 0.0;
    const double start = now();
    for (int round = 0; round < kMinRounds || now() - start < seconds; ++round) {
        float sink = 0.0f;
        const double t0 = now();
#pragma omp parallel reduction(+ : sink)
        {
            const int nt = omp_get_num_threads();
            const int id = omp_get_thread_num();
            const int64_t per = n / nt / 32 * 32;
            sink += read_loop(p + per * id, id == nt - 1 ? n - per * id : per);
        }
        const double t = now() - t0;
        g_sink = sink;
        const double rate = static_cast<double>(n) * sizeof(float) / t;
        if (round > 0 && rate > best) best = rate;  // round 0 wakes the threads up
    }
    std::free(p);
    *gbs = best / 1e9;
    return true;
}

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_cpu_machine_peaks(double seconds, int64_t read_bytes, double* fma_gflops, double* read_gbs) {
    if (fma_gflops == nullptr || read_gbs == nullptr) return MOE_STATUS_NULL_POINTER;
    if (read_bytes < (1 << 20) || !(seconds > 0.0) || seconds > 60.0) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (!moe::cpu_has_avx2()) return MOE_STATUS_UNSUPPORTED_CPU;
    *fma_gflops = fma_peak(seconds, moe::cpu_kernel_avx512());
    return read_bandwidth(read_bytes, seconds, read_gbs) ? MOE_STATUS_OK : MOE_STATUS_OUT_OF_MEMORY;
}

}  // extern "C"
#pragma GCC visibility pop

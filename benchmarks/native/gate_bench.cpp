// Native timing harness for the fused gate: times moe_gate_cpu on synthetic DeepSeek-V3 logits
// without the JVM, so kernel changes can be measured in isolation.
//   gate_bench [tokens=4096] [reps=200] [kernel: auto|portable|avx2|avx512] [bias: none|add]
// With "add" a selection bias (as the simulator's loss-free balancing passes) is added to the scores.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>
#include <algorithm>

#include "moe/moe.h"

int main(int argc, char** argv) {
    const int64_t T = argc > 1 ? std::atoll(argv[1]) : 4096;
    const int reps = argc > 2 ? std::atoi(argv[2]) : 200;
    if (argc > 3) {
        const int k = std::strcmp(argv[3], "portable") == 0 ? MOE_CPU_KERNEL_PORTABLE
                      : std::strcmp(argv[3], "avx2") == 0   ? MOE_CPU_KERNEL_AVX2
                      : std::strcmp(argv[3], "avx512") == 0 ? MOE_CPU_KERNEL_AVX512
                                                            : MOE_CPU_KERNEL_AUTO;
        if (moe_cpu_set_kernel(k) != MOE_STATUS_OK) { std::fprintf(stderr, "kernel not supported\n"); return 2; }
    }
    moe_gate_config c{256, 8, 4, 8, MOE_SCORE_SIGMOID, MOE_GROUP_SCORE_TOP_J_SUM, 2, 1, 2.5f};
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.f, 1.f);
    const bool with_bias = argc > 4 && std::strcmp(argv[4], "add") == 0;
    std::vector<float> pop(256), z(T * 256), w(T * 8), bias(256);
    std::vector<int32_t> ids(T * 8);
    std::vector<int64_t> load(256);
    for (auto& p : pop) p = 0.5f * nd(rng);
    for (int64_t i = 0; i < T * 256; ++i) z[i] = nd(rng) + pop[i % 256];
    for (auto& b : bias) b = 0.01f * nd(rng);
    std::vector<double> times;
    for (int r = 0; r < reps + reps / 5 + 1; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        int st = moe_gate_cpu(&c, z.data(), T * 256, with_bias ? bias.data() : nullptr, with_bias ? 256 : 0, T, ids.data(), T * 8, w.data(), T * 8, load.data(), 256, nullptr);
        auto t1 = std::chrono::steady_clock::now();
        if (st != MOE_STATUS_OK) { std::fprintf(stderr, "status %d\n", st); return 1; }
        if (r > reps / 5) times.push_back(std::chrono::duration<double>(t1 - t0).count());
    }
    std::sort(times.begin(), times.end());
    const double med = times[times.size() / 2];
    moe_library_info info{};
    moe_library_query(&info);
    std::printf("kernel=%d threads=%d bias=%s T=%lld median %.1f us  %.3f us/token  %.2f Mtokens/s\n", info.cpu_kernel,
                info.cpu_max_threads, with_bias ? "add" : "none", (long long)T, med * 1e6, med * 1e6 / T, T / med / 1e6);
    return 0;
}

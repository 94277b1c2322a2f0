// Benchmark: the FP6 GEMM (as the op dispatches it) against cuBLAS FP16 on the same dequantized weights.
// Method (fp6-kernel.md §10.4): more than 5x L2 of distinct weight copies rotated so every call streams its weights
// from HBM; back-to-back calls captured in a CUDA graph, one graph for cuBLAS and one for FP6, each timed in its own
// steady state (>= 200 ms of its replays alone, then 7 timed replays, two rounds in alternating order; median), or
// with --timing=interleaved the two graphs' replays alternating (>= 200 ms of alternating warm-up, then 7 each; the
// method of v15-v21, which runs each side at the clocks the other's power draw leaves: see graph_timing.h); FP6 time
// includes everything the op launches. cuBLAS: cublasGemmEx(OP_T, OP_N, FP16 in/out, FP32 compute, default algorithm).
// Usage: fp6_gemm_bench [--all] [--explore] [--timing=interleaved] [--ms=1,16,...] [--md=path]
//        (--all adds the other §10.1 shapes)
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "../fp6_gemm.h"
#include "bench_shapes.h"
#include "graph_timing.h"

namespace {

#define CUDA_OK(expr)                                                                               \
  do {                                                                                              \
    cudaError_t e_ = (expr);                                                                        \
    if (e_ != cudaSuccess) {                                                                        \
      std::fprintf(stderr, "CUDA error %s at %s:%d: %s\n", cudaGetErrorString(e_), __FILE__, __LINE__, #expr); \
      std::exit(2);                                                                                 \
    }                                                                                               \
  } while (0)
#define CUBLAS_OK(expr)                                                                  \
  do {                                                                                   \
    cublasStatus_t s_ = (expr);                                                          \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                                   \
      std::fprintf(stderr, "cuBLAS error %d at %s:%d: %s\n", static_cast<int>(s_), __FILE__, __LINE__, #expr); \
      std::exit(2);                                                                      \
    }                                                                                    \
  } while (0)

using fp6::tools::Shape;
// The rest of §10.1 (distinct shapes), tensor-parallel slices and odd shapes.
const Shape kExtra[] = {
    {"L2-7B qkv", 12288, 4096},       {"L2-7B gate/up", 11008, 4096},   {"L2-7B lm_head", 32000, 4096},
    {"L2-13B q/k/v/o", 5120, 5120},   {"L2-13B qkv", 15360, 5120},      {"L2-13B gate/up", 13824, 5120},
    {"L2-13B gate+up", 27648, 5120},  {"L2-13B down", 5120, 13824},     {"L2-13B lm_head", 32000, 5120},
    {"70B k/v", 1024, 8192},          {"70B gate/up", 28672, 8192},     {"L2-70B lm_head", 32000, 8192},
    {"L3-8B k/v", 1024, 4096},        {"L3-8B gate/up", 14336, 4096},   {"L3-8B lm_head", 128256, 4096},
    {"L3-70B lm_head", 128256, 8192}, {"70B TP2 qkv", 5120, 8192},      {"70B TP4 qkv", 2560, 8192},
    {"70B TP8 qkv", 1280, 8192},      {"70B TP4 gate+up", 14336, 8192}, {"70B TP8 gate+up", 7168, 8192},
    {"70B TP2 down", 8192, 14336},    {"70B TP4 down", 8192, 7168},     {"70B TP8 down", 8192, 3584},
    {"L3-8B TP8 k/v", 128, 4096},     {"odd", 320, 4160},               {"odd", 4096, 4100},
};

__global__ void FillBytes(uint8_t* p, size_t n, uint32_t seed) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    uint32_t h = static_cast<uint32_t>(i) * 2654435761u ^ seed;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    p[i] = static_cast<uint8_t>(h >> 7);
  }
}

// Activations ~ U(-1, 1) and scales in [0.002, 0.006], as FP16.
__global__ void FillHalf(uint16_t* p, size_t n, uint32_t seed, float lo, float hi) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    uint32_t h = static_cast<uint32_t>(i) * 2246822519u ^ seed;
    h ^= h >> 16;
    h *= 2654435761u;
    h ^= h >> 13;
    const float u = static_cast<float>(h >> 8) / 16777216.0f;
    p[i] = __half_as_ushort(__float2half_rn(lo + (hi - lo) * u));
  }
}

__global__ void RelDiff(const uint16_t* a, const uint16_t* b, size_t n, float* out) {
  float num = 0.f, den = 0.f;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const float x = __half2float(__ushort_as_half(a[i])), y = __half2float(__ushort_as_half(b[i]));
    num += fabsf(x - y);
    den += fabsf(y);
    if (!isfinite(x)) num += 1e30f;
  }
  atomicAdd(&out[0], num);
  atomicAdd(&out[1], den);
}

std::string Fmt(const char* f, double v) {
  char b[256];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  bool all = false, explore = false, interleaved = false;
  Shape custom{"custom", 0, 0};
  std::string md;
  std::vector<int64_t> ms = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--all") all = true;
    else if (a == "--explore") explore = true;
    else if (a == "--timing=interleaved") interleaved = true;
    else if (a == "--timing=solo") interleaved = false;
    else if (a.rfind("--md=", 0) == 0) md = a.substr(5);
    else if (a.rfind("--shape=", 0) == 0) {
      custom.n = std::atoi(a.c_str() + 8);
      custom.k = std::atoi(a.c_str() + a.find(',') + 1);
    }
    else if (a.rfind("--ms=", 0) == 0) {
      ms.clear();
      for (size_t p = 5; p < a.size();) {
        size_t q = a.find(',', p);
        if (q == std::string::npos) q = a.size();
        ms.push_back(std::atoll(a.substr(p, q - p).c_str()));
        p = q + 1;
      }
    }
  }
  fp6::cuda::DeviceInfo info;
  CUDA_OK(fp6::cuda::PrepareDevice(0, &info));
  cudaDeviceProp prop;
  CUDA_OK(cudaGetDeviceProperties(&prop, 0));
  const double l2 = prop.l2CacheSize;
  std::printf("device: %s, %d SMs, L2 %.0f MB, sm_%d%d\n", prop.name, prop.multiProcessorCount, l2 / 1e6, prop.major, prop.minor);

  cudaStream_t stream;
  CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  cublasHandle_t handle;
  CUBLAS_OK(cublasCreate(&handle));
  CUBLAS_OK(cublasSetStream(handle, stream));
  void* cublas_ws = nullptr;
  const size_t cublas_ws_bytes = 64u << 20;
  CUDA_OK(cudaMalloc(&cublas_ws, cublas_ws_bytes));
  CUBLAS_OK(cublasSetWorkspace(handle, cublas_ws, cublas_ws_bytes));
  const int64_t max_m = *std::max_element(ms.begin(), ms.end());
  float* diff = nullptr;
  CUDA_OK(cudaMalloc(&diff, 8));

  std::vector<Shape> shapes(std::begin(fp6::tools::kCoreShapes), std::end(fp6::tools::kCoreShapes));
  if (custom.n > 0) shapes = {custom};
  const size_t core_count = shapes.size();
  if (all) shapes.insert(shapes.end(), std::begin(kExtra), std::end(kExtra));

  // results[shape][m] = {fp6 us, cublas us}
  std::vector<std::map<int64_t, std::pair<double, double>>> results(shapes.size());
  std::vector<std::map<int64_t, std::string>> chosen(shapes.size());
  double worst_rel = 0.0;
  std::string explore_log;
  if (explore) {  // the wave sizes the planner works with (cudaOccupancyMaxActiveClusters), clusters of 1..8
    const int wt[6][3] = {{64, 1, 1}, {64, 2, 1}, {128, 1, 1}, {128, 2, 1}, {256, 1, 1}, {64, 1, 2}};
    for (const auto& tb : wt) {
      fp6::cuda::GemmConfig g;
      g.kind = fp6::cuda::KernelKind::kWgmma;
      g.tile = tb[0];
      g.bands = tb[1];
      g.ctas_per_sm = tb[2];
      std::string line = "ctas per wave, " + fp6::cuda::DescribeConfig(g) + ", clusters 1..8:";
      for (g.cluster = 1; g.cluster <= 8; ++g.cluster)
        line += " " + std::to_string(fp6::cuda::WgmmaCtasPerWave(info, g));
      explore_log += line + "\n";
    }
  }

  for (size_t si = 0; si < shapes.size(); ++si) {
    const Shape& s = shapes[si];
    const int64_t np = (s.n + 63) / 64 * 64, kp = (s.k + 63) / 64 * 64;
    const size_t fp6_bytes = static_cast<size_t>(np * kp * 3 / 4);
    const size_t f16_bytes = static_cast<size_t>(s.n) * s.k * 2;
    const int n6 = std::max(2, static_cast<int>(5.0 * l2 / fp6_bytes) + 1);
    const int n16 = std::max(2, static_cast<int>(5.0 * l2 / f16_bytes) + 1);
    std::vector<uint8_t*> w6(n6);
    std::vector<uint16_t*> w16(n16);
    uint16_t *scales, *x, *y, *y16;
    CUDA_OK(cudaMalloc(&scales, s.n * 2));
    FillHalf<<<256, 256, 0, stream>>>(scales, s.n, 99u, 0.002f, 0.006f);
    for (int i = 0; i < n6; ++i) {
      CUDA_OK(cudaMalloc(&w6[i], fp6_bytes));
      FillBytes<<<1024, 256, 0, stream>>>(w6[i], fp6_bytes, 1234u + i);
    }
    for (int i = 0; i < n16; ++i) {
      CUDA_OK(cudaMalloc(&w16[i], f16_bytes));
      CUDA_OK(fp6::cuda::DequantizeToHalf(w6[i % n6], scales, s.n, s.k, w16[i], stream));
    }
    CUDA_OK(cudaMalloc(&x, static_cast<size_t>(max_m) * s.k * 2));
    FillHalf<<<1024, 256, 0, stream>>>(x, static_cast<size_t>(max_m) * s.k, 7u, -1.0f, 1.0f);
    CUDA_OK(cudaMalloc(&y, static_cast<size_t>(max_m) * s.n * 2));
    CUDA_OK(cudaMalloc(&y16, static_cast<size_t>(max_m) * s.n * 2));
    CUDA_OK(cudaStreamSynchronize(stream));

    for (int64_t m : ms) {
      const float alpha = 1.0f, beta = 0.0f;
      auto run_cublas = [&](int i) {
        CUBLAS_OK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, s.n, static_cast<int>(m), s.k, &alpha, w16[i % n16],
                               CUDA_R_16F, s.k, x, CUDA_R_16F, s.k, &beta, y16, CUDA_R_16F, s.n, CUBLAS_COMPUTE_32F,
                               CUBLAS_GEMM_DEFAULT));
      };
      fp6::cuda::GemmArgs a;
      a.x = x;
      a.scales = scales;
      a.y = y;
      a.m = m;
      a.n = s.n;
      a.k = s.k;
      const fp6::cuda::GemmConfig plan = fp6::cuda::PlanGemm(info, m, s.n, s.k, true);
      auto run_fp6 = [&](int i, const fp6::cuda::GemmConfig& c) {
        a.w = w6[i % n6];
        CUDA_OK(fp6::cuda::RunGemm(info, a, c, stream));
      };
      // Sanity: FP6 vs cuBLAS on the same (dequantized) weights, copy 0.
      run_cublas(0);
      run_fp6(0, plan);
      CUDA_OK(cudaMemsetAsync(diff, 0, 8, stream));
      RelDiff<<<256, 256, 0, stream>>>(y, y16, static_cast<size_t>(m) * s.n, diff);
      float h[2];
      CUDA_OK(cudaMemcpyAsync(h, diff, 8, cudaMemcpyDeviceToHost, stream));
      CUDA_OK(cudaStreamSynchronize(stream));
      const double rel = h[0] / std::max(h[1], 1e-30f);
      worst_rel = std::max(worst_rel, rel);

      const int calls = std::max(16, std::max(n6, n16));
      const std::pair<double, double> times =
          interleaved
              ? fp6::tools::InterleavedMedianGraphMicros(stream, calls, 7, run_cublas, [&](int i) { run_fp6(i, plan); })
              : fp6::tools::SoloSteadyMedianGraphMicros(stream, calls, 7, run_cublas, [&](int i) { run_fp6(i, plan); });
      const double t16 = times.first, t6 = times.second;
      results[si][m] = {t6, t16};
      chosen[si][m] = fp6::cuda::DescribeConfig(plan);
      std::printf("%-16s %6dx%-6d M=%-5lld cublas %9.2f us (%5.2f TB/s)  fp6 %9.2f us (%5.2f TB/s)  x%.2f  [%s] rel=%.1e\n",
                  s.name, s.n, s.k, static_cast<long long>(m), t16, f16_bytes / t16 / 1e6, t6, fp6_bytes / t6 / 1e6,
                  t16 / t6, chosen[si][m].c_str(), rel);
      std::fflush(stdout);

      const bool swept = m != 2 && m != 4;  // 2 and 4 tokens run the configurations of 1 and 8
      if (explore && si < core_count && swept) {
        std::vector<fp6::cuda::GemmConfig> cands;
        // {warps, stages, cp.async, bands per warp, staged activations}
        const int variants[12][5] = {{8, 4, 0, 1, 0}, {4, 6, 0, 1, 0}, {16, 3, 0, 1, 0}, {8, 4, 1, 1, 0},
                                     {16, 3, 1, 1, 0}, {8, 2, 1, 2, 0}, {4, 4, 1, 2, 0}, {8, 2, 1, 1, 1},
                                     {8, 3, 1, 1, 1},  {8, 4, 1, 1, 1}, {4, 4, 1, 1, 1}, {16, 2, 1, 1, 1}};
        for (int t : {8, 16, 32})
          for (const auto& v : variants)
            for (int c = 1; c <= 4; c *= 2) {
              fp6::cuda::GemmConfig g;
              g.kind = fp6::cuda::KernelKind::kDecode;
              g.tile = t;
              g.bands = 1;
              g.warps = v[0];
              g.stages = v[1];
              g.cp_async = v[2] != 0;
              g.warp_bands = v[3];
              g.stage_activations = v[4] != 0;
              g.cluster = c;
              if (m <= 64 && (t >= m || t == 32) && (t <= 2 * m || t == 8) &&
                  fp6::cuda::ConfigSupported(info, g, m, s.n, s.k, true))
                cands.push_back(g);
            }
        for (int t : {8, 16})  // flat decode splits, one wave of groups
          for (int w : {8, 16})
            for (int c = 1; c <= 8; ++c) {
              fp6::cuda::GemmConfig g;
              g.kind = fp6::cuda::KernelKind::kDecode;
              g.tile = t;
              g.warps = w;
              g.stages = w == 16 ? 3 : 4;
              g.cp_async = true;
              g.cluster = c;
              g.groups = fp6::cuda::FlatGroupsPerWave(info, g);
              if (t >= m && (t == 8 || m > 8) && fp6::cuda::ConfigSupported(info, g, m, s.n, s.k, true))
                cands.push_back(g);
            }
        const int wt[6][3] = {{64, 1, 1}, {64, 2, 1}, {128, 1, 1}, {128, 2, 1}, {256, 1, 1}, {64, 1, 2}};
        for (const auto& tb : wt)
          for (int c = 1; c <= 8; ++c) {
            fp6::cuda::GemmConfig g;
            g.kind = fp6::cuda::KernelKind::kWgmma;
            g.tile = tb[0];
            g.bands = tb[1];
            g.ctas_per_sm = tb[2];
            g.cluster = c;
            if (m >= 16 && fp6::cuda::ConfigSupported(info, g, m, s.n, s.k, true)) cands.push_back(g);
            // The full waves whole, the last wave's tiles split (as the planner builds it).
            const int per_wave = fp6::cuda::WgmmaCtasPerWave(info, g);
            const int64_t tiles = fp6::cuda::WgmmaTiles(g, m, s.n);
            g.whole_tiles = per_wave > 0 ? static_cast<int>(tiles / per_wave * per_wave) : 0;
            if (m >= 16 && c > 1 && g.ctas_per_sm == 1 && g.whole_tiles > 0 && g.whole_tiles < tiles &&
                fp6::cuda::ConfigSupported(info, g, m, s.n, s.k, true))
              cands.push_back(g);
          }
        double best = 1e30;
        std::string best_name;
        std::string line = std::string(s.name) + " M=" + std::to_string(m) + ":";
        for (const auto& g : cands) {
          const double t = fp6::tools::MedianGraphMicros(stream, calls, 3, [&](int i) { run_fp6(i, g); });
          line += " [" + fp6::cuda::DescribeConfig(g) + "] " + Fmt("%.2f", t);
          if (t < best) {
            best = t;
            best_name = fp6::cuda::DescribeConfig(g);
          }
        }
        const std::string summary = std::string("explore ") + s.name + " M=" + std::to_string(m) + ": plan [" +
                                    chosen[si][m] + "] " + Fmt("%.2f", t6) + " us, best [" + best_name + "] " +
                                    Fmt("%.2f", best) + " us (cublas " + Fmt("%.2f", t16) + ")";
        std::printf("%s\n", summary.c_str());
        explore_log += line + "\n" + summary + "\n";
      }
    }
    for (auto p : w6) CUDA_OK(cudaFree(p));
    for (auto p : w16) CUDA_OK(cudaFree(p));
    CUDA_OK(cudaFree(scales));
    CUDA_OK(cudaFree(x));
    CUDA_OK(cudaFree(y));
    CUDA_OK(cudaFree(y16));
  }
  std::printf("worst mean relative difference FP6 vs cuBLAS (same dequantized weights): %.2e\n", worst_rel);

  // ---- report ----
  std::string gpu = prop.name;
  std::string tag = "gpu";
  if (gpu.find("H100") != std::string::npos) tag = "h100";
  else if (gpu.find("H200") != std::string::npos) tag = "h200";
  std::string out;
  out += "# FP6 x FP16 GEMM vs cuBLAS FP16: " + gpu + "\n\n";
  out += "Produced by `CustomOps/cuda/tools/fp6_gemm_bench` (run by `CustomOps/cuda/run_gpu.sh`). Weights: tcfpx FP6 "
         "(e3m2) with one FP16 scale per row; cuBLAS runs `cublasGemmEx(OP_T, OP_N)` FP16 in/out with FP32 compute on "
         "the same weights dequantized to FP16. More than 5x L2 of distinct weight copies are rotated, so every call "
         "reads its weights from HBM; calls are captured back to back in a CUDA graph, one graph per side. " +
         std::string(interleaved
                         ? "Timing: interleaved (--timing=interleaved): the two graphs' replays alternate (cuBLAS, FP6, "
                           "cuBLAS, ...), median of 7 replays each after at least 200 ms of alternating warm-up, so "
                           "each side runs at the clocks the pair's average power draw leaves it. "
                         : "Timing: each side in its own steady state: at least 200 ms of its replays alone, then 7 "
                           "timed replays, in two rounds (cuBLAS then FP6, FP6 then cuBLAS: slow drift hits both "
                           "alike); median of the 14, so that each side runs at the clocks its own power draw leaves "
                           "it, as a deployment running one of them would. ") +
         "The FP6 time is everything the op launches (one kernel; split-K reduction inside it). M = tokens; shapes "
         "are out_features x in_features. Speedup = cuBLAS time / FP6 time.\n\n";
  out += std::to_string(prop.multiProcessorCount) + " SMs, " + Fmt("L2 %.0f MB. ", l2 / 1e6) +
         Fmt("Worst mean relative difference FP6 vs cuBLAS outputs over all runs: %.1e.\n\n", worst_rel);
  auto table = [&](size_t begin, size_t end, const char* title) {
    out += std::string("## ") + title + "\n\n| shape | N x K |";
    for (int64_t m : ms) out += " " + std::to_string(m) + " |";
    out += "\n| --- | --- |";
    for (size_t i = 0; i < ms.size(); ++i) out += " --- |";
    out += "\n";
    std::vector<double> sum(ms.size(), 0.0);
    for (size_t si = begin; si < end; ++si) {
      out += std::string("| ") + shapes[si].name + " | " + std::to_string(shapes[si].n) + " x " + std::to_string(shapes[si].k) + " |";
      for (size_t j = 0; j < ms.size(); ++j) {
        const auto& r = results[si][ms[j]];
        out += Fmt(" %.2f |", r.second / r.first);
        sum[j] += r.second / r.first;
      }
      out += "\n";
    }
    out += "| **average** | |";
    for (size_t j = 0; j < ms.size(); ++j) out += Fmt(" **%.2f** |", sum[j] / (end - begin));
    out += "\n\n";
    return sum;
  };
  std::vector<double> core_sum = table(0, core_count, "Speedup over cuBLAS FP16, the ten shapes of fp6-kernel.md §6.3");
  if (shapes.size() > core_count) table(core_count, shapes.size(), "Speedup over cuBLAS FP16, the other shapes of §10.1");
  out += "## Times (us) and effective weight bandwidth (TB/s): FP6 / cuBLAS, and the configuration the op picked\n\n";
  out += "| shape | M | FP6 us | FP6 TB/s | cuBLAS us | cuBLAS TB/s | config |\n| --- | --- | --- | --- | --- | --- | --- |\n";
  for (size_t si = 0; si < shapes.size(); ++si) {
    const Shape& s = shapes[si];
    const double b6 = static_cast<double>((s.n + 63) / 64 * 64) * ((s.k + 63) / 64 * 64) * 0.75;
    const double b16 = 2.0 * s.n * s.k;
    for (int64_t m : ms) {
      const auto& r = results[si][m];
      out += std::string("| ") + s.name + " " + std::to_string(s.n) + "x" + std::to_string(s.k) + " | " +
             std::to_string(m) + Fmt(" | %.2f", r.first) + Fmt(" | %.2f", b6 / r.first / 1e6) + Fmt(" | %.2f", r.second) +
             Fmt(" | %.2f", b16 / r.second / 1e6) + " | " + chosen[si][m] + " |\n";
    }
  }
  if (!explore_log.empty()) out += "\n## Configuration sweep (--explore)\n\n```\n" + explore_log + "```\n";
  auto avg_at = [&](int64_t m) -> std::string {
    for (size_t j = 0; j < ms.size(); ++j)
      if (ms[j] == m) return Fmt("%.2f", core_sum[j] / core_count);
    return "n/a";
  };
  const std::string summary = "summary: m1=" + avg_at(1) + " m16=" + avg_at(16) + " m64=" + avg_at(64) +
                              " m256=" + avg_at(256) + " m1024=" + avg_at(1024);
  out += "\n" + summary + "\n";
  if (md.empty()) md = "gemm-" + tag + ".md";
  if (FILE* f = std::fopen(md.c_str(), "w")) {
    std::fputs(out.c_str(), f);
    std::fclose(f);
  }
  std::printf("wrote %s\n%s\n", md.c_str(), summary.c_str());
  return 0;
}

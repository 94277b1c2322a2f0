// Correctness of the CUDA Fp6Linear GEMM (fp6-kernel.md §10.3), in one program:
//   layer 1  tcfpx packer golden vectors and round trip; the register dequantization against the closed form (CPU)
//   layer 2  data exact by construction (codes of value 0, +-1, +-2; power-of-two scales; activations in {-1,0,1}):
//            every kernel configuration must equal the CPU reference bit for bit
//   layer 3  random codes / scales / Gaussian (and heavy-tailed) activations, per-element tolerance against FP64
// Every run poisons the output (and a guard region behind it) first and checks that each output was written and the
// guard was not. Prints "N passed, M failed" last. Usage: fp6_gemm_test [--quick]
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../fp6_gemm.h"
#include "../fp6_tc_dequant.cuh"
#include "tcfpx_host.h"

using fp6::cuda::GemmConfig;
using fp6::cuda::KernelKind;

namespace {

int g_passed = 0, g_failed = 0;

void Check(bool ok, const std::string& what) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    std::printf("FAIL %s\n", what.c_str());
  }
}

#define CUDA_OK(expr)                                                                          \
  do {                                                                                         \
    cudaError_t e_ = (expr);                                                                   \
    if (e_ != cudaSuccess) {                                                                   \
      std::printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorString(e_), __FILE__, __LINE__, #expr); \
      std::exit(2);                                                                            \
    }                                                                                          \
  } while (0)

// ---------------------------------------------------------------- layer 1
void Layer1() {
  std::vector<uint8_t> codes(64 * 64);
  for (int r = 0; r < 64; ++r)
    for (int c = 0; c < 64; ++c) codes[r * 64 + c] = static_cast<uint8_t>((7 * r + 3 * c) % 64);
  auto p = fp6test::PackTcFpx(codes.data(), 64, 64);
  Check(p.size() == 3072 && fp6test::Crc32(p.data(), p.size()) == 0x836c14e4u, "golden 64x64 packed CRC");
  Check(fp6test::Crc32(p.data(), 1024) == 0xb19c64f6u, "golden 64x64 2-bit segment CRC");
  Check(fp6test::Crc32(p.data() + 1024, 2048) == 0x8a95e084u, "golden 64x64 4-bit segment CRC");
  const uint32_t w4_golden[4] = {0x3bb30880u, 0x91196ee6u, 0xf77fc44cu, 0x5dd52aa2u};
  const uint32_t w2_golden[4] = {0x1cd81cd8u, 0x2d1c1cd8u, 0x2d1c2d1cu, 0x612d612du};
  for (int lane = 0; lane < 4; ++lane) {
    uint32_t w4, w2;
    std::memcpy(&w4, p.data() + 1024 + 4 * lane, 4);
    std::memcpy(&w2, p.data() + 4 * lane, 4);
    Check(w4 == w4_golden[lane] && w2 == w2_golden[lane], "golden 64x64 word 0 of lane " + std::to_string(lane));
  }
  std::vector<uint8_t> codes2(256 * 128);
  for (int r = 0; r < 256; ++r)
    for (int c = 0; c < 128; ++c) codes2[r * 128 + c] = static_cast<uint8_t>((7 * r + 3 * c) % 64);
  auto p2 = fp6test::PackTcFpx(codes2.data(), 256, 128);
  Check(fp6test::Crc32(p2.data(), p2.size()) == 0xc0f1d25fu, "golden 256x128 packed CRC");
  Check(fp6test::Crc32(p2.data(), 8192) == 0x64849758u && fp6test::Crc32(p2.data() + 8192, 16384) == 0x44926ee6u,
        "golden 256x128 segment CRCs");

  // Round trip through the native closed-form reader, odd shapes (padding).
  std::mt19937 rng(7);
  const int shapes[3][2] = {{100, 150}, {64, 64}, {130, 70}};
  for (const auto& s : shapes) {
    const int rows = s[0], cols = s[1];
    std::vector<uint8_t> c(rows * cols);
    for (auto& v : c) v = static_cast<uint8_t>(rng() % 64);
    auto pk = fp6test::PackTcFpx(c.data(), rows, cols);
    const int64_t pr = fp6::TcFpxPaddedRows(rows), pc = fp6::TcFpxPaddedCols(cols);
    int bad = 0;
    for (int r = 0; r < pr; ++r)
      for (int k = 0; k < pc; ++k) {
        const uint8_t want = (r < rows && k < cols) ? c[r * cols + k] : 0;
        if (fp6::TcFpxCode(pk.data(), pr, pc, r, k) != want) ++bad;
      }
    Check(bad == 0, "round trip " + std::to_string(rows) + "x" + std::to_string(cols));

    // The kernels' register conversion, run on the host, against the closed form.
    const uint32_t* seg2 = reinterpret_cast<const uint32_t*>(pk.data());
    const uint32_t* seg4 = reinterpret_cast<const uint32_t*>(pk.data() + pr * pc / 4);
    bad = 0;
    for (int band = 0; band < pr / 64; ++band)
      for (int sl = 0; sl < pc / 16; ++sl)
        for (int lane = 0; lane < 32; ++lane) {
          uint32_t w2[2], w4[4], fr[4][4];
          for (int q = 0; q < 2; ++q) w2[q] = seg2[32 * ((band * (pc / 16) + sl) * 2 + q) + lane];
          for (int t = 0; t < 4; ++t) w4[t] = seg4[32 * ((band * (pc / 16) + sl) * 4 + t) + lane];
          fp6::cuda::DequantSlice(w2, w4, fr);
          const int g = lane / 4, q = lane % 4;
          for (int t = 0; t < 4; ++t)
            for (int v = 0; v < 8; ++v) {
              const int row = band * 64 + 16 * t + g + 8 * ((v >> 1) & 1);
              const int col = 16 * sl + 2 * q + (v & 1) + 8 * (v >> 2);
              const uint8_t code = fp6::TcFpxCode(pk.data(), pr, pc, row, col);
              const uint16_t got = static_cast<uint16_t>((fr[t][v / 2] >> (16 * (v & 1))) & 0xFFFF);
              if (got != fp6::cuda::PlacedHalfBits(code)) ++bad;
              if (fp6test::HalfToFloat(got) * 4096.0f != fp6::DecodeE3M2(code)) ++bad;
            }
        }
    Check(bad == 0, "register dequantization " + std::to_string(rows) + "x" + std::to_string(cols));
  }
}

// ---------------------------------------------------------------- GPU problems
struct Problem {
  int n = 0, k = 0;
  int64_t m = 0;
  std::vector<uint8_t> codes;     // [n][k]
  std::vector<uint16_t> scales;   // [n]
  std::vector<uint16_t> bias;     // [n] or empty
  std::vector<uint16_t> x;        // [m][k]
  std::vector<double> ref;        // [m][n] exact (double) result before FP16 rounding
  std::vector<double> absdot;     // [m][n] sum |x * w| (for tolerances)
};

void Reference(Problem& p) {
  std::vector<float> wv(static_cast<size_t>(p.n) * p.k);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = fp6::DecodeE3M2(p.codes[i]);
  std::vector<float> xv(p.x.size());
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = fp6test::HalfToFloat(p.x[i]);
  p.ref.assign(static_cast<size_t>(p.m) * p.n, 0.0);
  p.absdot.assign(p.ref.size(), 0.0);
  const int threads = std::max(1u, std::min(32u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int n = t; n < p.n; n += threads) {
        const double s = fp6test::HalfToFloat(p.scales[n]);
        const double b = p.bias.empty() ? 0.0 : fp6test::HalfToFloat(p.bias[n]);
        const float* w = &wv[static_cast<size_t>(n) * p.k];
        for (int64_t m = 0; m < p.m; ++m) {
          const float* xr = &xv[static_cast<size_t>(m) * p.k];
          double acc = 0.0, mag = 0.0;
          for (int k = 0; k < p.k; ++k) {
            const double prod = static_cast<double>(xr[k]) * w[k];
            acc += prod;
            mag += std::fabs(prod);
          }
          p.ref[m * p.n + n] = acc * s + b;
          p.absdot[m * p.n + n] = mag * s;
        }
      }
    });
  }
  for (auto& th : pool) th.join();
}

struct DeviceProblem {
  uint8_t* w = nullptr;
  uint16_t *scales = nullptr, *bias = nullptr, *x = nullptr, *y = nullptr;
  size_t y_elems = 0, guard = 4096;
  void Upload(const Problem& p) {
    auto packed = fp6test::PackTcFpx(p.codes.data(), p.n, p.k);
    CUDA_OK(cudaMalloc(&w, packed.size()));
    CUDA_OK(cudaMemcpy(w, packed.data(), packed.size(), cudaMemcpyHostToDevice));
    CUDA_OK(cudaMalloc(&scales, p.n * 2));
    CUDA_OK(cudaMemcpy(scales, p.scales.data(), p.n * 2, cudaMemcpyHostToDevice));
    if (!p.bias.empty()) {
      CUDA_OK(cudaMalloc(&bias, p.n * 2));
      CUDA_OK(cudaMemcpy(bias, p.bias.data(), p.n * 2, cudaMemcpyHostToDevice));
    }
    CUDA_OK(cudaMalloc(&x, p.x.size() * 2));
    CUDA_OK(cudaMemcpy(x, p.x.data(), p.x.size() * 2, cudaMemcpyHostToDevice));
    y_elems = static_cast<size_t>(p.m) * p.n;
    CUDA_OK(cudaMalloc(&y, (y_elems + guard) * 2));
  }
  void Free() {
    cudaFree(w);
    cudaFree(scales);
    cudaFree(bias);
    cudaFree(x);
    cudaFree(y);
  }
};

std::vector<GemmConfig> ConfigsFor(const fp6::cuda::DeviceInfo& info, const Problem& p, bool quick) {
  std::vector<GemmConfig> out;
  out.push_back(fp6::cuda::PlanGemm(info, p.m, p.n, p.k, true));
  const int tiles[3] = {8, 16, 32};
  const int bands[4] = {1, 2, 4, 8};
  int rot = static_cast<int>(p.m + p.n);
  // {warps, stages, cp.async, bands per warp}
  const int variants[8][4] = {{8, 4, 0, 1}, {4, 8, 0, 1}, {4, 6, 0, 1}, {16, 3, 0, 1},
                              {8, 4, 1, 1}, {16, 3, 1, 1}, {8, 2, 1, 2}, {4, 4, 1, 2}};
  for (int t : tiles) {
    for (int c = 1; c <= 8; c *= 2) {
      GemmConfig g;
      g.kind = KernelKind::kDecode;
      g.tile = t;
      const int* v = variants[rot % 8];
      g.warps = v[0];
      g.stages = v[1];
      g.cp_async = v[2] != 0;
      g.warp_bands = v[3];
      if (v[3] == 2 && t > 8) {  // two bands per warp beyond 8 tokens: 4 x 4 only (16 tokens), else the one-band 8 x 4
        g.warps = t == 16 ? 4 : 8;
        g.stages = 4;
        g.warp_bands = t == 16 ? 2 : 1;
      }
      g.bands = bands[(rot++) % 4];
      if (g.bands > g.warps) g.bands = 1;
      g.cluster = c;
      if (fp6::cuda::ConfigSupported(info, g, p.m, p.n, p.k, true)) out.push_back(g);
      if (quick) break;
    }
  }
  // Two bands per warp with one band per CTA (the planner's form), clusters of 1 and 2, both tiles.
  for (int t : {8, 16}) {
    for (int c : {1, 2}) {
      GemmConfig g;
      g.kind = KernelKind::kDecode;
      g.tile = t;
      const int* v = variants[t == 16 ? 7 : 6 + rot++ % 2];
      g.warps = v[0];
      g.stages = v[1];
      g.cp_async = true;
      g.warp_bands = 2;
      g.cluster = c;
      if (fp6::cuda::ConfigSupported(info, g, p.m, p.n, p.k, true)) out.push_back(g);
    }
  }
  // Staged activations: every variant at 8 and 16 tokens, clusters of 1, 2 and 4, and one, two or four bands per CTA
  // in turn.
  const int staged[5][2] = {{8, 2}, {8, 3}, {8, 4}, {4, 4}, {16, 2}};  // {warps, stages}
  for (int t : {8, 16}) {
    for (const auto& v : staged) {
      for (int c = 1; c <= 4; c *= 2) {
        GemmConfig g;
        g.kind = KernelKind::kDecode;
        g.tile = t;
        g.warps = v[0];
        g.stages = v[1];
        g.cp_async = true;
        g.stage_activations = true;
        g.bands = bands[(rot++) % 3];
        if (g.bands > g.warps) g.bands = 1;
        g.cluster = c;
        if (fp6::cuda::ConfigSupported(info, g, p.m, p.n, p.k, true)) out.push_back(g);
        if (quick) break;
      }
    }
  }
  // Flat decode splits: clusters of 1-8 with one wave of groups, a third of the bands, or a single group (every
  // band split across all warps), so that runs start and end inside bands and bands span several CTAs.
  const int nb = (p.n + 63) / 64;
  for (int t : {8, 16}) {
    for (int c : {1, 2, 3, 5, 8}) {
      GemmConfig g;
      g.kind = KernelKind::kDecode;
      g.tile = t;
      g.warps = (rot % 2) ? 16 : 8;
      g.stages = g.warps == 16 ? 3 : 4;
      g.cp_async = true;
      g.cluster = c;
      const int pick = rot++ % 3;
      g.groups = pick == 0 ? fp6::cuda::FlatGroupsPerWave(info, g) : (pick == 1 ? std::max(1, nb / 3) : 1);
      if (g.groups > nb) g.groups = nb;
      if (fp6::cuda::ConfigSupported(info, g, p.m, p.n, p.k, true)) out.push_back(g);
      if (quick && c >= 3) break;
    }
  }
  const int wt[6][3] = {{64, 1, 1}, {64, 2, 1}, {128, 1, 1}, {128, 2, 1}, {256, 1, 1}, {64, 1, 2}};
  for (const auto& tb : wt) {
    for (int c = 1; c <= 8; ++c) {  // any cluster size splits K in the wgmma kernel
      GemmConfig g;
      g.kind = KernelKind::kWgmma;
      g.tile = tb[0];
      g.bands = tb[1];
      g.ctas_per_sm = tb[2];
      g.cluster = c;
      if (fp6::cuda::ConfigSupported(info, g, p.m, p.n, p.k, true)) out.push_back(g);
      // Split clusters after whole tiles: about half the tiles whole (at least one cluster's worth), the rest split.
      const int64_t tiles = fp6::cuda::WgmmaTiles(g, p.m, p.n);
      if (c > 1 && tiles > c) {
        g.whole_tiles = static_cast<int>(std::max<int64_t>(1, tiles / (2 * c)) * c);
        if (fp6::cuda::ConfigSupported(info, g, p.m, p.n, p.k, true)) out.push_back(g);
      }
      if (quick && c >= 3) break;  // --quick (memcheck): clusters of 1-3, with and without whole tiles
    }
  }
  return out;
}

// Runs every configuration on the problem and checks it (exact: bit equality; else tolerance).
void RunAndCheck(const fp6::cuda::DeviceInfo& info, const Problem& p, bool exact, bool quick, const char* layer) {
  DeviceProblem d;
  d.Upload(p);
  std::vector<uint16_t> y(d.y_elems + d.guard);
  for (const GemmConfig& c : ConfigsFor(info, p, quick)) {
    CUDA_OK(cudaMemset(d.y, 0xFF, (d.y_elems + d.guard) * 2));  // 0xFFFF: a NaN no kernel output can be
    fp6::cuda::GemmArgs a;
    a.x = d.x;
    a.w = d.w;
    a.scales = d.scales;
    a.bias = d.bias;
    a.y = d.y;
    a.m = p.m;
    a.n = p.n;
    a.k = p.k;
    CUDA_OK(fp6::cuda::RunGemm(info, a, c, 0));
    CUDA_OK(cudaDeviceSynchronize());
    CUDA_OK(cudaMemcpy(y.data(), d.y, y.size() * 2, cudaMemcpyDeviceToHost));
    int64_t unwritten = 0, guard_hit = 0, bad = 0, nonfinite = 0;
    double err_sum = 0.0, ref_sum = 0.0, worst = 0.0;
    for (size_t i = d.y_elems; i < y.size(); ++i) guard_hit += y[i] != 0xFFFF;
    for (size_t i = 0; i < d.y_elems; ++i) {
      if (y[i] == 0xFFFF) {
        ++unwritten;
        continue;
      }
      const float got = fp6test::HalfToFloat(y[i]);
      if (!std::isfinite(got)) {
        ++nonfinite;
        continue;
      }
      const double ref = p.ref[i];
      if (exact) {
        if (y[i] != fp6test::FloatToHalf(static_cast<float>(ref))) ++bad;
      } else {
        // Per element against the exact value (brief §10.3); the aggregate against the exact value rounded to
        // FP16, so it measures the kernel rather than the output format (FP16 rounding alone is ~2e-4 relative).
        const double tol = std::ldexp(std::fabs(ref), -10) + 1e-4 * p.absdot[i] + 1e-6;
        const double err = std::fabs(got - ref);
        if (err > tol) ++bad;
        worst = std::max(worst, err / (p.absdot[i] + 1e-30));
        err_sum += std::fabs(got - fp6test::HalfToFloat(fp6test::FloatToHalf(static_cast<float>(ref))));
        ref_sum += std::fabs(ref);
      }
    }
    const double rel = ref_sum > 0 ? err_sum / ref_sum : 0.0;
    const bool ok = unwritten == 0 && guard_hit == 0 && bad == 0 && nonfinite == 0 && (exact || rel <= 1e-4);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s N=%d K=%d M=%lld %s%s: unwritten=%lld guard=%lld bad=%lld nonfinite=%lld mean_rel=%.2e "
                  "worst=%.2e",
                  layer, p.n, p.k, static_cast<long long>(p.m), fp6::cuda::DescribeConfig(c).c_str(),
                  p.bias.empty() ? "" : " +bias", static_cast<long long>(unwritten), static_cast<long long>(guard_hit),
                  static_cast<long long>(bad), static_cast<long long>(nonfinite), rel, worst);
    Check(ok, buf);
    if (std::getenv("FP6_TEST_VERBOSE") != nullptr) std::printf("%s %s\n", ok ? "ok  " : "FAIL", buf);
  }
  d.Free();
}

Problem MakeExact(int n, int k, int64_t m, uint32_t seed, bool bias) {
  std::mt19937 rng(seed);
  Problem p;
  p.n = n;
  p.k = k;
  p.m = m;
  const uint8_t exact_codes[6] = {0x00, 0x0C, 0x10, 0x20, 0x2C, 0x30};  // 0, 1, 2, -0, -1, -2
  p.codes.resize(static_cast<size_t>(n) * k);
  for (auto& c : p.codes) c = exact_codes[rng() % 6];
  p.scales.resize(n);
  for (int i = 0; i < n; ++i) p.scales[i] = fp6test::FloatToHalf(std::ldexp(1.0f, (i % 5) - 2));
  if (bias) {
    p.bias.resize(n);
    for (int i = 0; i < n; ++i) p.bias[i] = fp6test::FloatToHalf(static_cast<float>(static_cast<int>(rng() % 33) - 16) * 0.25f);
  }
  // At most 1024 non-zeros per token, a different pattern per token: every sum is an integer <= 2048.
  p.x.assign(static_cast<size_t>(m) * k, 0);
  const uint16_t one = fp6test::FloatToHalf(1.0f), minus_one = fp6test::FloatToHalf(-1.0f);
  for (int64_t t = 0; t < m; ++t) {
    const int density = 1 + static_cast<int>((t * 7 + seed) % 4);  // 1/4 .. 4/4 of the columns, capped at 1024
    int nonzero = 0;
    for (int i = 0; i < k && nonzero < 1024; ++i) {
      if (static_cast<int>(rng() % 4) < density) {
        p.x[t * k + i] = (rng() & 1) ? one : minus_one;
        ++nonzero;
      }
    }
  }
  Reference(p);
  return p;
}

Problem MakeRandom(int n, int k, int64_t m, uint32_t seed, bool heavy, bool bias) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uni(0.002f, 0.006f);
  Problem p;
  p.n = n;
  p.k = k;
  p.m = m;
  p.codes.resize(static_cast<size_t>(n) * k);
  for (auto& c : p.codes) c = static_cast<uint8_t>(rng() % 64);
  p.scales.resize(n);
  for (int i = 0; i < n; ++i) p.scales[i] = fp6test::FloatToHalf(uni(rng));
  if (bias) {
    p.bias.resize(n);
    for (int i = 0; i < n; ++i) p.bias[i] = fp6test::FloatToHalf(normal(rng));
  }
  p.x.resize(static_cast<size_t>(m) * k);
  for (auto& v : p.x) {
    float f = normal(rng);
    if (heavy && (rng() % 64) == 0) f *= 30.0f;  // occasional large activations
    v = fp6test::FloatToHalf(f);
  }
  Reference(p);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  Layer1();
  std::printf("layer 1 (packer, golden vectors, register dequantization): %d passed, %d failed\n", g_passed, g_failed);

  fp6::cuda::DeviceInfo info;
  CUDA_OK(fp6::cuda::PrepareDevice(0, &info));
  cudaDeviceProp prop;
  CUDA_OK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s, %d SMs, sm_%d%d, wgmma %s\n", prop.name, prop.multiProcessorCount, prop.major, prop.minor,
              info.has_wgmma ? "yes" : "no");

  struct Shape {
    int n, k;
    std::vector<int64_t> ms;
  };
  std::vector<Shape> shapes;
  if (quick) {
    shapes = {{128, 256, {1, 3, 33, 70}}, {200, 130, {2, 9}}, {72, 77, {1, 5}}, {320, 4160, {1, 64}}};
  } else {
    const std::vector<int64_t> all_m = {1, 2, 3, 4, 7, 8, 16, 32, 33, 64, 100, 128, 256, 300, 512, 1024};
    shapes = {
        {64, 64, all_m},
        {256, 256, all_m},
        {128, 4096, all_m},                                  // Llama-3-8B k/v at TP 8: N % 256 != 0
        {320, 4160, {1, 2, 3, 7, 8, 16, 33, 64, 100, 256, 300, 1024}},
        {1000, 1000, {1, 4, 8, 16, 32, 33, 64, 128, 300, 1024}},  // N, K not multiples of 64
        {200, 130, {1, 3, 8, 17, 64, 129}},                  // K % 8 != 0: decode path only
        {72, 77, {1, 2, 9, 40}},                             // odd K: 16-bit activation loads
        {1024, 8192, {1, 8, 16, 32, 64, 256}},               // long K: deep split-K
        {4096, 4096, {1, 7, 16, 64, 128}},
        {4096, 4100, {1, 8, 33}},                            // K % 64 == 4
    };
  }
  uint32_t seed = 1;
  for (const Shape& s : shapes) {
    for (int64_t m : s.ms) {
      const bool bias = (seed % 2) == 0;
      Problem e = MakeExact(s.n, s.k, m, seed++, bias);
      RunAndCheck(info, e, true, quick, "exact ");
      Problem r = MakeRandom(s.n, s.k, m, seed++, (seed % 3) == 0, !bias);
      RunAndCheck(info, r, false, quick, "random");
    }
    std::printf("shape %dx%d done: %d passed, %d failed so far\n", s.n, s.k, g_passed, g_failed);
    std::fflush(stdout);
  }
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}

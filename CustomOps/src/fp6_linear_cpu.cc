#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fp6/fp6_format.h"
#include "fp6/fp6_linear_cpu.h"

namespace fp6 {
namespace {

std::array<float, 64> BuildDecodeTable() {
  std::array<float, 64> table{};
  for (int code = 0; code < 64; ++code) table[code] = DecodeE3M2(static_cast<uint8_t>(code));
  return table;
}

const std::array<float, 64> kDecode = BuildDecodeTable();

// FP6_CPU_KERNEL=portable|avx2 (or SetCpuKernelLimit) limits the paths, so tests and benchmarks can run each of
// them on one machine.
std::atomic<int> g_limit{[] {
  const char* limit = std::getenv("FP6_CPU_KERNEL");
  if (limit == nullptr) return static_cast<int>(CpuKernelLimit::kBest);
  if (std::string(limit) == "portable") return static_cast<int>(CpuKernelLimit::kPortable);
  if (std::string(limit) == "avx2") return static_cast<int>(CpuKernelLimit::kAvx2);
  return static_cast<int>(CpuKernelLimit::kBest);
}()};

bool UseAvx2() {
  static const bool supported = CpuSupportsAvx2Fma();
  return supported && g_limit.load(std::memory_order_relaxed) != static_cast<int>(CpuKernelLimit::kPortable);
}

bool UseAvx512() {
  static const bool supported = CpuSupportsAvx2Fma() && CpuSupportsAvx512();
  return supported && g_limit.load(std::memory_order_relaxed) == static_cast<int>(CpuKernelLimit::kBest);
}

}  // namespace

void SetCpuKernelLimit(CpuKernelLimit limit) { g_limit.store(static_cast<int>(limit)); }

bool UsesPanelPath(int64_t m) { return m >= kPanelPathMinTokens && UseAvx512(); }

bool CpuSupportsAvx2Fma() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

void ComputeLinearColumnsPortable(const CpuLinearProblem& p, int64_t n_begin, int64_t n_end) {
  const int64_t row_bytes = RowBlock32RowBytes(p.k);
  const int64_t blocks = (p.k + 31) / 32;
  float w[32];
  for (int64_t n = n_begin; n < n_end; ++n) {
    const uint8_t* row = p.w + n * row_bytes;
    const float scale = HalfToFloat(p.scales[n]);
    const float bias = p.bias != nullptr ? p.bias[n] : 0.0f;
    for (int64_t m = 0; m < p.m; ++m) p.y[m * p.n + n] = 0.0f;
    for (int64_t b = 0; b < blocks; ++b) {
      const uint8_t* block = row + b * 24;
      for (int j = 0; j < 32; ++j) {
        const int low = j < 16 ? (block[j] & 0xF) : (block[j - 16] >> 4);
        const int high = (block[16 + (j % 8)] >> (2 * (j / 8))) & 3;
        w[j] = kDecode[high << 4 | low];
      }
      const int64_t count = std::min<int64_t>(32, p.k - b * 32);
      for (int64_t m = 0; m < p.m; ++m) {
        const float* x = p.x + m * p.k + b * 32;
        float sum = 0.0f;
        for (int64_t j = 0; j < count; ++j) sum += x[j] * w[j];
        p.y[m * p.n + n] += sum;
      }
    }
    for (int64_t m = 0; m < p.m; ++m) p.y[m * p.n + n] = p.y[m * p.n + n] * scale + bias;
  }
}

void ComputeLinearColumns(const CpuLinearProblem& p, int64_t n_begin, int64_t n_end) {
  if (p.x_padded != nullptr) {  // the op set it because it chose the panel path (UsesPanelPath)
    ComputeLinearColumnsAvx512(p, n_begin, n_end);
  } else if (UseAvx2()) {
    ComputeLinearColumnsAvx2(p, n_begin, n_end);
  } else {
    ComputeLinearColumnsPortable(p, n_begin, n_end);
  }
}

}  // namespace fp6

// The CPU Fp6Linear kernel: y[m, n] = scale[n] * sum_k x[m, k] * fp6(w[n, k]) (+ bias[n]), reading the
// rowblock32 layout and dequantizing on the fly (no float copy of the weight matrix is ever made).
#pragma once
#include <cstdint>

namespace fp6 {

struct CpuLinearProblem {
  const float* x;         // [m, k] row-major
  const uint8_t* w;       // rowblock32, n rows of k codes
  const uint16_t* scales; // [n] IEEE half bits
  const float* bias;      // [n] or nullptr
  float* y;               // [m, n] row-major
  const float* x_padded;  // x with rows padded to a multiple of 32 columns (== x when k % 32 == 0); set only when the
                          // caller chose the panel path (UsesPanelPath), null otherwise
  int64_t m;
  int64_t k;
  int64_t n;
};

// Computes output columns [n_begin, n_end) for all m rows of x. Thread-safe for disjoint column ranges.
void ComputeLinearColumns(const CpuLinearProblem& p, int64_t n_begin, int64_t n_end);

// The portable path, also used as the reference for the vectorised one.
void ComputeLinearColumnsPortable(const CpuLinearProblem& p, int64_t n_begin, int64_t n_end);

// Decodes `blocks` rowblock32 blocks of one row into floats equal to fp6 value * 2^-12 (AVX2 + F16C).
void DecodeRowAvx2(const uint8_t* row, int64_t blocks, float* out);

// AVX-512 path for several tokens: decodes 4-row panels once, then a 4-row x 3-token register-blocked dot-product
// kernel over them. Reads x through p.x_padded.
void ComputeLinearColumnsAvx512(const CpuLinearProblem& p, int64_t n_begin, int64_t n_end);
bool CpuSupportsAvx512();

// AVX2 + FMA + F16C path; only call when CpuSupportsAvx2Fma() is true.
void ComputeLinearColumnsAvx2(const CpuLinearProblem& p, int64_t n_begin, int64_t n_end);
bool CpuSupportsAvx2Fma();

// Which paths the dispatcher may use (for tests and benchmarks): all that the CPU supports, AVX2 at most, or only
// the portable one.
enum class CpuKernelLimit { kBest = 0, kPortable = 1, kAvx2 = 2 };
void SetCpuKernelLimit(CpuKernelLimit limit);

// Tokens from which the AVX-512 panel path is used.
inline constexpr int64_t kPanelPathMinTokens = 8;
bool UsesPanelPath(int64_t m);

}  // namespace fp6

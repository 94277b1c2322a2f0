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
  int64_t m;
  int64_t k;
  int64_t n;
};

// Computes output columns [n_begin, n_end) for all m rows of x. Thread-safe for disjoint column ranges.
void ComputeLinearColumns(const CpuLinearProblem& p, int64_t n_begin, int64_t n_end);

// The portable path, also used as the reference for the vectorised one.
void ComputeLinearColumnsPortable(const CpuLinearProblem& p, int64_t n_begin, int64_t n_end);

// AVX2 + FMA + F16C path; only call when CpuSupportsAvx2Fma() is true.
void ComputeLinearColumnsAvx2(const CpuLinearProblem& p, int64_t n_begin, int64_t n_end);
bool CpuSupportsAvx2Fma();

// Forces the portable path (true) or lets the AVX2 path run where supported (false); returns the previous setting.
bool SetForcePortableCpuKernel(bool force);

}  // namespace fp6

// The multi-token CPU path. With several tokens the cost that matters is multiply-adds, not decoding: a panel of
// 4 weight rows is decoded once (AVX2) into an L2-resident float buffer, and every tile of 3 tokens runs 12 dot
// products over it with 16-wide FMAs (7 loads per 12 FMAs), so decoding is paid once per panel, not per token tile.
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "fp6/fp6_format.h"
#include "fp6/fp6_linear_cpu.h"

namespace fp6 {
namespace {

constexpr int kPanelRows = 4;
constexpr float kHalfPlacementFactor = 4096.0f;

// A plain horizontal sum: GCC 12's _mm512_reduce_add_ps trips -Werror=maybe-uninitialized inside its own header.
inline float Sum16(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float sum = 0.0f;
  for (float lane : lanes) sum += lane;
  return sum;
}

template <int T>
void PanelTile(const float* panel, int64_t width, const float* const* xs, float (&out)[kPanelRows][3]) {
  __m512 acc[kPanelRows][T];
  for (int r = 0; r < kPanelRows; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  for (int64_t k = 0; k < width; k += 16) {
    __m512 x[T];
    for (int t = 0; t < T; ++t) x[t] = _mm512_loadu_ps(xs[t] + k);
    for (int r = 0; r < kPanelRows; ++r) {
      const __m512 w = _mm512_loadu_ps(panel + r * width + k);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(w, x[t], acc[r][t]);
    }
  }
  for (int r = 0; r < kPanelRows; ++r)
    for (int t = 0; t < T; ++t) out[r][t] = Sum16(acc[r][t]);
}

}  // namespace

bool CpuSupportsAvx512() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

void ComputeLinearColumnsAvx512(const CpuLinearProblem& p, const float* x_padded, int64_t n_begin, int64_t n_end) {
  // K is processed in chunks so that one chunk of every token's x (m x kChunk floats) stays in L2 while all the
  // panels of this column range pass over it; partial sums accumulate in y and are scaled at the end.
  constexpr int64_t kChunkBlocks = 64;  // 2048 columns
  const int64_t blocks = (p.k + 31) / 32;
  const int64_t k_padded = blocks * 32;
  const int64_t row_bytes = RowBlock32RowBytes(p.k);
  thread_local std::vector<float> panel;
  panel.assign(static_cast<size_t>(kPanelRows * kChunkBlocks * 32), 0.0f);
  for (int64_t b0 = 0; b0 < blocks; b0 += kChunkBlocks) {
    const int64_t chunk_blocks = blocks - b0 < kChunkBlocks ? blocks - b0 : kChunkBlocks;
    const int64_t width = chunk_blocks * 32;
    for (int64_t n0 = n_begin; n0 < n_end; n0 += kPanelRows) {
      const int rows = static_cast<int>(n_end - n0 < kPanelRows ? n_end - n0 : kPanelRows);
      for (int r = 0; r < kPanelRows; ++r) {
        float* destination = panel.data() + r * width;
        if (r < rows) {
          DecodeRowAvx2(p.w + (n0 + r) * row_bytes + b0 * 24, chunk_blocks, destination);
        } else {
          std::memset(destination, 0, static_cast<size_t>(width) * sizeof(float));
        }
      }
      for (int64_t m0 = 0; m0 < p.m; m0 += 3) {
        const int tokens = static_cast<int>(p.m - m0 < 3 ? p.m - m0 : 3);
        const float* xs[3];
        for (int t = 0; t < 3; ++t) xs[t] = x_padded + (m0 + (t < tokens ? t : 0)) * k_padded + b0 * 32;
        float out[kPanelRows][3];
        switch (tokens) {
          case 3: PanelTile<3>(panel.data(), width, xs, out); break;
          case 2: PanelTile<2>(panel.data(), width, xs, out); break;
          default: PanelTile<1>(panel.data(), width, xs, out); break;
        }
        for (int r = 0; r < rows; ++r) {
          for (int t = 0; t < tokens; ++t) {
            float& y = p.y[(m0 + t) * p.n + n0 + r];
            y = b0 == 0 ? out[r][t] : y + out[r][t];
          }
        }
      }
    }
  }
  for (int64_t n = n_begin; n < n_end; ++n) {
    const float scale = HalfToFloat(p.scales[n]) * kHalfPlacementFactor;
    const float bias = p.bias != nullptr ? p.bias[n] : 0.0f;
    for (int64_t m = 0; m < p.m; ++m) p.y[m * p.n + n] = p.y[m * p.n + n] * scale + bias;
  }
}

}  // namespace fp6

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
      __m512 w = _mm512_loadu_ps(panel + r * width + k);
      // Keep w in a register: otherwise the compiler folds the load into each of the T FMAs (T loads instead of 1),
      // and the loop becomes load-bound.
      asm("" : "+v"(w));
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

void ComputeLinearColumnsAvx512(const CpuLinearProblem& p, int64_t n_begin, int64_t n_end) {
  // Blocking, for 2 MiB of L2 and 48 KiB of L1 per core: the weights of 64 rows x 2048 columns are decoded once
  // (512 KiB), tokens go in blocks of 96 (x block 768 KiB stays in L2 across the 16 panels), and one 4-row panel
  // (32 KiB) stays in L1 across the 32 token tiles of a block. Partial sums over K accumulate in y; scale and bias
  // are applied at the end.
  constexpr int64_t kRowsPerGroup = 64;
  constexpr int64_t kChunkBlocks = 64;  // 2048 columns
  constexpr int64_t kTokenBlock = 96;
  const int64_t blocks = (p.k + 31) / 32;
  const int64_t k_padded = blocks * 32;
  const int64_t row_bytes = RowBlock32RowBytes(p.k);
  thread_local std::vector<float> decoded;
  decoded.resize(static_cast<size_t>(kRowsPerGroup * kChunkBlocks * 32));
  for (int64_t r0 = n_begin; r0 < n_end; r0 += kRowsPerGroup) {
    const int64_t rows = n_end - r0 < kRowsPerGroup ? n_end - r0 : kRowsPerGroup;
    const int64_t panels = (rows + kPanelRows - 1) / kPanelRows;
    for (int64_t b0 = 0; b0 < blocks; b0 += kChunkBlocks) {
      const int64_t chunk_blocks = blocks - b0 < kChunkBlocks ? blocks - b0 : kChunkBlocks;
      const int64_t width = chunk_blocks * 32;
      for (int64_t r = 0; r < panels * kPanelRows; ++r) {
        float* destination = decoded.data() + r * width;
        if (r < rows) {
          DecodeRowAvx2(p.w + (r0 + r) * row_bytes + b0 * 24, chunk_blocks, destination);
        } else {
          std::memset(destination, 0, static_cast<size_t>(width) * sizeof(float));
        }
      }
      for (int64_t mb = 0; mb < p.m; mb += kTokenBlock) {
        const int64_t m_end = p.m - mb < kTokenBlock ? p.m : mb + kTokenBlock;
        for (int64_t panel = 0; panel < panels; ++panel) {
          const float* weights = decoded.data() + panel * kPanelRows * width;
          const int64_t n0 = r0 + panel * kPanelRows;
          const int live = static_cast<int>(rows - panel * kPanelRows < kPanelRows ? rows - panel * kPanelRows : kPanelRows);
          for (int64_t m0 = mb; m0 < m_end; m0 += 3) {
            const int tokens = static_cast<int>(m_end - m0 < 3 ? m_end - m0 : 3);
            const float* xs[3];
            for (int t = 0; t < 3; ++t) xs[t] = p.x_padded + (m0 + (t < tokens ? t : 0)) * k_padded + b0 * 32;
            float out[kPanelRows][3];
            switch (tokens) {
              case 3: PanelTile<3>(weights, width, xs, out); break;
              case 2: PanelTile<2>(weights, width, xs, out); break;
              default: PanelTile<1>(weights, width, xs, out); break;
            }
            for (int r = 0; r < live; ++r) {
              for (int t = 0; t < tokens; ++t) {
                float& y = p.y[(m0 + t) * p.n + n0 + r];
                y = b0 == 0 ? out[r][t] : y + out[r][t];
              }
            }
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

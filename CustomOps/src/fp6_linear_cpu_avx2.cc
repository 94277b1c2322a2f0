// AVX2/FMA/F16C Fp6Linear. One rowblock32 block (32 weights, 24 bytes) is turned into 32 floats with a handful
// of integer ops: the nibbles and the 2-bit pieces are spread to one byte per weight, a byte shuffle moves the sign
// and top exponent bit into place, and the resulting byte is the high byte of an IEEE half whose value is exactly
// fp6 * 2^-12 (normals and subnormals alike). vcvtph2ps turns those into floats; the 2^12 and the row scale are
// applied once per output, after the dot product.
#include <immintrin.h>

#include <cstring>

#include "fp6/fp6_format.h"
#include "fp6/fp6_linear_cpu.h"

namespace fp6 {
namespace {

constexpr float kHalfPlacementFactor = 4096.0f;  // undoes the 2^-12 of the half bit placement

struct DecodedBlock {
  __m256 w0_7, w8_15, w16_23, w24_31;
};

inline DecodedBlock DecodeBlock(const uint8_t* block) {
  const __m128i nibbles = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
  const __m128i low4 = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_and_si128(nibbles, low4);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(nibbles, 4), low4);
  const __m256i low_pieces = _mm256_set_m128i(hi, lo);  // byte i = code_i & 0xF

  uint64_t packed_top;
  std::memcpy(&packed_top, block + 16, 8);
  __m256i top = _mm256_srlv_epi64(_mm256_set1_epi64x(static_cast<long long>(packed_top)), _mm256_set_epi64x(6, 4, 2, 0));
  top = _mm256_and_si256(top, _mm256_set1_epi8(0x03));  // byte i = code_i >> 4 = (sign, E2)
  // (sign, E2) -> sign at bit 7 and E2 at bit 4 of the half's high byte.
  const __m256i place = _mm256_setr_epi8(0x00, 0x10, static_cast<char>(0x80), static_cast<char>(0x90), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                         0, 0, 0x00, 0x10, static_cast<char>(0x80), static_cast<char>(0x90), 0, 0, 0, 0, 0, 0, 0, 0,
                                         0, 0, 0, 0);
  const __m256i high_bytes = _mm256_or_si256(_mm256_shuffle_epi8(place, top), low_pieces);

  const __m256i zero = _mm256_setzero_si256();
  const __m256i halves_a = _mm256_unpacklo_epi8(zero, high_bytes);  // weights 0..7 | 16..23
  const __m256i halves_b = _mm256_unpackhi_epi8(zero, high_bytes);  // weights 8..15 | 24..31
  DecodedBlock d;
  d.w0_7 = _mm256_cvtph_ps(_mm256_castsi256_si128(halves_a));
  d.w16_23 = _mm256_cvtph_ps(_mm256_extracti128_si256(halves_a, 1));
  d.w8_15 = _mm256_cvtph_ps(_mm256_castsi256_si128(halves_b));
  d.w24_31 = _mm256_cvtph_ps(_mm256_extracti128_si256(halves_b, 1));
  return d;
}

inline __m256 MultiplyAdd(const DecodedBlock& d, const float* x, __m256 acc) {
  acc = _mm256_fmadd_ps(d.w0_7, _mm256_loadu_ps(x), acc);
  acc = _mm256_fmadd_ps(d.w8_15, _mm256_loadu_ps(x + 8), acc);
  acc = _mm256_fmadd_ps(d.w16_23, _mm256_loadu_ps(x + 16), acc);
  acc = _mm256_fmadd_ps(d.w24_31, _mm256_loadu_ps(x + 24), acc);
  return acc;
}

inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// R weight rows times TT tokens over the whole of K. x_tail holds each token's last, partial block zero-padded.
template <int R, int TT>
void Tile(const CpuLinearProblem& p, int64_t n0, int64_t m0, const float (*x_tail)[32]) {
  const int64_t row_bytes = RowBlock32RowBytes(p.k);
  const int64_t full_blocks = p.k / 32;
  const bool has_tail = p.k % 32 != 0;
  __m256 acc[R][TT];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < TT; ++t) acc[r][t] = _mm256_setzero_ps();
  const uint8_t* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = p.w + (n0 + r) * row_bytes;
  const float* xs[TT];
  for (int t = 0; t < TT; ++t) xs[t] = p.x + (m0 + t) * p.k;

  for (int64_t b = 0; b < full_blocks; ++b) {
    for (int r = 0; r < R; ++r) {
      const DecodedBlock d = DecodeBlock(rows[r] + b * 24);
      for (int t = 0; t < TT; ++t) acc[r][t] = MultiplyAdd(d, xs[t] + b * 32, acc[r][t]);
    }
  }
  if (has_tail) {
    for (int r = 0; r < R; ++r) {
      const DecodedBlock d = DecodeBlock(rows[r] + full_blocks * 24);
      for (int t = 0; t < TT; ++t) acc[r][t] = MultiplyAdd(d, x_tail[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    const int64_t n = n0 + r;
    const float scale = _cvtsh_ss(p.scales[n]) * kHalfPlacementFactor;
    const float bias = p.bias != nullptr ? p.bias[n] : 0.0f;
    for (int t = 0; t < TT; ++t) p.y[(m0 + t) * p.n + n] = HorizontalSum(acc[r][t]) * scale + bias;
  }
}

// Columns [n_begin, n_end) for tokens [m0, m0 + TT): R rows at a time, then one at a time for the rest.
template <int R, int TT>
void TokenTile(const CpuLinearProblem& p, int64_t n_begin, int64_t n_end, int64_t m0, const float (*x_tail)[32]) {
  int64_t n = n_begin;
  for (; n + R <= n_end; n += R) Tile<R, TT>(p, n, m0, x_tail);
  for (; n < n_end; ++n) Tile<1, TT>(p, n, m0, x_tail);
}

}  // namespace

void DecodeRowAvx2(const uint8_t* row, int64_t blocks, float* out) {
  for (int64_t b = 0; b < blocks; ++b) {
    const DecodedBlock d = DecodeBlock(row + b * 24);
    _mm256_storeu_ps(out + b * 32, d.w0_7);
    _mm256_storeu_ps(out + b * 32 + 8, d.w8_15);
    _mm256_storeu_ps(out + b * 32 + 16, d.w16_23);
    _mm256_storeu_ps(out + b * 32 + 24, d.w24_31);
  }
}

void ComputeLinearColumnsAvx2(const CpuLinearProblem& p, int64_t n_begin, int64_t n_end) {
  const int64_t tail = p.k % 32;
  alignas(32) float x_tail[4][32];
  int64_t m0 = 0;
  while (m0 < p.m) {
    const int64_t tt = p.m - m0 >= 4 ? 4 : p.m - m0;
    if (tail != 0) {
      for (int64_t t = 0; t < tt; ++t) {
        std::memset(x_tail[t], 0, sizeof(x_tail[t]));
        std::memcpy(x_tail[t], p.x + (m0 + t) * p.k + (p.k - tail), static_cast<size_t>(tail) * sizeof(float));
      }
    }
    switch (tt) {
      case 4: TokenTile<2, 4>(p, n_begin, n_end, m0, x_tail); break;
      case 3: TokenTile<2, 3>(p, n_begin, n_end, m0, x_tail); break;
      case 2: TokenTile<4, 2>(p, n_begin, n_end, m0, x_tail); break;
      default: TokenTile<4, 1>(p, n_begin, n_end, m0, x_tail); break;
    }
    m0 += tt;
  }
}

}  // namespace fp6

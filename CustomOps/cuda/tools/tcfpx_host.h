// Host-side helpers for the CUDA tests and benchmark: a tcfpx packer written from the closed form of
// docs/fp6-format.md (the inverse of fp6::TcFpxCode), CRC-32, and FP16 conversions.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fp6/fp6_format.h"

namespace fp6test {

// Packs codes[rows][cols] (row-major, low 6 bits used) into a tcfpx buffer of the zero-padded matrix.
inline std::vector<uint8_t> PackTcFpx(const uint8_t* codes, int64_t rows, int64_t cols) {
  const int64_t pr = fp6::TcFpxPaddedRows(rows), pc = fp6::TcFpxPaddedCols(cols);
  std::vector<uint8_t> out(static_cast<size_t>(fp6::TcFpxBytes(rows, cols)), 0);
  uint8_t* seg2 = out.data();
  uint8_t* seg4 = out.data() + pr * pc / 4;
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t col = 0; col < cols; ++col) {
      const uint32_t c = codes[row * cols + col] & 0x3F;
      const int64_t band = row / 64, r = row % 64, t = r / 16, hi = (r % 16) / 8, g = r % 8;
      const int64_t s = col / 16, kh = (col % 16) / 8, q = (col % 8) / 2, odd = col % 2;
      const int64_t lane = 4 * g + q, v = 4 * kh + 2 * hi + odd;
      const int64_t j4 = (band * (pc / 16) + s) * 4 + t;
      const int64_t slot4 = 4 * (1 - v % 2) + 2 * ((v / 2) % 2) + v / 4;
      uint32_t word;
      std::memcpy(&word, seg4 + (32 * j4 + lane) * 4, 4);
      word |= (c & 0xF) << (28 - 4 * slot4);
      std::memcpy(seg4 + (32 * j4 + lane) * 4, &word, 4);
      const int64_t j2 = (band * (pc / 16) + s) * 2 + t / 2;
      const int64_t slot2 = 8 * (1 - v % 2) + 4 * ((v / 2) % 2) + 2 * (t % 2) + v / 4;
      std::memcpy(&word, seg2 + (32 * j2 + lane) * 4, 4);
      word |= (c >> 4) << (30 - 2 * slot2);
      std::memcpy(seg2 + (32 * j2 + lane) * 4, &word, 4);
    }
  }
  return out;
}

inline uint32_t Crc32(const uint8_t* data, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int b = 0; b < 8; ++b) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// Round-to-nearest-even float -> IEEE half bits (handles subnormals, overflow to inf).
inline uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t absx = x & 0x7FFFFFFFu;
  if (absx >= 0x7F800000u) return static_cast<uint16_t>(sign | (absx > 0x7F800000u ? 0x7E00u : 0x7C00u));
  if (absx >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // rounds to >= 65520: inf
  if (absx < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    float a;
    std::memcpy(&a, &absx, 4);
    const float scaled = a * 16777216.0f;  // a / 2^-24, exact
    const uint32_t m = static_cast<uint32_t>(std::nearbyint(scaled));  // FE_TONEAREST by default
    return static_cast<uint16_t>(sign | m);
  }
  const uint32_t exp = ((absx >> 23) - 112) << 10;
  const uint32_t mant = absx & 0x7FFFFFu;
  uint32_t h = exp | (mant >> 13);
  const uint32_t rest = mant & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

inline float HalfToFloat(uint16_t h) { return fp6::HalfToFloat(h); }

}  // namespace fp6test

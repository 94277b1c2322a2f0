#include "fp6/fp6_format.h"

#include <cstring>

namespace fp6 {

float DecodeE3M2(uint8_t code) {
  const int sign = (code >> 5) & 1;
  const int exponent = (code >> 2) & 7;
  const int mantissa = code & 3;
  // Subnormals (E = 0) are multiples of 1/16; normals are 2^(E-3) * (1 + M/4).
  float magnitude = exponent == 0 ? static_cast<float>(mantissa) * 0.0625f
                                  : static_cast<float>(4 + mantissa) * static_cast<float>(1 << exponent) / 32.0f;
  return sign ? -magnitude : magnitude;
}

int64_t RowBlock32RowBytes(int64_t cols) { return (cols + 31) / 32 * 24; }

int64_t RowBlock32Bytes(int64_t rows, int64_t cols) { return rows * RowBlock32RowBytes(cols); }

uint8_t RowBlock32Code(const uint8_t* packed, int64_t cols, int64_t row, int64_t col) {
  const uint8_t* block = packed + row * RowBlock32RowBytes(cols) + (col / 32) * 24;
  const int w = static_cast<int>(col % 32);
  const int low = w < 16 ? (block[w] & 0xF) : (block[w - 16] >> 4);
  const int high = (block[16 + (w % 8)] >> (2 * (w / 8))) & 3;
  return static_cast<uint8_t>(high << 4 | low);
}

int64_t TcFpxPaddedRows(int64_t rows) { return (rows + 63) / 64 * 64; }
int64_t TcFpxPaddedCols(int64_t cols) { return (cols + 63) / 64 * 64; }
int64_t TcFpxBytes(int64_t rows, int64_t cols) { return TcFpxPaddedRows(rows) * TcFpxPaddedCols(cols) * 3 / 4; }

uint8_t TcFpxCode(const uint8_t* packed, int64_t padded_rows, int64_t padded_cols, int64_t row, int64_t col) {
  // Closed form of the FP6-LLM layout (docs/fp6-format.md): which 32-bit word and which field hold each piece.
  const int64_t band = row / 64;
  const int64_t r = row % 64;
  const int64_t t = r / 16, hi = (r % 16) / 8, g = r % 8;
  const int64_t s = col / 16, kh = (col % 16) / 8, q = (col % 8) / 2, odd = col % 2;
  const int64_t lane = 4 * g + q;
  const int64_t v = 4 * kh + 2 * hi + odd;
  const int64_t slices_per_band = padded_cols / 16;
  const uint8_t* seg2 = packed;
  const uint8_t* seg4 = packed + padded_rows * padded_cols / 4;

  const int64_t j4 = (band * slices_per_band + s) * 4 + t;
  uint32_t word4;
  std::memcpy(&word4, seg4 + (32 * j4 + lane) * 4, 4);
  const int64_t slot4 = 4 * (1 - v % 2) + 2 * ((v / 2) % 2) + v / 4;
  const uint32_t nibble = (word4 >> (28 - 4 * slot4)) & 0xF;

  const int64_t j2 = (band * slices_per_band + s) * 2 + t / 2;
  uint32_t word2;
  std::memcpy(&word2, seg2 + (32 * j2 + lane) * 4, 4);
  const int64_t slot2 = 8 * (1 - v % 2) + 4 * ((v / 2) % 2) + 2 * (t % 2) + v / 4;
  const uint32_t top = (word2 >> (30 - 2 * slot2)) & 0x3;
  return static_cast<uint8_t>(top << 4 | nibble);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1F;
  uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // Subnormal half: normalise into a float.
    exponent = 113;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

}  // namespace fp6

// FP6 e3m2 codes and the packed weight layouts the kernels read. The C# packers in Fp6.Runtime write these
// layouts; the functions here are the native readers the tests cross-check against (docs/fp6-format.md).
#pragma once
#include <cstddef>
#include <cstdint>

namespace fp6 {

// Layout names, as they appear in the Fp6Linear `layout` attribute.
inline constexpr const char* kLayoutRowBlock32 = "rowblock32";  // CPU kernel
inline constexpr const char* kLayoutTcFpx = "tcfpx";            // Tensor Core kernel (FP6-LLM prepacking)

// e3m2, exponent bias 3, no inf/NaN: the exact value of a 6-bit code (bits above bit 5 are ignored).
float DecodeE3M2(uint8_t code);

// rowblock32: each row of K codes is cut into blocks of 32 (the last one zero-padded); a block is 24 bytes:
//   bytes 0..15: byte j holds the low nibble (code & 0xF) of weight j in bits 0..3 and of weight 16+j in bits 4..7;
//   bytes 16..23: byte j holds the top two bits (code >> 4) of weight 8i+j in bits 2i..2i+1, for i = 0..3.
// Rows follow each other with no gap.
int64_t RowBlock32RowBytes(int64_t cols);
int64_t RowBlock32Bytes(int64_t rows, int64_t cols);
uint8_t RowBlock32Code(const uint8_t* packed, int64_t cols, int64_t row, int64_t col);

// tcfpx: the FP6-LLM ahead-of-time prepacking (2-bit segment, then 4-bit segment) of the matrix zero-padded to
// rows and cols that are multiples of 64. Padded sizes and byte count:
int64_t TcFpxPaddedRows(int64_t rows);
int64_t TcFpxPaddedCols(int64_t cols);
int64_t TcFpxBytes(int64_t rows, int64_t cols);
// The code of weight (row, col) of a tcfpx buffer whose padded shape is padded_rows x padded_cols.
uint8_t TcFpxCode(const uint8_t* packed, int64_t padded_rows, int64_t padded_cols, int64_t row, int64_t col);

// IEEE half <-> float, portable (no F16C needed).
float HalfToFloat(uint16_t h);

}  // namespace fp6

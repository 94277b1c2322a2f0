// Register-level FP6 (e3m2) -> FP16 conversion for the tcfpx layout, shared by every CUDA kernel here and compiled
// for the host too, so the tests can check the bit tricks against the closed-form reader without a GPU.
//
// What a lane holds, per 64-row band and 16-wide k-slice (docs/fp6-format.md, fp6-kernel.md §4):
//   two 2-bit words  w2[p]  (p = 0, 1): the (S, E2) pairs of blocks 2p ("A") and 2p+1 ("B"),
//   four 4-bit words w4[t]  (t = 0..3): the (E1 E0 M1 M0) nibbles of block t.
// The output of one block is the m16n8k16 A fragment: four half2 registers {v0,v1} {v2,v3} {v4,v5} {v6,v7}, each
// FP16 holding the code bit-placed as  S 0 0 E2 E1 E0 M1 M0 0000 0000  = value * 2^-12 (exact for subnormals too);
// the kernels multiply the FP32 accumulator by scale * 2^12 in the epilogue.
//
// The trick (see docs/cuda-kernel.md for the derivation): from each 2-bit word build two helper words in which every
// field's sign sits exactly 3 bits above its E2 bit, the distance they need in an FP16 (bit 15 vs bit 12):
//   xlo: sign of the field at bits (p+1, p) moved to p+3, E2 kept at p      (valid for fields p <= 28)
//   xhi: sign kept at p+1, E2 moved to p-2                                   (valid for fields p >= 2)
// One bit-select of a helper word with the 4-bit word (or the 4-bit word >> 4) then lines up sign, E2 and the
// nibble of two half2 registers at once; a mask (and a shift by 8 for the second one) finishes each register.
// Cost: 6 operations per 2-bit word + 9 per block = 1.5 integer operations per weight.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define FP6_HD __host__ __device__ __forceinline__
#else
#define FP6_HD inline
#endif

namespace fp6 {
namespace cuda {

constexpr uint32_t kSignE2Select = 0x90909090u;  // bits a bit-select takes from the helper word
constexpr uint32_t kHalf2Keep = 0x9F009F00u;     // S, E2..M0 of both halves

// One LOP3 on the GPU. Written in C++, NVVM rewrites ~mask using the known-zero bits of a shifted operand (e.g. w4 >> 4)
// and then needs two LOP3s, each with its own immediate (seen in the SASS: ~12 instead of 9 operations per block).
template <uint32_t kMask>
FP6_HD uint32_t BitSelect(uint32_t from_a, uint32_t from_b) {
#if defined(__CUDA_ARCH__)
  uint32_t r;
  asm("lop3.b32 %0, %1, %2, %3, 0xE2;" : "=r"(r) : "r"(from_a), "n"(kMask), "r"(from_b));  // (a & m) | (b & ~m)
  return r;
#else
  return (from_a & kMask) | (from_b & ~kMask);
#endif
}

// The two helper words of a 2-bit word.
FP6_HD void SpreadSignE2(uint32_t w2, uint32_t& xlo, uint32_t& xhi) {
  xlo = BitSelect<0xAAAAAAAAu>(w2 << 2, w2);
  xhi = BitSelect<0xAAAAAAAAu>(w2, w2 >> 2);
}

// One 16x16 block. For block A pass (xlo, xhi); for block B pass (xlo << 4, xhi << 4).
FP6_HD void DequantBlock(uint32_t xlo, uint32_t xhi, uint32_t w4, uint32_t frag[4]) {
  const uint32_t z_even = BitSelect<kSignE2Select>(xhi, w4 >> 4);  // v0 v1 in place, v2 v3 one byte lower
  const uint32_t z_odd = BitSelect<kSignE2Select>(xlo, w4);        // v4 v5 in place, v6 v7 one byte lower
  frag[0] = z_even & kHalf2Keep;
  frag[1] = (z_even << 8) & kHalf2Keep;
  frag[2] = z_odd & kHalf2Keep;
  frag[3] = (z_odd << 8) & kHalf2Keep;
}

// All four blocks of one lane's k-slice (the decode kernel: one warp owns a whole band).
FP6_HD void DequantSlice(const uint32_t w2[2], const uint32_t w4[4], uint32_t frag[4][4]) {
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int p = 0; p < 2; ++p) {
    uint32_t xlo, xhi;
    SpreadSignE2(w2[p], xlo, xhi);
    DequantBlock(xlo, xhi, w4[2 * p], frag[2 * p]);
    DequantBlock(xlo << 4, xhi << 4, w4[2 * p + 1], frag[2 * p + 1]);
  }
}

// The FP16 bits the kernels feed to the tensor cores for a code (value * 2^-12).
FP6_HD uint16_t PlacedHalfBits(uint32_t code) {
  return static_cast<uint16_t>(((code >> 5) & 1u) << 15 | (code & 0x1Fu) << 8);
}

}  // namespace cuda
}  // namespace fp6

#include "fp6/paged_attention_cpu.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace fp6 {
namespace {

struct TokenPlace {
  int64_t sequence;
  int64_t position;  // absolute position of the token in its sequence
};

TokenPlace Place(const PagedAttentionProblem& p, int64_t t) {
  const int64_t b = OwnerOfToken(p.cumulative_sequence_length, p.batch, t);
  return {b, p.past_seqlens[b] + t - p.cumulative_sequence_length[b]};
}

// The cache slot of a position, or -1 when its block is not mapped.
int64_t Slot(const PagedAttentionProblem& p, int64_t sequence, int64_t position) {
  const int64_t block = position / p.block_size;
  if (block >= p.max_blocks_per_sequence) return -1;
  const int32_t id = p.block_table[sequence * p.max_blocks_per_sequence + block];
  if (id < 0 || id >= p.num_blocks) return -1;
  return static_cast<int64_t>(id) * p.block_size + position % p.block_size;
}

// Rotary embedding over the first rotary_dim channels, half-split (NeoX) or interleaved pairs.
void Rotate(const PagedAttentionAttributes& a, const PagedAttentionProblem& p, float* x, int64_t position) {
  const int64_t half = p.rotary_dim / 2;
  const float* cos = p.cos_cache + position * half;
  const float* sin = p.sin_cache + position * half;
  for (int64_t i = 0; i < half; ++i) {
    const int64_t i0 = a.rotary_interleaved ? 2 * i : i;
    const int64_t i1 = a.rotary_interleaved ? 2 * i + 1 : i + half;
    const float x0 = x[i0], x1 = x[i1];
    x[i0] = x0 * cos[i] - x1 * sin[i];
    x[i1] = x1 * cos[i] + x0 * sin[i];
  }
}


}  // namespace

int64_t OwnerOfToken(const int32_t* cu, int64_t batch, int64_t token) {
  // upper_bound over cu[1..B]: sequences with zero new tokens are skipped.
  const int32_t* first = cu + 1;
  const int32_t* it = std::upper_bound(first, first + batch, static_cast<int32_t>(token));
  return it - first;
}

void PagedAttentionWriteCache(const PagedAttentionAttributes& a, const PagedAttentionProblem& p, float* rotated_query,
                              int64_t token_begin, int64_t token_end) {
  const int64_t n = a.num_heads, hk = a.kv_num_heads, d = p.head_size;
  const bool packed = p.key == nullptr;
  const int64_t q_stride = packed ? (n + 2 * hk) * d : n * d;
  std::vector<float> k_row(static_cast<size_t>(d));
  for (int64_t t = token_begin; t < token_end; ++t) {
    const TokenPlace place = Place(p, t);
    const float* q_in = p.query + t * q_stride;
    const float* k_in = packed ? q_in + n * d : p.key + t * hk * d;
    const float* v_in = packed ? q_in + (n + hk) * d : p.value + t * hk * d;
    float* q_out = rotated_query + t * n * d;
    std::memcpy(q_out, q_in, static_cast<size_t>(n * d) * sizeof(float));
    if (a.do_rotary) {
      for (int64_t h = 0; h < n; ++h) Rotate(a, p, q_out + h * d, place.position);
    }
    const int64_t slot = Slot(p, place.sequence, place.position);
    if (slot < 0) continue;
    for (int64_t g = 0; g < hk; ++g) {
      std::memcpy(k_row.data(), k_in + g * d, static_cast<size_t>(d) * sizeof(float));
      if (a.do_rotary) Rotate(a, p, k_row.data(), place.position);
      std::memcpy(p.key_cache + (slot * hk + g) * d, k_row.data(), static_cast<size_t>(d) * sizeof(float));
      std::memcpy(p.value_cache + (slot * hk + g) * d, v_in + g * d, static_cast<size_t>(d) * sizeof(float));
    }
  }
}

// The attention loop for a head size known at compile time (kHeadSize > 0: the dot products and the value
// accumulator stay in registers) or at run time (kHeadSize == 0).
template <int kHeadSize>
inline void AttendUnits(const PagedAttentionAttributes& a, const PagedAttentionProblem& p, const float* rotated_query,
                        int64_t unit_begin, int64_t unit_end) {
  const int64_t n = a.num_heads, hk = a.kv_num_heads;
  const int64_t d = kHeadSize > 0 ? kHeadSize : p.head_size;
  const int64_t group = n / hk;
  const float scale = a.scale != 0.0f ? a.scale : 1.0f / std::sqrt(static_cast<float>(d));
  std::vector<float> accumulator(static_cast<size_t>(d));
  std::vector<float> logits;
  std::vector<int64_t> slots;
  for (int64_t unit = unit_begin; unit < unit_end; ++unit) {
    const int64_t t = unit / n, h = unit % n;
    const TokenPlace place = Place(p, t);
    const int64_t first = a.local_window_size > 0 ? std::max<int64_t>(0, place.position - a.local_window_size + 1) : 0;
    const float* q = rotated_query + (t * n + h) * d;
    const int64_t g = h / group;
    // Two passes: all logits (and their cache rows) first, then one vectorised exp over them and the weighted sum of
    // values. Unmapped positions are masked.
    logits.clear();
    slots.clear();
    float running_max = -std::numeric_limits<float>::infinity();
    // Walk the block table block by block (no division per key): positions [first, position] of this sequence.
    const int32_t* table = p.block_table + place.sequence * p.max_blocks_per_sequence;
    const int64_t last_block = std::min<int64_t>(place.position / p.block_size, p.max_blocks_per_sequence - 1);
    for (int64_t block = first / p.block_size; block <= last_block; ++block) {
      const int32_t id = table[block];
      if (id < 0 || id >= p.num_blocks) continue;  // unmapped positions are masked
      const int64_t begin = std::max(first, block * p.block_size);
      const int64_t end = std::min(place.position + 1, (block + 1) * p.block_size);
      for (int64_t j = begin; j < end; ++j) {
        const int64_t slot = static_cast<int64_t>(id) * p.block_size + (j - block * p.block_size);
        const float* key = p.key_cache + (slot * hk + g) * d;
        float z = 0.0f;
#pragma omp simd reduction(+ : z)
        for (int64_t c = 0; c < d; ++c) z += q[c] * key[c];
        z *= scale;
        if (a.softcap > 0.0f) z = a.softcap * std::tanh(z / a.softcap);
        logits.push_back(z);
        slots.push_back(slot);
        running_max = std::max(running_max, z);
      }
    }
    const int64_t count = static_cast<int64_t>(logits.size());
    float* weights = logits.data();
    float denominator = 0.0f;
    // exp(x) for x <= 0, branch-free so the loop vectorises: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6
    // Taylor polynomial (relative error < 2e-7 there), 2^n built in the exponent field; n is rounded to nearest with
    // the 1.5 * 2^23 trick.
#pragma omp simd reduction(+ : denominator)
    for (int64_t i = 0; i < count; ++i) {
      float x = weights[i] - running_max;
      x = x < -87.0f ? -87.0f : x;
      const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
      const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
      float poly = 1.0f / 720.0f;
      poly = poly * r + 1.0f / 120.0f;
      poly = poly * r + 1.0f / 24.0f;
      poly = poly * r + 1.0f / 6.0f;
      poly = poly * r + 0.5f;
      poly = poly * r + 1.0f;
      poly = poly * r + 1.0f;
      const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
      float two_n;
      __builtin_memcpy(&two_n, &bits, 4);
      weights[i] = poly * two_n;
      denominator += weights[i];
    }
    float* out = p.output + (t * n + h) * d;
    const float inverse = denominator > 0.0f ? 1.0f / denominator : 0.0f;
    if constexpr (kHeadSize > 0) {
      float acc[kHeadSize] = {};
      for (int64_t i = 0; i < count; ++i) {
        const float* v = p.value_cache + (slots[i] * hk + g) * d;
        const float weight = weights[i];
#pragma omp simd
        for (int c = 0; c < kHeadSize; ++c) acc[c] += weight * v[c];
      }
      for (int c = 0; c < kHeadSize; ++c) out[c] = acc[c] * inverse;
    } else {
      std::fill(accumulator.begin(), accumulator.end(), 0.0f);
      for (int64_t i = 0; i < count; ++i) {
        const float* v = p.value_cache + (slots[i] * hk + g) * d;
        const float weight = weights[i];
#pragma omp simd
        for (int64_t c = 0; c < d; ++c) accumulator[c] += weight * v[c];
      }
      for (int64_t c = 0; c < d; ++c) out[c] = accumulator[c] * inverse;
    }
  }
}

// Compiled for AVX-512, AVX2 and baseline x86-64; the loader picks the widest the CPU has.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void PagedAttentionAttend(const PagedAttentionAttributes& a, const PagedAttentionProblem& p, const float* rotated_query,
                          int64_t unit_begin, int64_t unit_end) {
  switch (p.head_size) {
    case 64: AttendUnits<64>(a, p, rotated_query, unit_begin, unit_end); break;
    case 128: AttendUnits<128>(a, p, rotated_query, unit_begin, unit_end); break;
    default: AttendUnits<0>(a, p, rotated_query, unit_begin, unit_end); break;
  }
}

}  // namespace fp6

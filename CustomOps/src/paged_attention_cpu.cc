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

float Dot(const float* a, const float* b, int64_t n) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
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

void PagedAttentionAttend(const PagedAttentionAttributes& a, const PagedAttentionProblem& p, const float* rotated_query,
                          int64_t unit_begin, int64_t unit_end) {
  const int64_t n = a.num_heads, hk = a.kv_num_heads, d = p.head_size;
  const int64_t group = n / hk;
  const float scale = a.scale != 0.0f ? a.scale : 1.0f / std::sqrt(static_cast<float>(d));
  std::vector<float> accumulator(static_cast<size_t>(d));
  for (int64_t unit = unit_begin; unit < unit_end; ++unit) {
    const int64_t t = unit / n, h = unit % n;
    const TokenPlace place = Place(p, t);
    const int64_t first = a.local_window_size > 0 ? std::max<int64_t>(0, place.position - a.local_window_size + 1) : 0;
    const float* q = rotated_query + (t * n + h) * d;
    const int64_t g = h / group;
    // Online softmax: one pass over the keys, rescaling the running sum when a larger logit appears.
    float running_max = -std::numeric_limits<float>::infinity();
    float denominator = 0.0f;
    std::fill(accumulator.begin(), accumulator.end(), 0.0f);
    for (int64_t j = first; j <= place.position; ++j) {
      const int64_t slot = Slot(p, place.sequence, j);
      if (slot < 0) continue;  // unmapped positions are masked
      float z = Dot(q, p.key_cache + (slot * hk + g) * d, d) * scale;
      if (a.softcap > 0.0f) z = a.softcap * std::tanh(z / a.softcap);
      if (z > running_max) {
        const float correction = std::exp(running_max - z);
        denominator *= correction;
        for (int64_t c = 0; c < d; ++c) accumulator[c] *= correction;
        running_max = z;
      }
      const float weight = std::exp(z - running_max);
      denominator += weight;
      const float* v = p.value_cache + (slot * hk + g) * d;
#pragma omp simd
      for (int64_t c = 0; c < d; ++c) accumulator[c] += weight * v[c];
    }
    float* out = p.output + (t * n + h) * d;
    const float inverse = denominator > 0.0f ? 1.0f / denominator : 0.0f;
    for (int64_t c = 0; c < d; ++c) out[c] = accumulator[c] * inverse;
  }
}

}  // namespace fp6

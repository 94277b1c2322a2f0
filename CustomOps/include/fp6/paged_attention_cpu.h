// fp6llm.PagedAttention on the CPU: the com.microsoft.PagedAttention contract (ONNX Runtime has no CPU kernel for it),
// float32, for the CPU target's ragged, paged graph. See docs/architecture.md.
#pragma once
#include <cstdint>

namespace fp6 {

struct PagedAttentionAttributes {
  int64_t num_heads = 0;
  int64_t kv_num_heads = 0;
  float scale = 0.0f;  // 0: 1/sqrt(head_size)
  float softcap = 0.0f;
  int64_t local_window_size = -1;
  bool do_rotary = false;
  bool rotary_interleaved = false;
};

struct PagedAttentionProblem {
  const float* query;  // [T, N*D], or packed [T, (N+2Hk)*D] when key == nullptr
  const float* key;    // [T, Hk*D] or nullptr
  const float* value;  // [T, Hk*D] or nullptr
  float* key_cache;    // [blocks, block_size, Hk, D], written in place
  float* value_cache;
  const int32_t* cumulative_sequence_length;  // [B+1]
  const int32_t* past_seqlens;                // [B]
  const int32_t* block_table;                 // [B, max_blocks]
  const float* cos_cache;                     // [max_pos, rotary_dim/2] or nullptr
  const float* sin_cache;
  float* output;  // [T, N*D]
  int64_t tokens, batch, head_size, num_blocks, block_size, max_blocks_per_sequence, rotary_dim, max_position;
};

// Phase 1: RoPE on Q and K, then K and V of every token into its cache slot. `rotated_query` receives [T, N*D].
void PagedAttentionWriteCache(const PagedAttentionAttributes& a, const PagedAttentionProblem& p, float* rotated_query,
                              int64_t token_begin, int64_t token_end);

// Phase 2: attention for work units [unit_begin, unit_end), unit = token * num_heads + head, reading K and V
// through the block table (after phase 1 has run for every token).
void PagedAttentionAttend(const PagedAttentionAttributes& a, const PagedAttentionProblem& p, const float* rotated_query,
                          int64_t unit_begin, int64_t unit_end);

// The sequence a token belongs to (first b with token < cu[b+1]).
int64_t OwnerOfToken(const int32_t* cumulative_sequence_length, int64_t batch, int64_t token);

}  // namespace fp6

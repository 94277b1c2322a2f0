// The FP6 (e3m2, tcfpx layout) x FP16 GEMM behind the CUDA Fp6Linear kernel:
//   y[m][n] = (sum_k x[m][k] * fp6(w[n][k])) * scale[n] (+ bias[n]),   m < M tokens, n < N outputs, k < K inputs,
// FP16 activations, FP32 accumulation, FP16 output. Host API only; the kernels live in fp6_gemm.cu.
// Nothing here allocates device memory or synchronises: every call is safe under CUDA-graph capture.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

namespace fp6 {
namespace cuda {

struct GemmArgs {
  const uint16_t* x = nullptr;       // [M][K] fp16 bits, row-major
  const uint8_t* w = nullptr;        // tcfpx buffer of the [N][K] code matrix padded to multiples of 64
  const uint16_t* scales = nullptr;  // [N] fp16
  const uint16_t* bias = nullptr;    // [N] fp16, or null
  uint16_t* y = nullptr;             // [M][N] fp16, row-major
  int64_t m = 0;
  int n = 0;
  int k = 0;
};

enum class KernelKind : int {
  kDecode = 0,  // mma.sync mixed-input kernel: one warp per 64-row band x K range, cluster split-K (any GPU >= sm_80)
  kWgmma = 1,   // wgmma kernel (sm_90a): a TMA producer warpgroup + two consumer warpgroups, cluster split-K
};

struct GemmConfig {
  KernelKind kind = KernelKind::kDecode;
  int tile = 8;     // tokens per CTA: decode 8/16/32, wgmma 64/128/256
  int bands = 1;    // decode: 64-row bands per CTA (1,2,4,8; the other warps split K); wgmma: bands per warpgroup (1,2; 1 at tile 256)
  int cluster = 1;  // CTAs of one cluster that split K and reduce through distributed shared memory (1..8)
  int warps = 8;    // decode: warps per CTA (8 or 4)
  int stages = 4;   // decode: shared-memory stages per warp (4 with 8 warps; 8 or 6 with 4 warps; 3 with 16)
  // decode with cp.async: adjacent 64-row bands each warp streams side by side, multiplying both with one load of the
  // activations: 1, or 2 with 4 warps x 4 stages (8 or 16 tokens) or 8 warps x 2 stages (8 tokens)
  int warp_bands = 1;
  // decode with cp.async, 8 or 16 tokens, K % 8 == 0 and x 16-byte aligned: each k-tile's activations are copied into
  // shared memory with its weights (as far ahead as the weights) instead of loaded from L2 one k-tile ahead
  bool stage_activations = false;
  bool cp_async = false;  // decode on sm_90: weights by per-lane cp.async instead of bulk copies (sm_80 always)
  int ctas_per_sm = 1;    // wgmma: 1, or 2 for the lighter tile-64 one-band variant (twice the warps per SM)
  // wgmma with cluster > 1: how many tiles (a multiple of cluster) run whole, one CTA each over all of K, before the
  // rest are split across the CTAs of a cluster. 0 splits every tile; the planner runs the full waves whole and
  // splits only the tiles of the last wave.
  int whole_tiles = 0;
  // decode on sm_90 with cp.async, 8 or 16 tokens, 8 or 16 warps: > 0 runs the flat split instead, `groups` clusters
  // of `cluster` CTAs, each owning a contiguous run of about N / 64 / groups bands whose (band, k-tile) units its
  // warps share evenly (any band count fills the SMs evenly; the planner launches one wave of clusters).
  int groups = 0;
};

struct DeviceInfo {
  int device = 0;
  int cc_major = 0;
  int cc_minor = 0;
  int sm_count = 0;
  bool has_wgmma = false;  // sm_90 with this library's sm_90a code
};

// Reads the device's properties and prepares every kernel for launch (shared-memory limits). Call once per device
// before the first RunGemm (cheap, idempotent, thread-safe); not during graph capture.
cudaError_t PrepareDevice(int device, DeviceInfo* info);

// The configuration the library picks for a problem (never fails: every shape has a correct path).
GemmConfig PlanGemm(const DeviceInfo& info, int64_t m, int n, int k, bool x_aligned16);

// Whether a configuration can run this problem (the wgmma kernel needs sm_90, K % 8 == 0 and a 16-byte aligned x).
bool ConfigSupported(const DeviceInfo& info, const GemmConfig& config, int64_t m, int n, int k, bool x_aligned16);

// Launches on `stream`. Returns the launch error, if any (no synchronisation).
cudaError_t RunGemm(const DeviceInfo& info, const GemmArgs& args, const GemmConfig& config, cudaStream_t stream);

// Plan + run.
cudaError_t Fp6Gemm(const DeviceInfo& info, const GemmArgs& args, cudaStream_t stream);

// Writes the dequantized FP16 weights round_to_fp16(fp6(w[n][k]) * scale[n]) into out[N][K] (benchmark baseline
// and tests; not used by the op).
cudaError_t DequantizeToHalf(const uint8_t* w, const uint16_t* scales, int n, int k, uint16_t* out, cudaStream_t stream);

std::string DescribeConfig(const GemmConfig& config);

// How many clusters of a flat decode configuration (groups > 0; its tile, warps, stages and cluster size) run at
// once on the device: the planner's `groups`. 0 for other configurations or before PrepareDevice.
int FlatGroupsPerWave(const DeviceInfo& info, const GemmConfig& config);

// The tiles (band groups x token tiles) a wgmma configuration covers for M tokens and N outputs; 0 for decode.
int64_t WgmmaTiles(const GemmConfig& config, int64_t m, int n);

// How many CTAs of a wgmma configuration run at once on the device (its occupancy with that cluster size; the
// planner's wave size). 0 for decode configurations or before PrepareDevice.
int WgmmaCtasPerWave(const DeviceInfo& info, const GemmConfig& config);

}  // namespace cuda
}  // namespace fp6

// FP6 (e3m2, tcfpx) x FP16 GEMM kernels for Fp6Linear. Design, numbers and history: docs/cuda-kernel.md.
//
// Two kernels, both reading the tcfpx layout in place and both scaling in the FP32 epilogue (the tensor cores see
// the codes bit-placed as FP16 = value * 2^-12, exact for subnormals; the epilogue multiplies by scale * 2^12):
//
// * DecodeKernel (decode: M <= 16 tokens; also the portable fallback for any M and any GPU >= sm_80).
//   One warp streams one 64-row band over a contiguous K range: the band's 3 KiB per 64-wide k-tile arrives in a
//   per-warp ring of shared-memory stages (cp.async by all lanes, or on sm_90 optionally one bulk copy per segment
//   issued by lane 0 and completing on an mbarrier), each lane converts its six words per k-slice to four
//   mma.m16n8k16 A fragments
//   (1.5 integer ops per weight, fp6_tc_dequant.cuh) and multiplies them with the activations: staged (v21, the plan
//   wherever x is 16-byte aligned and K % 8 == 0) = copied by cp.async into each stage after its weights and read
//   with ldmatrix, or else loaded from global memory one k-tile ahead. The warps of a CTA cover `bands` bands x
//   (warps / bands) K ranges; the CTAs of a cluster split K further. Partial sums are reduced in shared memory
//   (within the CTA) and then across the cluster: each CTA sends every other CTA its sums of that CTA's share of the
//   outputs with st.async into the receiver's shared memory, counted on the receiver's mbarrier (no cluster barrier
//   at the end). Fixed summation order: no workspace, no atomics, deterministic.
//
// * FlatDecodeKernel (sm_90, decode with 8/16-token tiles): the same warps, weight stream and tile step, but each
//   cluster of one wave owns a run of bands whose (band, k-tile) units its warps share evenly, so every SM gets the
//   same work when the band count is not a multiple of the SMs (70B qkv: 160 bands on 132 SMs). Per band, warps'
//   partials are summed in the CTA, then by the lowest rank touching the band (st.async, as above).
//
// * WgmmaKernel (sm_90a, M > 16 tokens). Three warpgroups: a producer (one thread, registers given back with
//   setmaxnreg) streams each k-tile's activation tile (T tokens x 64 k, TMA tensor map, 128-byte swizzle, zero fill
//   beyond M and K) and the bands' 3 KiB each (bulk copies; at T = 64 two k-tiles' worth per copy) into a D-stage
//   ring with full/empty mbarriers; two consumer warpgroups each own `bands` 64-row bands: warp w of a warpgroup
//   converts block t = w of its bands (the wgmma register-A fragment of rows 16w..16w+15 is the m16n8k16 A fragment)
//   and issues wgmma.m64nTk16 with A from registers and B from the swizzled tile. Split-K across a cluster is reduced
//   through distributed shared memory (each CTA reads its share of the tokens from every CTA of the cluster; a
//   cluster barrier then keeps the shared memory alive until all have read); the tiles of full waves can run whole,
//   one CTA each, before the split ones (so only the last wave is split). PlanWgmma picks tile, bands, split and
//   whole tiles with a small cost model.
#pragma nv_diag_suppress 177  // helpers unused in one of the two target passes
#include <cooperative_groups.h>
#include <cuda.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>
#include <type_traits>

#include "fp6_gemm.h"
#include "fp6_tc_dequant.cuh"
#include "wgmma_ops.cuh"

namespace cg = cooperative_groups;

namespace fp6 {
namespace cuda {
namespace {

constexpr int kTileBytes = 3072;     // one band x one 64-wide k-tile: 1 KiB of 2-bit + 2 KiB of 4-bit words
constexpr int kSeg2TileBytes = 1024;
constexpr int kSeg4TileBytes = 2048;
constexpr int kMaxCluster = 8;          // the portable thread-block cluster size limit
constexpr int kMaxSmemPerBlock = 232448;  // Hopper: 227 KiB of dynamic shared memory per block
constexpr int kDecodeVariantCount = 13;  // kDecodeVariants
constexpr int kDecodeRowStride = 68;  // floats per (token) row of the reduction buffer: 64 rows + 4 (no conflicts)
constexpr int kWgThreads = 384;       // a producer warpgroup and two consumer warpgroups
// setmaxnreg per warpgroup, by CTAs per SM: one CTA is launched with 384 x 168 registers and gives 128 x 40 +
// 256 x 232 = 64512 of them out; two CTAs per SM are launched with 384 x 80 each and give 128 x 32 + 256 x 104
// (all of them: at 24 the producer thread spilled inside its k-tile loop, several local loads per k-tile).
template <int kCtas>
struct WgRegs {
  static constexpr int kLaunched = 65536 / (kWgThreads * kCtas) / 8 * 8;  // per thread, whole 8-register units
  static constexpr int kProducer = kCtas == 1 ? 40 : 32;
  static constexpr int kConsumer = kCtas == 1 ? 232 : 104;
  static_assert(128 * kProducer + 256 * kConsumer <= kWgThreads * kLaunched, "register budget");
};

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define FP6_SM90 1
#else
#define FP6_SM90 0
#endif

// ------------------------------------------------------------------------------------------------------------
// PTX wrappers (our own; sm_90 ones compile to nothing elsewhere and are never reached there).
// ------------------------------------------------------------------------------------------------------------
__device__ __forceinline__ uint32_t SmemAddr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void MbarInit(uint64_t* bar, uint32_t count) {
#if FP6_SM90
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(SmemAddr(bar)), "r"(count) : "memory");
#else
  (void)bar; (void)count;
#endif
}

__device__ __forceinline__ void FenceBarrierInit() {
#if FP6_SM90
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
#endif
}

__device__ __forceinline__ void MbarArriveExpectTx(uint64_t* bar, uint32_t bytes) {
#if FP6_SM90
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(SmemAddr(bar)), "r"(bytes) : "memory");
#else
  (void)bar; (void)bytes;
#endif
}

__device__ __forceinline__ void MbarArrive(uint64_t* bar) {
#if FP6_SM90
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(SmemAddr(bar)) : "memory");
#else
  (void)bar;
#endif
}

// Spins until phase `parity` of the mbarrier completes; SEM is the try_wait's ordering ("" = acquire at CTA scope).
#define FP6_MBAR_WAIT_LOOP(SEM)                                                      \
  "{\n.reg .pred done;\n"                                                            \
  "FP6_WAIT:\n"                                                                      \
  "mbarrier.try_wait.parity" SEM ".shared::cta.b64 done, [%0], %1;\n"                \
  "@!done bra FP6_WAIT;\n}\n"

// kCluster: acquire at cluster scope, for data that other CTAs of the cluster wrote with st.async.
template <bool kCluster = false>
__device__ __forceinline__ void MbarWait(uint64_t* bar, uint32_t parity) {
#if FP6_SM90
  if constexpr (kCluster) {
    asm volatile(FP6_MBAR_WAIT_LOOP(".acquire.cluster")::"r"(SmemAddr(bar)), "r"(parity) : "memory");
  } else {
    asm volatile(FP6_MBAR_WAIT_LOOP("")::"r"(SmemAddr(bar)), "r"(parity) : "memory");
  }
#else
  (void)bar; (void)parity;
#endif
}

// The address of the same shared-memory location in CTA `rank` of the cluster.
__device__ __forceinline__ uint32_t MapShared(uint32_t addr, unsigned rank) {
  uint32_t out = addr;
#if FP6_SM90
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(out) : "r"(addr), "r"(rank));
#else
  (void)rank;
#endif
  return out;
}

// Stores 16 bytes into another CTA's shared memory and counts them on that CTA's mbarrier (nobody waits here).
__device__ __forceinline__ void StoreRemoteAsync(uint32_t remote_addr, const float4& v, uint32_t remote_bar) {
#if FP6_SM90
  asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.v4.f32 [%0], {%1, %2, %3, %4}, [%5];" ::"r"(
                   remote_addr),
               "f"(v.x), "f"(v.y), "f"(v.z), "f"(v.w), "r"(remote_bar)
               : "memory");
#else
  (void)remote_addr; (void)v; (void)remote_bar;
#endif
}

// A cluster barrier in two halves: every thread arrives early (relaxed: nothing to publish but barrier
// initialisation, which has its own fence) and waits only where it must.
__device__ __forceinline__ void ClusterArriveRelaxed() {
#if FP6_SM90
  asm volatile("barrier.cluster.arrive.relaxed.aligned;" ::: "memory");
#endif
}
__device__ __forceinline__ void ClusterWait() {
#if FP6_SM90
  asm volatile("barrier.cluster.wait.aligned;" ::: "memory");
#endif
}

__device__ __forceinline__ uint32_t LoadShared32(uint32_t addr) {
  uint32_t v;
  asm volatile("ld.shared.b32 %0, [%1];" : "=r"(v) : "r"(addr) : "memory");
  return v;
}

// Named barrier over `threads` threads (a subset of the block; id 0 is __syncthreads).
__device__ __forceinline__ void NamedBarrierSync(int id, int threads) {
  asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(threads) : "memory");
}

// Register reallocation between warpgroups (sm_90a): the producer gives registers back, the consumers take them.
template <bool kIncrease, int kRegs>
__device__ __forceinline__ void SetMaxRegisters() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  if constexpr (kIncrease) {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(kRegs));
  } else {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(kRegs));
  }
#endif
}

// L2 policy for streamed weights: evict-first when no other CTA reads them, evict-normal when other token tiles will.
__device__ __forceinline__ uint64_t WeightPolicy(bool evict_first) {
  uint64_t policy = 0;
#if FP6_SM90
  if (evict_first) {
    asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
  } else {
    asm volatile("createpolicy.fractional.L2::evict_normal.b64 %0, 1.0;" : "=l"(policy));
  }
#else
  (void)evict_first;
#endif
  return policy;
}

// 1-D bulk copy global -> shared, completing `bytes` of transaction count on `bar`.
__device__ __forceinline__ void BulkCopy(void* dst, const void* src, uint32_t bytes, uint64_t* bar, uint64_t policy) {
#if FP6_SM90
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes.L2::cache_hint [%0], [%1], %2, [%3], %4;" ::"r"(
          SmemAddr(dst)),
      "l"(src), "r"(bytes), "r"(SmemAddr(bar)), "l"(policy)
      : "memory");
#else
  (void)dst; (void)src; (void)bytes; (void)bar; (void)policy;
#endif
}

// 2-D tensor copy global -> shared (coordinates innermost first).
__device__ __forceinline__ void TensorCopy2d(void* dst, const CUtensorMap* map, int c0, int c1, uint64_t* bar) {
#if FP6_SM90
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];" ::"r"(
          SmemAddr(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(SmemAddr(bar))
      : "memory");
#else
  (void)dst; (void)map; (void)c0; (void)c1; (void)bar;
#endif
}

// Fetches a tensor map (here a __grid_constant__ kernel parameter) into the TMA unit's descriptor cache.
__device__ __forceinline__ void PrefetchTensorMap(const CUtensorMap* map) {
#if FP6_SM90
  asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
#else
  (void)map;
#endif
}

__device__ __forceinline__ void PrefetchL2(const void* p) {
  asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
}

__device__ __forceinline__ void CpAsync16(uint32_t dst, const void* src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst), "l"(src) : "memory");
}
// Copies `src_bytes` (16 or 0) and zero-fills the rest of the 16 bytes.
__device__ __forceinline__ void CpAsync16Fill(uint32_t dst, const void* src, uint32_t src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(src), "r"(src_bytes) : "memory");
}
// Four 8x8 FP16 matrices from shared memory: lanes 8j..8j+7 give the row addresses of matrix j, and each lane gets
// (row lane / 4, columns 2 (lane % 4), +1) of every matrix: for [token][k] rows, the mma.m16n8k16 B fragment.
__device__ __forceinline__ void LoadMatrices4(uint32_t addr, uint32_t& d0, uint32_t& d1, uint32_t& d2, uint32_t& d3) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(d0), "=r"(d1), "=r"(d2), "=r"(d3)
               : "r"(addr)
               : "memory");
}
__device__ __forceinline__ void CpAsyncCommit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void CpAsyncWait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

__device__ __forceinline__ void Mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void ClusterSync() {
#if FP6_SM90
  cg::this_cluster().sync();
#else
  __syncthreads();
#endif
}

__device__ __forceinline__ unsigned ClusterRank() {
#if FP6_SM90
  return cg::this_cluster().block_rank();
#else
  return 0;
#endif
}

template <typename T>
__device__ __forceinline__ T* ClusterMap(T* local, unsigned rank) {
#if FP6_SM90
  return cg::this_cluster().map_shared_rank(local, rank);
#else
  (void)rank;
  return local;
#endif
}

// s += v, component by component (the reductions add their partials in a fixed order, one float4 at a time).
__device__ __forceinline__ void AddTo(float4& s, const float4& v) {
  s.x += v.x;
  s.y += v.y;
  s.z += v.z;
  s.w += v.w;
}

// The scales and biases of output rows n..n+3 (those below N), as FP16 pairs: sc[0] = rows n, n+1; sc[1] = n+2, n+3.
struct QuadScales {
  uint32_t sc[2] = {0u, 0u}, bi[2] = {0u, 0u};

  __device__ __forceinline__ void Load(const GemmArgs& a, int n) {
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      if (n + e < a.n) {
        sc[e >> 1] |= static_cast<uint32_t>(a.scales[n + e]) << (16 * (e & 1));
        if (a.bias != nullptr) bi[e >> 1] |= static_cast<uint32_t>(a.bias[n + e]) << (16 * (e & 1));
      }
    }
  }
};

// Whether StoreQuad may write a quad as one 8-byte store: every row of y starts 8-byte aligned.
__device__ __forceinline__ bool QuadStoresAligned(const GemmArgs& a) {
  return (a.n % 4) == 0 && (reinterpret_cast<uintptr_t>(a.y) % 8) == 0;
}

// y[m][n..n+3] = RN16(sum * scale * 2^12 + bias) for the rows below N; one 8-byte store when `vec` (N % 4 == 0 and
// y 8-byte aligned) and the whole quad is inside N.
__device__ __forceinline__ void StoreQuad(const GemmArgs& a, int64_t m, int n, const float4& sum, const QuadScales& q,
                                          bool vec) {
  const float vals[4] = {sum.x, sum.y, sum.z, sum.w};
  unsigned short h[4];
#pragma unroll
  for (int e = 0; e < 4; ++e) {
    const int sh16 = 16 * (e & 1);
    float v = vals[e] * (__half2float(__ushort_as_half(static_cast<unsigned short>(q.sc[e >> 1] >> sh16))) * 4096.0f);
    if (a.bias != nullptr) v += __half2float(__ushort_as_half(static_cast<unsigned short>(q.bi[e >> 1] >> sh16)));
    h[e] = __half_as_ushort(__float2half_rn(v));
  }
  uint16_t* dst = a.y + m * a.n + n;
  if (vec && n + 3 < a.n) {
    uint2 packed;
    packed.x = static_cast<uint32_t>(h[0]) | (static_cast<uint32_t>(h[1]) << 16);
    packed.y = static_cast<uint32_t>(h[2]) | (static_cast<uint32_t>(h[3]) << 16);
    *reinterpret_cast<uint2*>(dst) = packed;
  } else {
#pragma unroll
    for (int e = 0; e < 4; ++e)
      if (n + e < a.n) dst[e] = h[e];
  }
}

// ------------------------------------------------------------------------------------------------------------
// Decode kernel
// ------------------------------------------------------------------------------------------------------------
struct DecodeShape {
  int np, kp, kt, nb;  // padded N, padded K, k-tiles, bands
  int bands, kw, cluster;
  int x_vec;  // 32-bit activation loads allowed (K even, x 4-byte aligned)
  // Staged activations (kStageX): token rows of every stage (min(tile, M)) and the stage's bytes (weights + rows).
  int x_rows, stage_bytes;
};

__device__ __forceinline__ uint32_t LoadActivationPair(const GemmArgs& a, int64_t token, int k, int x_vec) {
  if (token >= a.m || k >= a.k) return 0u;
  const unsigned short* row = a.x + token * a.k;
  if (x_vec) return __ldg(reinterpret_cast<const unsigned int*>(row + k));
  const uint32_t lo = __ldg(row + k);
  const uint32_t hi = (k + 1 < a.k) ? static_cast<uint32_t>(__ldg(row + k + 1)) : 0u;
  return lo | (hi << 16);
}

// The B fragments (activations) of one k-tile: slice s, 8-token group nt, registers b0/b1.
template <int MT>
struct ActivationRows {
  const unsigned short* row[MT / 8];  // this lane's token rows, already offset by 2q
  bool ok[MT / 8];

  __device__ __forceinline__ void Init(const GemmArgs& a, int64_t token0, int lane) {
    const int g = lane >> 2, q = lane & 3;
#pragma unroll
    for (int nt = 0; nt < MT / 8; ++nt) {
      const int64_t token = token0 + nt * 8 + g;
      ok[nt] = token < a.m;
      row[nt] = a.x + (ok[nt] ? token : 0) * a.k + 2 * q;
    }
  }

  __device__ __forceinline__ void Load(const GemmArgs& a, int64_t token0, int kt, int lane, int x_vec,
                                       uint32_t (&xb)[4][MT / 8][2]) const {
    if (x_vec && kt * 64 + 64 <= a.k) {  // whole k-tile inside K, 32-bit loads: only the token predicate remains
#pragma unroll
      for (int s = 0; s < 4; ++s)
#pragma unroll
        for (int nt = 0; nt < MT / 8; ++nt) {
          const unsigned int* p = reinterpret_cast<const unsigned int*>(row[nt] + kt * 64 + s * 16);
          xb[s][nt][0] = ok[nt] ? __ldg(p) : 0u;
          xb[s][nt][1] = ok[nt] ? __ldg(p + 4) : 0u;
        }
      return;
    }
    const int g = lane >> 2, q = lane & 3;
#pragma unroll
    for (int s = 0; s < 4; ++s)
#pragma unroll
      for (int nt = 0; nt < MT / 8; ++nt) {
        const int64_t token = token0 + nt * 8 + g;
        const int k = kt * 64 + s * 16 + 2 * q;
        xb[s][nt][0] = LoadActivationPair(a, token, k, x_vec);
        xb[s][nt][1] = LoadActivationPair(a, token, k + 8, x_vec);
      }
  }
};

// A warp's weight stream by cp.async: lane l copies 16-byte chunks l + 32u of every 3 KiB tile (u = 0, 1 from the
// 2-bit segment, 2..5 from the 4-bit one) into stage i % S of the warp's ring, from per-lane pointers set up once: per
// tile two addresses, and the six copies use immediate offsets from them (SASS: ~31 instructions per tile for the
// refill, ~48 in v13, which rebuilt every chunk address). One commit group per tile, empty past the warp's last tile,
// so that the wait counts stay the same on every iteration. With P = 2 a stage holds the same k-tile of two adjacent
// bands (the second `band_bytes2` further on in the 2-bit segment, twice that in the 4-bit one), the second one's
// copies skipped when it lies past the last band. With staged activations a stage is larger (`stage_bytes`) and the
// activation copies join the tile's commit group (`extra`).
template <int S, int P = 1>
struct LaneCopies {
  const uint8_t* lane2;  // the stream's first tile (tcfpx: a warp's tiles are consecutive in both segments)
  const uint8_t* lane4;
  uint32_t ring_lane;
  int band_bytes2;  // P = 2: bytes from a band's tiles to the next band's in the 2-bit segment; 0 without a next band
  int stage_bytes;

  __device__ __forceinline__ LaneCopies(const uint8_t* seg2_first, const uint8_t* seg4_first, const uint8_t* ring,
                                        int lane, int band_bytes2 = 0, int stage_bytes = P * kTileBytes)
      : lane2(seg2_first + lane * 16),
        lane4(seg4_first + lane * 16),
        ring_lane(SmemAddr(ring) + lane * 16),
        band_bytes2(band_bytes2),
        stage_bytes(stage_bytes) {}

  // extra(i, stage offset): further copies of k-tile i into its stage.
  template <typename Extra>
  __device__ __forceinline__ void Issue(int i, int nkt, const Extra& extra) const {
    if (i < nkt) {
      const uint32_t st_off = (i % S) * stage_bytes;
      const uint32_t dst = ring_lane + st_off;
      const uint8_t* s2 = lane2 + i * kSeg2TileBytes;  // i * 2048 < 2^31: nkt <= 2^20 k-tiles
      const uint8_t* s4 = lane4 + i * kSeg4TileBytes;
      CopyTile(dst, s2, s4);
      if (P == 2 && band_bytes2 != 0) CopyTile(dst + kTileBytes, s2 + band_bytes2, s4 + 2 * band_bytes2);
      extra(i, st_off);
    }
    CpAsyncCommit();
  }
  __device__ __forceinline__ void Issue(int i, int nkt) const {
    Issue(i, nkt, [](int, uint32_t) {});
  }

  __device__ __forceinline__ static void CopyTile(uint32_t dst, const uint8_t* s2, const uint8_t* s4) {
    CpAsync16(dst, s2);
    CpAsync16(dst + 512, s2 + 512);
#pragma unroll
    for (int u = 0; u < 4; ++u) CpAsync16(dst + kSeg2TileBytes + 512 * u, s4 + 512 * u);
  }
};

// Staged activations: a warp copies the activations of each k-tile into the tile's stage, after the weights, with
// the same commit group, so they are as far ahead as the weights and arrive with them. Loaded one k-tile ahead into
// registers instead, they are L2 round trips issued behind the weight stream; the v21 trace measured them as most of
// the consumption time of a tile (M = 1: ~0.4 us median per tile and warp, up to 3 us).
// The stage holds x_rows = min(tile, M) token rows of 64 k (8 chunks of 16 bytes each), chunk c of row r at
// (c ^ (r % 8)) * 16, so that the eight rows of an ldmatrix read lie in different banks. Lane l copies chunks l + 32u;
// rows past the tile's tokens and chunks past K are zero-filled (their products land in discarded columns, or are 0).
template <int MT>
struct StagedActivations {
  static constexpr int kCopies = MT * 8 / 32;      // 16-byte chunks per lane and k-tile (x_rows = MT)
  static constexpr int kReads = MT == 8 ? 2 : 4;  // ldmatrix.x4 per k-tile
  const uint16_t* src[kCopies];  // the chunk in the warp's first k-tile
  uint32_t dst[kCopies];         // its place in stage 0
  int k_first[kCopies];          // its first k in the warp's first k-tile
  bool copy[kCopies], row_ok[kCopies];
  uint32_t read[kReads];  // this lane's ldmatrix row address in stage 0, per read

  __device__ __forceinline__ void Init(const GemmArgs& a, int64_t token0, int x_rows, int kt0, uint32_t x_area,
                                       int lane) {
    const int mvalid = static_cast<int>(a.m - token0 < MT ? a.m - token0 : MT);
#pragma unroll
    for (int u = 0; u < kCopies; ++u) {
      const int id = lane + 32 * u, row = id >> 3, col = id & 7;
      copy[u] = row < x_rows;
      row_ok[u] = row < mvalid;
      src[u] = a.x + (row_ok[u] ? token0 + row : 0) * a.k + static_cast<int64_t>(kt0) * 64 + col * 8;
      dst[u] = x_area + row * 128 + ((col ^ (row & 7)) << 4);
      k_first[u] = kt0 * 64 + col * 8;
    }
    // Read j of a k-tile: 8 tokens: slices 2j, 2j + 1 (matrices: b0, b1 of each); 16 tokens: slice j (b0, b1 of
    // tokens 0-7, then of tokens 8-15). Rows past x_rows read row x_rows - 1: only discarded columns see them.
    const int mat = lane >> 3;
    const int token = MT == 8 ? (lane & 7) : (lane & 7) + 8 * (mat >> 1);
    const int row = token < x_rows ? token : x_rows - 1;
#pragma unroll
    for (int j = 0; j < kReads; ++j) {
      const int chunk = MT == 8 ? 4 * j + mat : 2 * j + (mat & 1);
      read[j] = x_area + row * 128 + ((chunk ^ (row & 7)) << 4);
    }
  }

  // Copies of the warp's k-tile i into the stage at st_off.
  __device__ __forceinline__ void Issue(const GemmArgs& a, int i, uint32_t st_off) const {
#pragma unroll
    for (int u = 0; u < kCopies; ++u) {
      if (!copy[u]) continue;
      const bool ok = row_ok[u] && k_first[u] + i * 64 < a.k;  // K % 8 == 0: a chunk is wholly inside or outside
      CpAsync16Fill(dst[u] + st_off, ok ? src[u] + i * 64 : a.x, ok ? 16u : 0u);
    }
  }

  // The tile's B fragments from the stage at st_off.
  __device__ __forceinline__ void Load(uint32_t st_off, uint32_t (&x)[4][MT / 8][2]) const {
    if constexpr (MT == 8) {
#pragma unroll
      for (int j = 0; j < 2; ++j)
        LoadMatrices4(read[j] + st_off, x[2 * j][0][0], x[2 * j][0][1], x[2 * j + 1][0][0], x[2 * j + 1][0][1]);
    } else {
#pragma unroll
      for (int s = 0; s < 4; ++s) LoadMatrices4(read[s] + st_off, x[s][0][0], x[s][0][1], x[s][1][0], x[s][1][1]);
    }
  }
};

// One k-tile of a warp's band in shared memory (tcfpx order): per k-slice the lane's two 2-bit and four 4-bit words,
// converted to four mma.m16n8k16 A fragments (rows 16t..16t+15) and multiplied with the tile's activations.
template <int MT>
__device__ __forceinline__ void ConsumeTile(const uint32_t* words, int lane, const uint32_t (&x)[4][MT / 8][2],
                                            float (&acc)[4][MT / 8][4]) {
#pragma unroll
  for (int s = 0; s < 4; ++s) {
    uint32_t w2[2], w4[4], frag[4][4];
    w2[0] = words[(2 * s) * 32 + lane];
    w2[1] = words[(2 * s + 1) * 32 + lane];
#pragma unroll
    for (int t = 0; t < 4; ++t) w4[t] = words[256 + (4 * s + t) * 32 + lane];
    DequantSlice(w2, w4, frag);
#pragma unroll
    for (int t = 0; t < 4; ++t)
#pragma unroll
      for (int nt = 0; nt < MT / 8; ++nt) Mma16816(acc[t][nt], frag[t], x[s][nt][0], x[s][nt][1]);
  }
}

template <int MT>
__device__ __forceinline__ void ZeroAccumulators(float (&acc)[4][MT / 8][4]) {
#pragma unroll
  for (int t = 0; t < 4; ++t)
#pragma unroll
    for (int nt = 0; nt < MT / 8; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[t][nt][e] = 0.0f;
}

// A warp's sums of its band for the tile's valid tokens into its slot, [token][64 rows + 4] (conflict-free).
template <int MT>
__device__ __forceinline__ void WritePartials(float* slot, int lane, int mvalid, const float (&acc)[4][MT / 8][4]) {
  const int g = lane >> 2, q = lane & 3;
#pragma unroll
  for (int t = 0; t < 4; ++t)
#pragma unroll
    for (int nt = 0; nt < MT / 8; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int row = 16 * t + g + 8 * (e >> 1);
        const int tok = 8 * nt + 2 * q + (e & 1);
        if (tok < mvalid) slot[tok * kDecodeRowStride + row] = acc[t][nt][e];
      }
}

// CTAs per SM a decode variant is built for (__launch_bounds__): what its shared memory allows. With two bands per
// warp a stage is 6 KiB: two CTAs of 4 x 4 or 8 x 2 stages per SM.
constexpr int DecodeMinBlocks(int tile, int warps, int warp_bands) {
  return warps == 16 ? 1 : (warp_bands == 2 ? 2 : (tile <= 16 ? 16 / warps : 8 / warps));
}

// P = 2 (two bands per warp): each warp streams the same k-tiles of two adjacent bands and multiplies both with one
// load of the activations, which halves the activation traffic per weight byte (16 tokens: 2 KiB of activations per
// 3 KiB weight tile from L2 with one band per warp).
// kStageX: activations staged in shared memory with the weights (StagedActivations; cp.async, K % 8 == 0, x 16-byte
// aligned, 8 or 16 tokens).
template <int MT, int kDecodeWarps, int kDecodeStages, bool kBulkCopy, int P = 1, bool kStageX = false>
__global__ void __launch_bounds__(kDecodeWarps * 32, DecodeMinBlocks(MT, kDecodeWarps, P))
    DecodeKernel(const GemmArgs a, const DecodeShape sh) {
  static_assert(P == 1 || (P == 2 && !kBulkCopy), "two bands per warp: cp.async only");
  static_assert(!kStageX || (!kBulkCopy && MT <= 16), "staged activations: cp.async, 8 or 16 tokens");
  // sm_90: weights by bulk copy (lane 0, mbarrier) or by cp.async (all lanes); sm_80: cp.async.
  constexpr bool kTma = kBulkCopy && (FP6_SM90 == 1);
  const int stage_bytes = kStageX ? sh.stage_bytes : P * kTileBytes;
  extern __shared__ __align__(1024) uint8_t smem_raw[];
  uint8_t* smem = smem_raw;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int bl = warp % sh.bands, ksl = warp / sh.bands;
  const int cr = static_cast<int>(ClusterRank());
  const int group = blockIdx.x / sh.cluster;
  const int cta_bands = sh.bands * P;
  const int band = (group * sh.bands + bl) * P;  // the first of the warp's P bands
  const int64_t token0 = static_cast<int64_t>(blockIdx.y) * MT;
  const int splits = sh.cluster * sh.kw, split = cr * sh.kw + ksl;
  // 32-bit arithmetic: 64-bit division is a long software sequence on the GPU (kt * splits < 2^31 always).
  const int kt0 = sh.kt * split / splits;
  const int kt1 = sh.kt * (split + 1) / splits;
  const int nkt = band < sh.nb ? kt1 - kt0 : 0;

  uint8_t* ring = smem + warp * kDecodeStages * stage_bytes;
  uint64_t* bars =
      reinterpret_cast<uint64_t*>(smem + kDecodeWarps * kDecodeStages * stage_bytes) + warp * kDecodeStages;
  // After the rings and their barriers: the barrier and buffer that receive the other cluster CTAs' partial sums of
  // this CTA's share of the outputs (one slot per sending rank; only with a cluster, see the epilogue).
  uint64_t* rx_bar = reinterpret_cast<uint64_t*>(smem + kDecodeWarps * kDecodeStages * (stage_bytes + 8));
  float* rx = reinterpret_cast<float*>(rx_bar + 2);  // 16-byte aligned (the rings and barriers are a multiple of 16)

  // The epilogue works on quads of 4 output rows: quad = (band in CTA, valid token, 16 quads of rows), rows fastest.
  // Its bookkeeping is known now: the tile's valid tokens (decode usually has fewer than MT: 1 of 8 at M = 1), and
  // the share [q_begin, q_end) of the quads that this CTA sums over the cluster and stores (shares are whole quads:
  // 16 per band and token, cluster <= 8); cheap, so computed again after the k-tile loop instead of kept live across
  // it. With one band per CTA every thread stores the same 4 rows for each of its quads (the block is a multiple of
  // 16 threads), so it loads their scales and biases here: loaded after the last weight tile they cost a DRAM round
  // trip (~0.5 us, measured) at the end of every CTA. Not for 32 tokens with 16 warps, a variant the planner never
  // picks that already spills (~1 KB per thread) and would spill more.
  auto shares = [&](int& mvalid, int& quads, int& share) {
    mvalid = static_cast<int>(a.m - token0 < MT ? a.m - token0 : MT);
    quads = cta_bands * mvalid * 16;
    share = quads >> (31 - __clz(sh.cluster));  // decode clusters are powers of two up to 8: no division
  };
  if (sh.cluster > 1) {
    // Before the scale loads below: the fence is a memory barrier, which would first wait for them.
    if (threadIdx.x == 0) {
      int mvalid, quads, share;
      shares(mvalid, quads, share);
      MbarInit(rx_bar, 1);
      MbarArriveExpectTx(rx_bar, static_cast<uint32_t>((sh.cluster - 1) * share * 16));
      FenceBarrierInit();
    }
    ClusterArriveRelaxed();  // waited for before the first remote store: every receive barrier is initialised
  }
  constexpr bool kEarlyScales = !(MT == 32 && kDecodeWarps == 16);
  QuadScales early[P];  // [band of the CTA]
  if (kEarlyScales && sh.bands == 1) {
    int mvalid, quads, share;
    shares(mvalid, quads, share);
    const int row_quad = ((share * cr + static_cast<int>(threadIdx.x)) & 15) * 4;
#pragma unroll
    for (int j = 0; j < P; ++j) early[j].Load(a, (band + j) * 64 + row_quad);
  }
  const uint8_t* seg2 = a.w + static_cast<int64_t>(band) * sh.kt * kSeg2TileBytes;
  const uint8_t* seg4 = a.w + static_cast<int64_t>(sh.np) * sh.kp / 4 + static_cast<int64_t>(band) * sh.kt * kSeg4TileBytes;

  const uint64_t policy = kTma ? WeightPolicy(true) : 0;
  auto issue_bulk = [&](int i, int st) {
    MbarArriveExpectTx(&bars[st], kTileBytes);
    BulkCopy(ring + st * kTileBytes, seg2 + static_cast<int64_t>(kt0 + i) * kSeg2TileBytes, kSeg2TileBytes, &bars[st],
             policy);
    BulkCopy(ring + st * kTileBytes + kSeg2TileBytes, seg4 + static_cast<int64_t>(kt0 + i) * kSeg4TileBytes,
             kSeg4TileBytes, &bars[st], policy);
  };
  const LaneCopies<kDecodeStages, P> copies(seg2 + static_cast<int64_t>(kt0) * kSeg2TileBytes,
                                            seg4 + static_cast<int64_t>(kt0) * kSeg4TileBytes, ring, lane,
                                            P == 2 && band + 1 < sh.nb ? sh.kt * kSeg2TileBytes : 0, stage_bytes);
  [[maybe_unused]] StagedActivations<MT> xstage;
  if constexpr (kStageX) xstage.Init(a, token0, sh.x_rows, kt0, SmemAddr(ring) + P * kTileBytes, lane);
  auto issue_cp = [&](int i) {
    copies.Issue(i, nkt, [&](int t, uint32_t st_off) {
      if constexpr (kStageX) xstage.Issue(a, t, st_off);
    });
  };
  if constexpr (kTma) {
    if (lane == 0) {
      for (int d = 0; d < kDecodeStages; ++d) MbarInit(&bars[d], 1);
      FenceBarrierInit();
      for (int i = 0; i < kDecodeStages && i < nkt; ++i) issue_bulk(i, i);
    }
    __syncwarp();
  } else {
    for (int i = 0; i < kDecodeStages - 1; ++i) issue_cp(i);
  }

  float acc[P][4][MT / 8][4];  // [band of the warp][row block][8-token group][fragment]
#pragma unroll
  for (int j = 0; j < P; ++j) ZeroAccumulators<MT>(acc[j]);

  ActivationRows<MT> xrows;
  xrows.Init(a, token0, lane);
  // Activations are prefetched one k-tile ahead into the other of two register sets (the loop is unrolled by two, so
  // no copies between them), unless they are staged.
  uint32_t xa[4][MT / 8][2], xb[4][MT / 8][2];
  if (!kStageX && nkt > 0) xrows.Load(a, token0, kt0, lane, sh.x_vec, xa);

  auto step = [&](int i, uint32_t (&xc)[4][MT / 8][2], uint32_t (&xn)[4][MT / 8][2]) {
    const int st = i % kDecodeStages;
    if (!kStageX && i + 1 < nkt) xrows.Load(a, token0, kt0 + i + 1, lane, sh.x_vec, xn);
    if constexpr (kTma) {
      MbarWait(&bars[st], (i / kDecodeStages) & 1);
    } else {
      issue_cp(i + kDecodeStages - 1);
      CpAsyncWait<kDecodeStages - 1>();
      __syncwarp();
    }
    if constexpr (kStageX) xstage.Load(st * stage_bytes, xc);
#pragma unroll
    for (int j = 0; j < P; ++j)
      ConsumeTile<MT>(reinterpret_cast<const uint32_t*>(ring + st * stage_bytes + j * kTileBytes), lane, xc, acc[j]);
    __syncwarp();
    // The lanes' reads of this stage are complete (their values are in registers and __syncwarp orders them), so
    // lane 0 refills it at once. No proxy fence: it compiles to MEMBAR.ALL.CTA, which would first wait for this
    // lane's outstanding activation loads of the next tile.
    if constexpr (kTma) {
      if (lane == 0 && i + kDecodeStages < nkt) issue_bulk(i + kDecodeStages, st);
    }
  };
  int i = 0;
  for (; i + 1 < nkt; i += 2) {
    step(i, xa, xb);
    step(i + 1, xb, xa);
  }
  if (i < nkt) step(i, xa, xb);
  if constexpr (!kTma) CpAsyncWait<0>();

  // ---- reduction: warps of the CTA (shared memory), then CTAs of the cluster (st.async into the owner's buffer) ----
  // Each warp writes its partial sums into its own ring, which it has finished with (the last step ended with
  // __syncwarp after the lanes' reads) and no other warp uses: one block barrier, before the reads, is enough.
  const int slot_floats = kDecodeStages * stage_bytes / 4;
  constexpr int kBandFloats = MT * kDecodeRowStride;
  static_assert(P * kBandFloats <= kDecodeStages * P * kTileBytes / 4, "a warp's partial sums fit in its ring");
  int mvalid, quads, share;
  shares(mvalid, quads, share);
  const int q_begin = share * cr, q_end = q_begin + share;
  // Warp w's partials of its band j: part[w * slot_floats + j * kBandFloats + token * 68 + row].
  float* part = reinterpret_cast<float*>(smem);
#pragma unroll
  for (int j = 0; j < P; ++j) WritePartials<MT>(part + warp * slot_floats + j * kBandFloats, lane, mvalid, acc[j]);
  if (sh.cluster > 1) ClusterWait();  // long satisfied (arrived at the start); here it overlaps the block barrier
  __syncthreads();
  // Quad qd: its 4 rows summed over the CTA's K ranges, in K order (deterministic), and its place in the output.
  // blo: the band in the CTA, held by warps blo / P + bands * (K range), as their band blo % P.
  auto locate = [&](int qd, int& tok, int& blo) {
    const int bt = qd >> 4;
    tok = cta_bands == 1 ? bt : bt % mvalid;
    blo = cta_bands == 1 ? 0 : bt / mvalid;
  };
  auto cta_sum = [&](int qd) {
    int tok, blo;
    locate(qd, tok, blo);
    const float* src =
        part + (blo / P) * slot_floats + (blo % P) * kBandFloats + tok * kDecodeRowStride + (qd & 15) * 4;
    float4 sum = make_float4(0.f, 0.f, 0.f, 0.f);
    if (sh.bands == 1) {  // every warp is a K range: unconditional loads, issued 8 at a time before their adds
      constexpr int kBatch = kDecodeWarps < 8 ? kDecodeWarps : 8;
#pragma unroll
      for (int k0 = 0; k0 < kDecodeWarps; k0 += kBatch) {
        float4 v[kBatch];
#pragma unroll
        for (int k = 0; k < kBatch; ++k) v[k] = *reinterpret_cast<const float4*>(src + (k0 + k) * slot_floats);
#pragma unroll
        for (int k = 0; k < kBatch; ++k) AddTo(sum, v[k]);
      }
      return sum;
    }
    for (int k = 0; k < sh.kw; ++k) AddTo(sum, *reinterpret_cast<const float4*>(src + k * sh.bands * slot_floats));
    return sum;
  };
  const bool vec = QuadStoresAligned(a);
  auto store = [&](int qd, const float4& sum) {
    int tok, blo;
    locate(qd, tok, blo);
    const int n = (group * cta_bands + blo) * 64 + (qd & 15) * 4;
    if (n >= a.n) return;
    if (kEarlyScales && sh.bands == 1) {
      // A select rather than early[blo]: a runtime index would put the array in local memory.
      StoreQuad(a, token0 + tok, n, sum, P == 2 && blo != 0 ? early[P - 1] : early[0], vec);
    } else {
      QuadScales late;
      late.Load(a, n);
      StoreQuad(a, token0 + tok, n, sum, late, vec);
    }
  };
  if (sh.cluster == 1) {
    for (int qd = threadIdx.x; qd < quads; qd += blockDim.x) store(qd, cta_sum(qd));
    return;
  }
  // Each CTA sends every other rank its CTA sums of that rank's share with st.async, which counts the bytes on the
  // receiver's barrier: no cluster barrier waits for the slowest CTA to finish reading, and a CTA leaves as soon as
  // its own share is stored (nobody reads its shared memory). Its own share goes to its own slot, written and read
  // by the same thread. Sums over the ranks in rank order: the results do not depend on arrival order.
  const int rx_slot = (cta_bands * MT * 64) >> (31 - __clz(sh.cluster));  // floats per sending rank, >= any share
  const uint32_t my_slot = SmemAddr(rx + cr * rx_slot);
  for (int d = 0; d < sh.cluster; ++d) {
    const int d_begin = share * d, d_end = d_begin + share;
    const uint32_t remote_bar = MapShared(SmemAddr(rx_bar), static_cast<unsigned>(d));
    for (int qd = d_begin + threadIdx.x; qd < d_end; qd += blockDim.x) {
      const float4 sum = cta_sum(qd);
      if (d == cr) {
        *reinterpret_cast<float4*>(rx + cr * rx_slot + 4 * (qd - d_begin)) = sum;
      } else {
        StoreRemoteAsync(MapShared(my_slot + 16u * static_cast<uint32_t>(qd - d_begin), static_cast<unsigned>(d)), sum,
                         remote_bar);
      }
    }
  }
  MbarWait<true>(rx_bar, 0);
  auto sum_store = [&](auto cluster_size) {  // a compile-time rank count: the C reads are issued before the adds
    constexpr int C = decltype(cluster_size)::value;
    for (int qd = q_begin + threadIdx.x; qd < q_end; qd += blockDim.x) {
      float4 v[C];
#pragma unroll
      for (int c = 0; c < C; ++c) v[c] = *reinterpret_cast<const float4*>(rx + c * rx_slot + 4 * (qd - q_begin));
      float4 sum = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
      for (int c = 0; c < C; ++c) AddTo(sum, v[c]);
      store(qd, sum);
    }
  };
  if (sh.cluster == 2) sum_store(std::integral_constant<int, 2>{});
  else if (sh.cluster == 4) sum_store(std::integral_constant<int, 4>{});
  else sum_store(std::integral_constant<int, 8>{});
}

// ------------------------------------------------------------------------------------------------------------
// Flat decode kernel (sm_90, cp.async): the same warps, stream and tile step as DecodeKernel, another split
// ------------------------------------------------------------------------------------------------------------
// DecodeKernel gives each cluster one band, so the CTA count is a multiple of the band count: 160 bands of 70B qkv
// make 160 CTAs on 132 SMs, and the 28 SMs with two of them take twice as long as the rest. Here each of `groups`
// clusters (one wave of them) owns a contiguous run of bands, and its C x W warps split the run's (band, k-tile) units
// evenly in band-major order, which is also tcfpx order: a warp's tiles are still one contiguous stream. Runs are at
// most one band long, so a warp touches at most two bands and keeps one accumulator set for each.
// Reduction, per band: the CTA sums its warps' partial sums in warp order; a band that several CTAs touch belongs to
// the lowest rank touching it (only a CTA's last band can continue into the next ranks, and only its first band can
// come from an earlier one), which receives the others' CTA sums by st.async on its mbarrier and adds them in rank
// order. Senders push before they wait for anything, so nobody waits in a cycle, and no cluster barrier ends the
// kernel (nobody reads another CTA's shared memory).
struct FlatShape {
  int np, kp, kt, nb;
  int groups, cluster;  // clusters launched, CTAs per cluster
  int x_vec;
};

// The units of a group split over its warps: warp v streams units [Start(v), Start(v + 1)); WarpOf(u) is the warp
// holding unit u. 32-bit: units x warps < 2^31 (ConfigSupported).
struct FlatSplit {
  int units, warps;
  __device__ __forceinline__ int Start(int v) const { return units * v / warps; }
  __device__ __forceinline__ int WarpOf(int u) const { return ((u + 1) * warps - 1) / units; }
};

template <int MT, int W, int S>
__global__ void __launch_bounds__(W * 32, (W == 16 ? 1 : 2)) FlatDecodeKernel(const GemmArgs a, const FlatShape sh) {
  extern __shared__ __align__(1024) uint8_t smem[];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int cr = static_cast<int>(ClusterRank());
  const int group = static_cast<int>(blockIdx.x) / sh.cluster;
  const int band_lo = sh.nb * group / sh.groups;  // nb x groups < 2^31 (ConfigSupported)
  const int kt = sh.kt;
  const FlatSplit split{(sh.nb * (group + 1) / sh.groups - band_lo) * kt, sh.cluster * W};
  const int cta_v0 = cr * W;
  const int u0 = split.Start(cta_v0 + warp), nkt = split.Start(cta_v0 + warp + 1) - u0;
  const int first_band = u0 / kt, k_first = u0 - first_band * kt;
  const int n_first = min(nkt, kt - k_first);  // the run's k-tiles in its first band; the rest are in the next one
  const int64_t token0 = static_cast<int64_t>(blockIdx.y) * MT;
  const int mvalid = static_cast<int>(a.m - token0 < MT ? a.m - token0 : MT);
  // This CTA's bands [band_a, band_b] (every warp has units: ConfigSupported), and for band b the ranks touching it.
  const int cta_u0 = split.Start(cta_v0), cta_u1 = split.Start(cta_v0 + W);
  const int band_a = cta_u0 / kt, band_b = (cta_u1 - 1) / kt;
  auto first_rank = [&](int b) { return split.WarpOf(b * kt) / W; };
  auto last_rank = [&](int b) { return split.WarpOf(b * kt + kt - 1) / W; };

  uint8_t* ring = smem + warp * S * kTileBytes;
  uint64_t* rx_bar = reinterpret_cast<uint64_t*>(smem + W * S * kTileBytes);
  float* rx = reinterpret_cast<float*>(rx_bar + 2);  // [sending rank - this rank - 1][MT x 64], quads of 4 rows
  if (sh.cluster > 1) {
    if (threadIdx.x == 0) {
      MbarInit(rx_bar, 1);
      const int receive_from = first_rank(band_b) == cr ? last_rank(band_b) - cr : 0;
      if (receive_from > 0) MbarArriveExpectTx(rx_bar, static_cast<uint32_t>(receive_from * mvalid * 64 * 4));
      FenceBarrierInit();
    }
    ClusterArriveRelaxed();  // waited for before the first remote store: every receive barrier is initialised
  }

  // The scales and biases of this thread's quad in the CTA's last band now, the other bands' lines into L2: loaded
  // after the last k-tile they are a DRAM round trip at the end of every CTA (see DecodeKernel).
  const bool has_quad = static_cast<int>(threadIdx.x) < mvalid * 16;
  QuadScales last_scales;
  if (has_quad) last_scales.Load(a, (band_lo + band_b) * 64 + (static_cast<int>(threadIdx.x) & 15) * 4);
  if (static_cast<int>(threadIdx.x) < band_b - band_a) {
    const int n = (band_lo + band_a + static_cast<int>(threadIdx.x)) * 64;
    if (n < a.n) {
      PrefetchL2(a.scales + n);
      if (a.bias != nullptr) PrefetchL2(a.bias + n);
    }
  }

  const int64_t unit0 = static_cast<int64_t>(band_lo) * kt + u0;
  const LaneCopies<S> copies(a.w + unit0 * kSeg2TileBytes,
                             a.w + static_cast<int64_t>(sh.np) * sh.kp / 4 + unit0 * kSeg4TileBytes, ring, lane);
  for (int i = 0; i < S - 1; ++i) copies.Issue(i, nkt);

  float acc[2][4][MT / 8][4];  // [band of the run][row block][8-token group][fragment]
  ZeroAccumulators<MT>(acc[0]);
  ZeroAccumulators<MT>(acc[1]);

  ActivationRows<MT> xrows;
  xrows.Init(a, token0, lane);
  auto k_tile = [&](int i) { return k_first + i >= kt ? k_first + i - kt : k_first + i; };
  uint32_t xa[4][MT / 8][2], xb[4][MT / 8][2];
  if (nkt > 0) xrows.Load(a, token0, k_first, lane, sh.x_vec, xa);
  auto step = [&](int i, const uint32_t (&xc)[4][MT / 8][2], uint32_t (&xn)[4][MT / 8][2], float (&sum)[4][MT / 8][4]) {
    if (i + 1 < nkt) xrows.Load(a, token0, k_tile(i + 1), lane, sh.x_vec, xn);
    copies.Issue(i + S - 1, nkt);
    CpAsyncWait<S - 1>();
    __syncwarp();
    ConsumeTile<MT>(reinterpret_cast<const uint32_t*>(ring + (i % S) * kTileBytes), lane, xc, sum);
    __syncwarp();  // the lanes' reads of this stage are complete before a later Issue refills it
  };
  // Tiles [begin, end) into one accumulator set, starting from the activations in xa (unrolled by two, so the
  // prefetched set is never copied, except once after an odd count, when the next run needs it in xa).
  auto run = [&](int begin, int end, float (&sum)[4][MT / 8][4]) {
    int i = begin;
    for (; i + 1 < end; i += 2) {
      step(i, xa, xb, sum);
      step(i + 1, xb, xa, sum);
    }
    if (i < end) {
      step(i, xa, xb, sum);
#pragma unroll
      for (int s = 0; s < 4; ++s)
#pragma unroll
        for (int nt = 0; nt < MT / 8; ++nt) {
          xa[s][nt][0] = xb[s][nt][0];
          xa[s][nt][1] = xb[s][nt][1];
        }
    }
  };
  run(0, n_first, acc[0]);
  run(n_first, nkt, acc[1]);
  CpAsyncWait<0>();

  // ---- reduction ----
  // Each warp's partial sums go into its own ring ([band of the run][token][64 rows + 4]), which it has finished with.
  constexpr int kSlotFloats = S * kTileBytes / 4;
  constexpr int kSecond = MT * kDecodeRowStride;
  static_assert(2 * MT * kDecodeRowStride <= kSlotFloats, "a warp's two partial sums fit in its ring");
  float* part = reinterpret_cast<float*>(smem);
  WritePartials<MT>(part + warp * kSlotFloats, lane, mvalid, acc[0]);
  if (n_first < nkt) WritePartials<MT>(part + warp * kSlotFloats + kSecond, lane, mvalid, acc[1]);
  if (sh.cluster > 1) ClusterWait();
  __syncthreads();
  const bool vec = QuadStoresAligned(a);
  const int quads = mvalid * 16;  // of one band: tokens x 16 quads of 4 rows; <= 256 <= threads (W >= 8)
  for (int b = band_a; b <= band_b; ++b) {
    const int v_first = split.WarpOf(b * kt), v_last = split.WarpOf(b * kt + kt - 1);
    const int r_first = v_first / W, r_last = v_last / W;
    const int qd = static_cast<int>(threadIdx.x);
    if (qd >= quads) continue;
    // The CTA's warps on band b, [l0, l1]; only the first can hold it as the second band of its run.
    const int l0 = max(v_first, cta_v0) - cta_v0, l1 = min(v_last, cta_v0 + W - 1) - cta_v0;
    const int second = (v_first >= cta_v0 && split.Start(v_first) < b * kt) ? kSecond : 0;
    const float* src = part + (qd >> 4) * kDecodeRowStride + (qd & 15) * 4;
    float4 sum = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
    for (int w0 = 0; w0 < W; w0 += 8) {  // 8 loads issued before their adds (clamped, always valid addresses)
      float4 v[8];
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const int wc = min(max(w0 + j, l0), l1);
        v[j] = *reinterpret_cast<const float4*>(src + wc * kSlotFloats + (wc == l0 ? second : 0));
      }
#pragma unroll
      for (int j = 0; j < 8; ++j)
        if (w0 + j >= l0 && w0 + j <= l1) AddTo(sum, v[j]);
    }
    if (r_first < cr) {  // an earlier rank owns the band: send it this CTA's sum
      const uint32_t slot = SmemAddr(rx) + 16u * static_cast<uint32_t>((cr - r_first - 1) * MT * 16 + qd);
      StoreRemoteAsync(MapShared(slot, static_cast<unsigned>(r_first)), sum,
                       MapShared(SmemAddr(rx_bar), static_cast<unsigned>(r_first)));
      continue;
    }
    if (r_last > cr) {  // this CTA owns it and later ranks hold parts: add theirs in rank order
      MbarWait<true>(rx_bar, 0);
      for (int d = 0; d < r_last - cr; ++d) AddTo(sum, *reinterpret_cast<const float4*>(rx + (d * MT * 16 + qd) * 4));
    }
    const int n = (band_lo + b) * 64 + (qd & 15) * 4;
    if (n >= a.n) continue;
    if (b == band_b) {
      StoreQuad(a, token0 + (qd >> 4), n, sum, last_scales, vec);
    } else {
      QuadScales scales;
      scales.Load(a, n);
      StoreQuad(a, token0 + (qd >> 4), n, sum, scales, vec);
    }
  }
}

// ------------------------------------------------------------------------------------------------------------
// Wgmma kernel (sm_90a)
// ------------------------------------------------------------------------------------------------------------
struct WgShape {
  int np, kp, kt, nb;
  int cluster;  // CTAs per cluster: they split one tile's K (or, among the first `whole` CTAs, run a tile each)
  int ntt;      // token tiles
  int whole;    // CTAs (a multiple of `cluster`) that each run a whole tile before the split tiles start
};

template <int T, int BPW, int kCtas = 1>
struct WgLayout {
  // At T = 64 with one CTA per SM, 8 stages (v27): with 6 a CTA that has its SM to itself waits for its copies (H200,
  // M = 64: 4096 x 4096 in 3 splits 12.0 -> 11.0 us, 8192 x 28672 in 2 splits 82.5 -> 71.5 us); 10 or 12 stages
  // measured slower than 8, and the two-CTA variant keeps 6 (two of them share an SM's shared memory). Deeper rings
  // at T = 128 and 256 (8 and 5 stages) and a third A-fragment buffer (wgmma.wait_group 2) measured no faster at
  // M = 64 and 1-3 % slower at M = 1024 (docs/cuda-kernel.md, v16).
  static constexpr int kStages = T == 256 ? 4 : (T == 128 ? 5 : (kCtas == 2 ? 6 : 8));
  // At T = 64, the weights of two consecutive k-tiles per copy (stages 2q and 2q+1 hold band j's 2-bit words of both,
  // then its 4-bit words of both: one 2 KiB and one 4 KiB copy per band instead of two of 1 and 2 KiB): fewer,
  // larger copies stream faster (docs/cuda-kernel.md, v23-v24). Not at T = 128 and 256, whose rings of 5 and 4
  // stages would lose a stage of lookahead (4-6 % slower at 256 tokens, v23); three k-tiles per copy at T = 64 were
  // 3 % slower than two (up to 10 % with one CTA per SM, v24).
  static constexpr int kPer = T == 64 ? 2 : 1;
  static_assert(kStages % kPer == 0, "a group of kPer k-tiles shares kPer consecutive stages");
  static constexpr int kXTile = T * 128;
  static constexpr int kWTile = 2 * BPW * kTileBytes;
  static constexpr int kRows = 128 * BPW;
  static constexpr int kRedStride = kRows + 4;
  static constexpr int kPipe = kStages * (kXTile + kWTile);
  static constexpr int kRed = T * kRedStride * 4;
  static constexpr int kBarOffset = (kPipe > kRed ? kPipe : kRed);
  static constexpr int kSmem = kBarOffset + 2 * kStages * 8 + 1024;  // + alignment slack
};

static_assert(WgLayout<64, 2>::kSmem <= kMaxSmemPerBlock && WgLayout<128, 2>::kSmem <= kMaxSmemPerBlock &&
                  WgLayout<128, 1>::kSmem <= kMaxSmemPerBlock && WgLayout<256, 1>::kSmem <= kMaxSmemPerBlock,
              "the wgmma kernel's shared memory exceeds Hopper's 227 KiB per block");
static_assert(2 * (WgLayout<64, 1, 2>::kSmem + 1024) <= 233472,
              "two CTAs of the x2 variant (+ 1 KiB reserved each) must fit an SM's 228 KiB of shared memory");

template <int T, int BPW, int kCtas>
__global__ void __launch_bounds__(kWgThreads, kCtas)
    WgmmaKernel(const __grid_constant__ CUtensorMap x_map, const GemmArgs a, const WgShape sh) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using L = WgLayout<T, BPW, kCtas>;
  extern __shared__ __align__(1024) uint8_t smem_raw[];
  // 1024-byte alignment for the 128-byte swizzle, computed in the shared window so that every access below stays a
  // shared-memory access (a round trip through uintptr_t makes the compiler fall back to generic loads).
  uint8_t* smem = smem_raw + ((1024u - (SmemAddr(smem_raw) & 1023u)) & 1023u);
  uint8_t* xs = smem;                                      // [stages][T rows of 128 B], swizzled
  uint8_t* ws = smem + L::kStages * L::kXTile;             // [stages][2*BPW bands][3 KiB]
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + L::kBarOffset);
  uint64_t* empty = full + L::kStages;

  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int role = warp >> 2;  // 0: producer warpgroup, 1 and 2: consumer warpgroups
  // Tiles are numbered (band group, token tile): the token tiles of one band group run side by side, so the weights
  // they share come from DRAM once. The first `whole` CTAs run one tile each over all of K (the full waves); after
  // them the CTAs of each cluster split one tile's K (the last wave: more CTAs than tiles, so no SM idles).
  const int bx = static_cast<int>(blockIdx.x);
  const bool split = bx >= sh.whole;  // the same for every CTA of a cluster (`whole` is a multiple of the cluster)
  const int splits = split ? sh.cluster : 1;
  const int cr = split ? static_cast<int>(ClusterRank()) : 0;  // split-K index
  const int ctile = split ? sh.whole + (bx - sh.whole) / sh.cluster : bx;
  const int group = ctile / sh.ntt;
  const int band0 = group * 2 * BPW;
  const int64_t token0 = static_cast<int64_t>(ctile % sh.ntt) * T;
  const int kt0 = static_cast<int>(static_cast<int64_t>(sh.kt) * cr / splits);
  const int kt1 = static_cast<int>(static_cast<int64_t>(sh.kt) * (cr + 1) / splits);
  const int nkt = kt1 - kt0;

  if (threadIdx.x == 0) {
    for (int d = 0; d < L::kStages; ++d) {
      MbarInit(&full[d], 1);
      MbarInit(&empty[d], 8);  // one arrival per consumer warp
    }
    FenceBarrierInit();
  }
  __syncthreads();

  if (role == 0) {
    // ---- producer: one thread streams the activation tile and the bands' weights of every k-tile into the ring ----
    SetMaxRegisters<false, WgRegs<kCtas>::kProducer>();
    if (threadIdx.x == 0) {
      PrefetchTensorMap(&x_map);  // the activation copies' descriptor, fetched while the barriers and policy are set up
      const uint64_t policy = WeightPolicy(sh.ntt == 1);
      int valid = 0;
      for (int j = 0; j < 2 * BPW; ++j) valid += (band0 + j < sh.nb) ? 1 : 0;
      const uint32_t stage_bytes = static_cast<uint32_t>(L::kXTile + valid * kTileBytes);
      for (int i = 0; i < nkt; ++i) {
        const int st = i % L::kStages;
        const int kt = kt0 + i;
        if (st % L::kPer == 0) {
          // The weights of k-tiles i .. i + cnt - 1 (cnt = kPer but at the end) go into this stage group, whose stages
          // must all be free; their bytes complete on this stage's barrier, which the group's later tiles' consumers
          // also passed.
          const int cnt = min(L::kPer, nkt - i);
          for (int h = 0; h < L::kPer; ++h)
            if (i + h >= L::kStages && i + h < nkt)
              MbarWait(&empty[st + h], (((i + h) / L::kStages) - 1) & 1);
          MbarArriveExpectTx(&full[st], stage_bytes + static_cast<uint32_t>(valid * kTileBytes * (cnt - 1)));
          TensorCopy2d(xs + st * L::kXTile, &x_map, kt * 64, static_cast<int>(token0), &full[st]);
          for (int j = 0; j < 2 * BPW; ++j) {
            const int band = band0 + j;
            if (band < sh.nb) {
              uint8_t* dst = ws + st * L::kWTile + j * kTileBytes * L::kPer;  // st is the group's first stage
              const int64_t tile = static_cast<int64_t>(band) * sh.kt + kt;
              BulkCopy(dst, a.w + tile * kSeg2TileBytes, kSeg2TileBytes * cnt, &full[st], policy);
              BulkCopy(dst + kSeg2TileBytes * L::kPer,
                       a.w + static_cast<int64_t>(sh.np) * sh.kp / 4 + tile * kSeg4TileBytes, kSeg4TileBytes * cnt,
                       &full[st], policy);
            }
          }
        } else {  // a later stage of a group: its activation tile only
          MbarArriveExpectTx(&full[st], static_cast<uint32_t>(L::kXTile));
          TensorCopy2d(xs + st * L::kXTile, &x_map, kt * 64, static_cast<int>(token0), &full[st]);
        }
      }
    }
    // The producer warpgroup only takes part in the block- and cluster-wide barriers of the epilogue below.
    if (splits == 1) __syncthreads(); else ClusterSync();
    if (splits > 1) ClusterSync();
    return;
  }

  // ---- consumers: warp wi of warpgroup wg converts block t = wi of the wg's bands and issues the wgmmas ----
  SetMaxRegisters<true, WgRegs<kCtas>::kConsumer>();
  const int wg = role - 1, wi = warp & 3;
  float acc[BPW][T / 2];
#pragma unroll
  for (int j = 0; j < BPW; ++j)
#pragma unroll
    for (int e = 0; e < T / 2; ++e) acc[j][e] = 0.0f;
  // A fragments of two k-tiles (the one the tensor cores may still read, and the next): [tile parity][slice][band].
  uint32_t frag[2][4][BPW][4];
#pragma unroll
  for (int r = 0; r < 2; ++r)
#pragma unroll
    for (int s = 0; s < 4; ++s)
#pragma unroll
      for (int j = 0; j < BPW; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) frag[r][s][j][e] = 0u;
  const int shift = (wi & 1) * 4;  // block B of a 2-bit word pair
  // This lane's words of band j in stage st (group g = st / kPer, h = st % kPer): the band's block at
  // g * kPer * kWTile + j * kPer * 3 KiB holds the 2-bit words of its kPer k-tiles (1 KiB each), then their 4-bit
  // words (2 KiB each); the 2-bit word of slice s is at +64 s words, the 4-bit word at +128 s words.
  const uint32_t w_lane =
      SmemAddr(ws) + static_cast<uint32_t>(wg * BPW * kTileBytes * L::kPer) + 4u * ((wi >> 1) * 32 + lane);
  const uint32_t w4_lane = 1024u * L::kPer + 4u * (wi * 32) - 4u * ((wi >> 1) * 32);
  const uint32_t x_base = SmemAddr(xs);
  // The epilogue's column quad (256 consumer threads over kRows / 4 quads, 32 or 64, which divide 256: each thread
  // keeps one, for all its tokens) and its scales and bias, loaded as FP16 pairs (4 registers, not 8: the two-CTA
  // variant has 104 per consumer thread) here, before the k-tile loop, so that their DRAM latency hides behind it.
  // Loaded after the loop (v18-v25, before the cluster exchange) they cost ~1-3 % at 64 tokens (v26).
  constexpr int kQuads = L::kRows / 4;
  static_assert(256 % kQuads == 0, "every consumer thread keeps one column quad");
  const int ct = static_cast<int>(threadIdx.x) - 128;  // consumer thread index, 0..255
  const int r4 = (ct % kQuads) * 4;
  const int n = band0 * 64 + r4;
  QuadScales scales;
  scales.Load(a, n);

  // The ring position of the current tile (stage, phase parity) and the previous tile's stage, kept as counters:
  // i % kStages and i / kStages cost ~10 instructions per tile.
  int st = 0, prev_st = 0;
  uint32_t phase = 0;
  // One k-tile: convert its 4 slices x BPW bands, issue all their wgmmas as one group, retire the previous group and
  // hand its stage back to the producer. (Waiting for the next tile's stage and reading its words before retiring the
  // previous group, so that the two latencies overlap, measured no faster: docs/cuda-kernel.md, v24.)
  auto tile = [&](int i, uint32_t (&fr)[4][BPW][4]) {
    MbarWait(&full[st], phase);
    const int h = st % L::kPer;
    const uint32_t wst = w_lane + static_cast<uint32_t>((st - h) * L::kWTile + 1024 * h);
    uint32_t w2[4][BPW], w4[4][BPW];
#pragma unroll
    for (int s = 0; s < 4; ++s)
#pragma unroll
      for (int j = 0; j < BPW; ++j) {
        w2[s][j] = LoadShared32(wst + j * kTileBytes * L::kPer + 4u * 64 * s);
        w4[s][j] = LoadShared32(wst + j * kTileBytes * L::kPer + w4_lane + 1024u * h + 4u * 128 * s);
      }
#pragma unroll
    for (int s = 0; s < 4; ++s)
#pragma unroll
      for (int j = 0; j < BPW; ++j) {
        uint32_t xlo, xhi;
        // Shifting the 2-bit word first equals shifting both helper words on every bit DequantBlock reads (they
        // differ only in bits 2 and 30, which no kSignE2Select byte takes): one shift per slice instead of two.
        SpreadSignE2(w2[s][j] << shift, xlo, xhi);
        DequantBlock(xlo, xhi, w4[s][j], fr[s][j]);
      }
    const uint32_t xaddr = x_base + static_cast<uint32_t>(st * L::kXTile);
    WgmmaFence();
#pragma unroll
    for (int s = 0; s < 4; ++s)
#pragma unroll
      for (int j = 0; j < BPW; ++j) Wgmma<T>::Run(acc[j], fr[s][j], SwizzledKMajorDesc(xaddr + 32 * s));
    WgmmaCommit();
    WgmmaWait<1>();  // the previous tile's group is done: its stage and its fragments are free
    if (i > 0 && lane == 0) MbarArrive(&empty[prev_st]);
    prev_st = st;
    st = st + 1 == L::kStages ? 0 : st + 1;
    phase ^= st == 0 ? 1u : 0u;
  };
  // Unrolled by two with no conditional inside, so that on every path the fragments being overwritten belong to a
  // retired group (ptxas otherwise serialises the wgmmas, C7513).
  int i = 0;
  for (; i + 1 < nkt; i += 2) {
    tile(i, frag[0]);
    tile(i + 1, frag[1]);
  }
  if (i < nkt) tile(i, frag[0]);

  // ---- epilogue: FP32 partials to shared memory, reduce across the cluster, scale, store ----
  WgmmaWait<0>();
  NamedBarrierSync(1, 256);  // both consumer warpgroups are done with the ring, which the partials reuse
  float* red = reinterpret_cast<float*>(smem);
  {
    const int g = lane >> 2, q = lane & 3;
#pragma unroll
    for (int j = 0; j < BPW; ++j)
#pragma unroll
      for (int e = 0; e < T / 2; ++e) {
        const int row = (wg * BPW + j) * 64 + 16 * wi + g + 8 * ((e >> 1) & 1);
        const int tok = 8 * (e >> 2) + 2 * q + (e & 1);
        red[tok * L::kRedStride + row] = acc[j][e];
      }
  }
  if (splits == 1) __syncthreads(); else ClusterSync();
  // CTA rank cr stores tokens [T*cr/splits, T*(cr+1)/splits) of the tile, summed over the cluster.
  const int tok_begin = T * cr / splits, tok_end = T * (cr + 1) / splits;
  if (n < a.n) {
    const bool vec = QuadStoresAligned(a);
    const int tok_first = tok_begin + ct / kQuads, tok_step = 256 / kQuads;
    if (splits == 1) {
      for (int tok = tok_first; tok < tok_end && token0 + tok < a.m; tok += tok_step) {
        StoreQuad(a, token0 + tok, n, *reinterpret_cast<const float4*>(red + tok * L::kRedStride + r4), scales, vec);
      }
    } else {
      // Each token's reads of the cluster's partials (a DSMEM round trip each) are issued together, as predicated
      // loads, before the adds: guarded by a branch per rank they ran one round trip after another (~2 us of a
      // 14 us kernel with 7 ranks, measured). Ranks beyond the cluster add +0.0, which changes no sum.
      const float* from[kMaxCluster];
#pragma unroll
      for (int c = 0; c < kMaxCluster; ++c) from[c] = ClusterMap(red + r4, static_cast<unsigned>(c < splits ? c : 0));
      for (int tok = tok_first; tok < tok_end && token0 + tok < a.m; tok += tok_step) {
        float4 v[kMaxCluster];
#pragma unroll
        for (int c = 0; c < kMaxCluster; ++c)
          v[c] = c < splits ? *reinterpret_cast<const float4*>(from[c] + tok * L::kRedStride)
                            : make_float4(0.f, 0.f, 0.f, 0.f);
        float4 sum = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
        for (int c = 0; c < kMaxCluster; ++c) AddTo(sum, v[c]);  // in rank order: independent of timing
        StoreQuad(a, token0 + tok, n, sum, scales, vec);
      }
    }
  }
  if (splits > 1) ClusterSync();  // no CTA leaves while another still reads its shared memory
#else
  (void)x_map; (void)a; (void)sh;
  __trap();
#endif
}

// ------------------------------------------------------------------------------------------------------------
// Dequantize to FP16 (baseline for the benchmark; tests)
// ------------------------------------------------------------------------------------------------------------
__global__ void DequantizeKernel(const uint8_t* w, const uint16_t* scales, int n, int k, int np, int kp, uint16_t* out) {
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= static_cast<int64_t>(n) * k) return;
  const int row = static_cast<int>(idx / k), col = static_cast<int>(idx % k);
  const int band = row / 64, r = row % 64, t = r / 16, hi = (r % 16) / 8, g = r % 8;
  const int s = col / 16, kh = (col % 16) / 8, q = (col % 8) / 2, odd = col % 2;
  const int lane = 4 * g + q, v = 4 * kh + 2 * hi + odd;
  const int64_t j4 = (static_cast<int64_t>(band) * (kp / 16) + s) * 4 + t;
  const int64_t j2 = (static_cast<int64_t>(band) * (kp / 16) + s) * 2 + t / 2;
  const uint32_t* seg2 = reinterpret_cast<const uint32_t*>(w);
  const uint32_t* seg4 = reinterpret_cast<const uint32_t*>(w + static_cast<int64_t>(np) * kp / 4);
  const int slot4 = 4 * (1 - v % 2) + 2 * ((v / 2) % 2) + v / 4;
  const int slot2 = 8 * (1 - v % 2) + 4 * ((v / 2) % 2) + 2 * (t % 2) + v / 4;
  const uint32_t nib = (seg4[32 * j4 + lane] >> (28 - 4 * slot4)) & 0xF;
  const uint32_t top = (seg2[32 * j2 + lane] >> (30 - 2 * slot2)) & 0x3;
  const uint32_t code = top << 4 | nib;
  const float value = __half2float(__ushort_as_half(PlacedHalfBits(code))) * 4096.0f;
  const float scale = __half2float(__ushort_as_half(scales[row]));
  out[idx] = __half_as_ushort(__float2half_rn(value * scale));
}

// ------------------------------------------------------------------------------------------------------------
// Host side
// ------------------------------------------------------------------------------------------------------------
using EncodeTiledFn = CUresult (*)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*, const cuuint64_t*,
                                   const cuuint64_t*, const cuuint32_t*, const cuuint32_t*, CUtensorMapInterleave,
                                   CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill);

struct Runtime {
  std::once_flag once;
  cudaError_t init_error = cudaSuccess;
  DeviceInfo info;
  EncodeTiledFn encode = nullptr;
  int decode_ctas_per_sm[3][kDecodeVariantCount] = {};  // [MT = 8, 16, 32][variant]
  // CTAs of the wgmma kernel that run at once with clusters of 1..8 CTAs (clusters must fit a GPC, so a wave holds
  // fewer CTAs than SMs once the cluster grows): [variant: t64b1 t64b2 t128b1 t128b2 t256b1 t64b1x2][cluster - 1].
  int wg_ctas_per_wave[6][kMaxCluster] = {};
  // Clusters of the flat decode kernel that run at once: [FlatVariant][cluster - 1].
  int flat_groups_per_wave[4][kMaxCluster] = {};
};
Runtime g_runtime[16];

// Bytes of a decode stage: the weight tiles of the warp's bands, then `x_rows` staged activation rows of 64 k.
constexpr int DecodeStageBytes(int warp_bands, int x_rows) { return warp_bands * kTileBytes + x_rows * 128; }

// Activation rows per stage of a decode launch: min(tile, M) when staged, else none (the launch and the shared-memory
// bound of ConfigSupported must agree).
int DecodeStagedRows(bool staged, int64_t m, int tile) {
  return staged ? static_cast<int>(std::min<int64_t>(m, tile)) : 0;
}

// Dynamic shared memory of a decode launch: the warps' rings and stage barriers, then, with a cluster, the barrier and
// buffer that receive the other CTAs' partial sums (one slot of bands x tile x 64 / cluster floats per rank).
constexpr int DecodeSmemBytes(int warps, int stages, int tile = 8, int bands = 1, int cluster = 1, int warp_bands = 1,
                              int x_rows = 0) {
  return warps * stages * (DecodeStageBytes(warp_bands, x_rows) + 8) +
         (cluster > 1 ? 16 + bands * warp_bands * tile * 64 * 4 : 0);
}

// The decode variants compiled: {warps per CTA, stages per warp, weights by cp.async instead of bulk copies, bands
// per warp, staged activations}. The two-band ones are built for 8 and 16 tokens (8 x 2: 8 tokens only; at 16 it
// spills, 128 registers); the staged ones (one band per warp: in the v21 sweep two were never faster) for 8 and 16.
constexpr int kDecodeVariants[kDecodeVariantCount][5] = {
    {8, 4, 0, 1, 0}, {4, 8, 0, 1, 0}, {4, 6, 0, 1, 0}, {16, 3, 0, 1, 0}, {8, 4, 1, 1, 0},
    {16, 3, 1, 1, 0}, {8, 2, 1, 2, 0}, {4, 4, 1, 2, 0}, {8, 2, 1, 1, 1}, {8, 3, 1, 1, 1},
    {8, 4, 1, 1, 1},  {4, 4, 1, 1, 1}, {16, 2, 1, 1, 1}};
int DecodeVariant(int warps, int stages, bool cp_async, int warp_bands, bool staged) {
  for (int v = 0; v < kDecodeVariantCount; ++v)
    if (kDecodeVariants[v][0] == warps && kDecodeVariants[v][1] == stages &&
        kDecodeVariants[v][2] == (cp_async ? 1 : 0) && kDecodeVariants[v][3] == warp_bands &&
        kDecodeVariants[v][4] == (staged ? 1 : 0))
      return v;
  return -1;
}

template <int MT, int W, int S, bool B = true, int P = 1, bool X = false>
cudaError_t PrepareDecode(int* ctas_per_sm) {
  // The largest launch: a cluster's receive buffer with the most bands (ConfigSupported keeps every launch within it).
  int device = 0, optin = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
  if (e == cudaSuccess)
    e = cudaFuncSetAttribute(DecodeKernel<MT, W, S, B, P, X>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             std::min(optin, kMaxSmemPerBlock));
  if (e == cudaSuccess)
    e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(ctas_per_sm, DecodeKernel<MT, W, S, B, P, X>, W * 32,
                                                      DecodeSmemBytes(W, S, MT, 1, 1, P, X ? 1 : 0));
  if (*ctas_per_sm < 1) *ctas_per_sm = 1;
  return e;
}

// A launch configuration with a 1-D cluster of `cluster` CTAs along x (no cluster attribute when `cluster` is 0: GPUs
// before sm_90). Not copyable: the configuration points at the attribute stored beside it.
struct ClusterLaunch {
  cudaLaunchConfig_t cfg = {};
  cudaLaunchAttribute attr[1] = {};
  ClusterLaunch(dim3 grid, int threads, int smem_bytes, cudaStream_t stream, int cluster) {
    cfg.gridDim = grid;
    cfg.blockDim = dim3(static_cast<unsigned>(threads), 1, 1);
    cfg.dynamicSmemBytes = static_cast<size_t>(smem_bytes);
    cfg.stream = stream;
    if (cluster > 0) {
      attr[0].id = cudaLaunchAttributeClusterDimension;
      attr[0].val.clusterDim.x = static_cast<unsigned>(cluster);
      attr[0].val.clusterDim.y = 1;
      attr[0].val.clusterDim.z = 1;
      cfg.attrs = attr;
      cfg.numAttrs = 1;
    }
  }
  ClusterLaunch(const ClusterLaunch&) = delete;
  ClusterLaunch& operator=(const ClusterLaunch&) = delete;
};

// How many clusters of `cluster` CTAs of a kernel can be resident at once (clusters must fit a GPC, so this is
// below sm_count / cluster for some sizes); -1 when the query fails (its error is cleared).
template <typename... Params>
int MaxActiveClusters(void (*kernel)(Params...), int threads, int smem_bytes, int cluster, int sm_count) {
  const ClusterLaunch launch(dim3(static_cast<unsigned>(cluster * sm_count), 1, 1), threads, smem_bytes, nullptr,
                             cluster);
  int clusters = 0;
  if (cudaOccupancyMaxActiveClusters(&clusters, kernel, &launch.cfg) != cudaSuccess) {
    (void)cudaGetLastError();
    return -1;
  }
  return clusters;
}

// The flat decode variants compiled: tile 8/16 x {8 warps x 4 stages, 16 warps x 3 stages}, all cp.async.
constexpr int FlatVariant(int tile, int warps) { return (tile == 16 ? 2 : 0) + (warps == 16 ? 1 : 0); }

// Dynamic shared memory of a flat decode launch: the warps' rings, then, with a cluster, the barrier and the buffer
// that receives up to cluster - 1 other ranks' sums of one band (tile x 64 floats each).
constexpr int FlatSmemBytes(int warps, int stages, int tile, int cluster) {
  return warps * stages * kTileBytes + (cluster > 1 ? 16 + (cluster - 1) * tile * 64 * 4 : 0);
}

template <int MT, int W, int S>
cudaError_t PrepareFlat(int (&groups_per_wave)[kMaxCluster], int sm_count) {
  cudaError_t e = cudaFuncSetAttribute(FlatDecodeKernel<MT, W, S>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       FlatSmemBytes(W, S, MT, kMaxCluster));
  for (int ci = 0; ci < kMaxCluster && e == cudaSuccess; ++ci) {
    const int cluster = ci + 1;
    const int clusters =
        MaxActiveClusters(FlatDecodeKernel<MT, W, S>, W * 32, FlatSmemBytes(W, S, MT, cluster), cluster, sm_count);
    groups_per_wave[ci] = clusters > 0 ? clusters : 0;  // a failed query leaves the variant unplanned
  }
  return e;
}

constexpr int WgVariant(int tile, int bands, int ctas_per_sm) {
  return ctas_per_sm == 2 ? 5 : (tile == 64 ? bands - 1 : (tile == 128 ? 1 + bands : 4));
}

template <int T, int BPW, int kCtas>
cudaError_t PrepareWgmma(int (&ctas_per_wave)[kMaxCluster], int sm_count) {
  cudaError_t e = cudaFuncSetAttribute(WgmmaKernel<T, BPW, kCtas>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       WgLayout<T, BPW, kCtas>::kSmem);
  for (int ci = 0; ci < kMaxCluster && e == cudaSuccess; ++ci) {
    const int cluster = ci + 1;
    int clusters =
        MaxActiveClusters(WgmmaKernel<T, BPW, kCtas>, kWgThreads, WgLayout<T, BPW, kCtas>::kSmem, cluster, sm_count);
    if (clusters < 0) clusters = sm_count / cluster;  // a failed query only costs the planner its estimate
    ctas_per_wave[ci] = clusters > 0 ? clusters * cluster : sm_count;
  }
  return e;
}

// The staged-activation variants (8 and up) of one token tile (occupancy with one activation row per stage).
template <int MT>
cudaError_t PrepareStagedDecode(int (&c)[kDecodeVariantCount]) {
  cudaError_t e = cudaSuccess;
  if ((e = PrepareDecode<MT, 8, 2, false, 1, true>(&c[8])) != cudaSuccess) return e;
  if ((e = PrepareDecode<MT, 8, 3, false, 1, true>(&c[9])) != cudaSuccess) return e;
  if ((e = PrepareDecode<MT, 8, 4, false, 1, true>(&c[10])) != cudaSuccess) return e;
  if ((e = PrepareDecode<MT, 4, 4, false, 1, true>(&c[11])) != cudaSuccess) return e;
  return PrepareDecode<MT, 16, 2, false, 1, true>(&c[12]);
}

cudaError_t InitRuntime(int device, Runtime& rt, const DeviceInfo& info) {
  cudaError_t e = cudaSuccess;
  int(&c)[3][kDecodeVariantCount] = rt.decode_ctas_per_sm;
  if ((e = PrepareDecode<8, 8, 4>(&c[0][0])) != cudaSuccess) return e;
  if ((e = PrepareDecode<8, 4, 8>(&c[0][1])) != cudaSuccess) return e;
  if ((e = PrepareDecode<8, 4, 6>(&c[0][2])) != cudaSuccess) return e;
  if ((e = PrepareDecode<16, 8, 4>(&c[1][0])) != cudaSuccess) return e;
  if ((e = PrepareDecode<16, 4, 8>(&c[1][1])) != cudaSuccess) return e;
  if ((e = PrepareDecode<16, 4, 6>(&c[1][2])) != cudaSuccess) return e;
  if ((e = PrepareDecode<32, 8, 4>(&c[2][0])) != cudaSuccess) return e;
  if ((e = PrepareDecode<32, 4, 8>(&c[2][1])) != cudaSuccess) return e;
  if ((e = PrepareDecode<32, 4, 6>(&c[2][2])) != cudaSuccess) return e;
  if ((e = PrepareDecode<8, 16, 3>(&c[0][3])) != cudaSuccess) return e;
  if ((e = PrepareDecode<16, 16, 3>(&c[1][3])) != cudaSuccess) return e;
  if ((e = PrepareDecode<32, 16, 3>(&c[2][3])) != cudaSuccess) return e;
  if ((e = PrepareDecode<8, 8, 4, false>(&c[0][4])) != cudaSuccess) return e;
  if ((e = PrepareDecode<16, 8, 4, false>(&c[1][4])) != cudaSuccess) return e;
  if ((e = PrepareDecode<32, 8, 4, false>(&c[2][4])) != cudaSuccess) return e;
  if ((e = PrepareDecode<8, 16, 3, false>(&c[0][5])) != cudaSuccess) return e;
  if ((e = PrepareDecode<16, 16, 3, false>(&c[1][5])) != cudaSuccess) return e;
  if ((e = PrepareDecode<32, 16, 3, false>(&c[2][5])) != cudaSuccess) return e;
  if ((e = PrepareDecode<8, 8, 2, false, 2>(&c[0][6])) != cudaSuccess) return e;
  if ((e = PrepareDecode<8, 4, 4, false, 2>(&c[0][7])) != cudaSuccess) return e;
  if ((e = PrepareDecode<16, 4, 4, false, 2>(&c[1][7])) != cudaSuccess) return e;
  if ((e = PrepareStagedDecode<8>(c[0])) != cudaSuccess) return e;
  if ((e = PrepareStagedDecode<16>(c[1])) != cudaSuccess) return e;
  if (info.cc_major >= 9) {
    int(&f)[4][kMaxCluster] = rt.flat_groups_per_wave;
    if ((e = PrepareFlat<8, 8, 4>(f[FlatVariant(8, 8)], info.sm_count)) != cudaSuccess) return e;
    if ((e = PrepareFlat<8, 16, 3>(f[FlatVariant(8, 16)], info.sm_count)) != cudaSuccess) return e;
    if ((e = PrepareFlat<16, 8, 4>(f[FlatVariant(16, 8)], info.sm_count)) != cudaSuccess) return e;
    if ((e = PrepareFlat<16, 16, 3>(f[FlatVariant(16, 16)], info.sm_count)) != cudaSuccess) return e;
  }
  if (info.has_wgmma) {
    int(&w)[6][kMaxCluster] = rt.wg_ctas_per_wave;
    if ((e = PrepareWgmma<64, 1, 1>(w[WgVariant(64, 1, 1)], info.sm_count)) != cudaSuccess) return e;
    if ((e = PrepareWgmma<64, 2, 1>(w[WgVariant(64, 2, 1)], info.sm_count)) != cudaSuccess) return e;
    if ((e = PrepareWgmma<128, 1, 1>(w[WgVariant(128, 1, 1)], info.sm_count)) != cudaSuccess) return e;
    if ((e = PrepareWgmma<128, 2, 1>(w[WgVariant(128, 2, 1)], info.sm_count)) != cudaSuccess) return e;
    if ((e = PrepareWgmma<256, 1, 1>(w[WgVariant(256, 1, 1)], info.sm_count)) != cudaSuccess) return e;
    if ((e = PrepareWgmma<64, 1, 2>(w[WgVariant(64, 1, 2)], info.sm_count)) != cudaSuccess) return e;
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult query;
#if CUDART_VERSION >= 12050
    e = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &query);
#else
    e = cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", &fn, cudaEnableDefault, &query);
#endif
    if (e != cudaSuccess) return e;
    if (query != cudaDriverEntryPointSuccess || fn == nullptr) return cudaErrorNotSupported;
    rt.encode = reinterpret_cast<EncodeTiledFn>(fn);
  }
  (void)device;
  return cudaSuccess;
}

int CeilDiv(int64_t a, int64_t b) { return static_cast<int>((a + b - 1) / b); }

// Tiles of a wgmma problem: band groups (two warpgroups x `bands` 64-row bands) x token tiles.
int64_t WgTiles(int64_t m, int nb, int tile, int bands) {
  return static_cast<int64_t>(CeilDiv(nb, 2 * bands)) * CeilDiv(m, tile);
}

// CTAs launched for them: one per whole tile, `cluster` per split tile.
int64_t WgCtas(int64_t tiles, int cluster, int64_t whole_tiles) {
  return whole_tiles + (tiles - whole_tiles) * cluster;
}

GemmConfig PlanDecode(const DeviceInfo& info, int64_t m, int n, int k, bool x_aligned16) {
  GemmConfig c;
  c.kind = KernelKind::kDecode;
  c.tile = m <= 8 ? 8 : (m <= 16 ? 16 : 32);
  c.bands = 1;  // measured: one band per CTA, all warps splitting K, beats sharing activations across bands
  c.warps = 8;
  c.stages = 4;
  c.cluster = 1;
  if (info.cc_major < 9) return c;
  // Rules read off the H100/H200 sweeps (docs/cuda-kernel.md), each within a few % of the best configuration:
  // - split K across a cluster while the CTAs still fit one per SM and each warp keeps >= 4 k-tiles (a second CTA
  //   per SM through a larger cluster costs more in DSMEM reduction than it gains);
  // - weights by cp.async (2-10 % faster than 1-2 KiB bulk copies);
  // - 16 warps per CTA when there is one CTA per SM and >= 6 k-tiles per warp (the kernel is latency-bound at 8);
  // - 4 warps x 6 stages (3 CTAs per SM) when that turns two waves into one.
  const int nb = CeilDiv(n, 64), kt = CeilDiv(k, 64);
  const int64_t tiles = static_cast<int64_t>(nb) * CeilDiv(m, c.tile);
  while (c.cluster < 8 && tiles * c.cluster * 2 <= info.sm_count && kt / (c.cluster * 2 * 8) >= 4) c.cluster *= 2;
  c.cp_async = true;
  // Staged activations (v21) wherever they can run (8 or 16 tokens, K % 8 == 0, x 16-byte aligned): 2-14 % faster
  // than the plans below at one token and 3-28 % at 16 on the ten shapes (H100, A/B against v20). In the v21 sweeps
  // (H100 and H200; 1, 8 and 16 tokens) 8 warps x 2 stages with the cluster rule above was the best configuration or
  // within ~2 % of it, except with 8-token tiles on the layers of at least 3 x SMs bands (L3-8B and 70B gate+up),
  // where a cluster of two (shorter CTAs) is 4-15 % faster on both GPUs. With 16-token tiles the cluster of two gained
  // 1-4 % on H100 and lost 4-7 % on H200 there, so it is not taken.
  if (c.tile <= 16 && x_aligned16 && k % 8 == 0) {
    c.warps = 8;
    c.stages = 2;
    c.stage_activations = true;
    if (c.tile == 8 && c.cluster == 1 && tiles >= 3 * info.sm_count && kt / (2 * 8) >= 4) c.cluster = 2;
    return c;
  }
  const int64_t ctas = tiles * c.cluster;
  if (c.tile <= 16 && ctas <= info.sm_count && kt / (c.cluster * 16) >= 6) {
    c.warps = 16;
    c.stages = 3;
  } else if (ctas > 2 * info.sm_count && ctas <= 3 * info.sm_count) {
    c.warps = 4;
    c.stages = 6;
    c.cp_async = false;
  }
  // Two bands per warp (v20) at 16 tokens with more than three CTAs per SM (L3-8B and 70B gate+up): a 16-token tile
  // reads 2 KiB of activations from L2 per 3 KiB weight tile; sharing them between two bands measured 5-7 % (H100)
  // and 9-15 % (H200) faster than the one-band plan there, 3-11 % faster than the best one-band configuration of the
  // v20 sweeps. With fewer bands it halves the CTAs (or adds a cluster reduction) and loses (L2-7B gate+up, 344
  // bands: 3-4 % slower; the layers of 4096 or 8192 rows 5-40 %).
  if (c.tile == 16 && c.cluster == 1 && ctas > 3 * info.sm_count) {
    c.warps = 4;
    c.stages = 4;
    c.warp_bands = 2;
    c.cp_async = true;
    return c;
  }
  // The flat split (v19) when the CTAs would leave the SMs unevenly loaded: more CTAs than SMs, and the busiest SMs
  // with >= 1.3x the average (70B qkv: 160 CTAs on 132 SMs, 28 SMs with two). Clusters of 8 x 16 warps, one wave of
  // them, measured best or within 2 % of the best flat split on 70B qkv (H100/H200, 1 and 16 tokens: 27.3 / 32.4 us
  // and 21.2 / 28.3 us vs 27.6 / 34.2 and 22.9 / 31.7 us for the plan above). At 1.15-1.2x (L3-8B gate+up, L2-7B
  // gate+up) the flat split was within a few % either way, and it cannot help the layers with fewer CTAs than SMs.
  const int64_t busiest = (ctas + info.sm_count - 1) / info.sm_count;
  if (c.tile <= 16 && ctas > info.sm_count && busiest * info.sm_count * 10 >= 13 * ctas) {
    GemmConfig f = c;
    f.warps = 16;
    f.stages = 3;
    f.cp_async = true;
    f.cluster = 8;
    f.groups = FlatGroupsPerWave(info, f);
    if (f.groups > 0 && ConfigSupported(info, f, m, n, k, true)) return f;
  }
  return c;
}

// CTAs of one wgmma variant that run at once (cudaOccupancyMaxActiveClusters at PrepareDevice).
int CtasPerWave(const Runtime& rt, const DeviceInfo& info, int tile, int bands, int cluster, int ctas_per_sm) {
  const int ci = std::min(std::max(cluster, 1), kMaxCluster) - 1;
  const int per_wave = rt.wg_ctas_per_wave[WgVariant(tile, bands, ctas_per_sm)][ci];
  return per_wave > 0 ? per_wave : info.sm_count * ctas_per_sm;
}

// Estimated SM cycles of one wgmma configuration, used to rank them (docs/cuda-kernel.md, "Planner"): waves of CTAs
// (clusters must fit a GPC, so fewer CTAs per wave at larger clusters) x the k-tiles of a split x the cost of a k-tile
// (the slowest of tensor cores, the weight stream from DRAM at the whole machine's bandwidth, and the activation tile
// from L2, plus a fixed ~300 cycles) + the cluster reduction. Fitted to the H100 sweep within ~15 %.
// The two-CTAs-per-SM variant (x2): one wave of it takes 1.45x one CTA's time when some SM holds two CTAs, 1.2x when
// none does (fewer registers); more CTAs than a wave are costed as a stream (below). Fitted (v19) to the H100 and H200
// sweeps at M = 32, 64, 128 and 256, clusters of 1..8: the plan is 0.3 / 0.7 % slower than the best configuration on
// average at M = 32 / 64 (whole waves, as in v17: 1.1 / 2.2 %; 70B gate+up and 70B qkv at 64 tokens 5-8 % slower).
// Whole tiles (whole_tiles > 0): their full waves cost k-tiles x the k-tile cost, then the split waves as above.
double WgmmaCycles(const Runtime& rt, const DeviceInfo& info, int64_t m, int nb, int kt, int tile, int bands, int cluster,
                   int ctas_per_sm, int64_t whole_tiles) {
  const int64_t ctas = WgCtas(WgTiles(m, nb, tile, bands), cluster, whole_tiles);
  const int per_wave = CtasPerWave(rt, info, tile, bands, cluster, ctas_per_sm);
  const double tensor = 4.0 * bands * tile;             // 128*bands rows x tile tokens x 64 k at 2048 FMA per cycle
  const double weights = 424.0 * bands + 40.0 * (bands - 1);  // 6 KiB per band pair at ~14.5 B per SM-cycle
  const double activations = 3.2 * tile;                // tile x 128 B from L2 at ~40 B per SM-cycle
  // The fixed part: ~300 cycles; ~190 for the 64-token variants with one CTA per SM, whose 8-stage rings (v27) keep
  // their copies ahead (H200 sweep at M = 64: 8-14 % less time than with 6 stages at one band, 3-8 % at two).
  const double fixed = tile == 64 && ctas_per_sm == 1 ? 190.0 : 300.0;
  const double per_tile = std::max(tensor, std::max(weights, activations)) + fixed;
  const double splits_k = static_cast<double>(kt) / cluster;
  const double reduce = cluster > 1 ? 8.0 * bands * tile * cluster + 2000.0 : 0.0;
  const double cta = splits_k * per_tile + reduce;
  if (whole_tiles > 0) {  // full waves of whole tiles, then the split tiles (whole_tiles is a multiple of per_wave)
    const int64_t split_ctas = ctas - whole_tiles;
    return static_cast<double>(whole_tiles / per_wave) * (kt * per_tile) +
           static_cast<double>((split_ctas + per_wave - 1) / per_wave) * cta;
  }
  if (ctas_per_sm == 1) return static_cast<double>((ctas + per_wave - 1) / per_wave) * cta;
  if (ctas <= info.sm_count) return 1.2 * cta;
  if (ctas <= per_wave) return 1.45 * cta;
  // More CTAs than fit at once: each starts as soon as another finishes, so the time is their work at the rate of a
  // full wave (per_wave CTAs at 1/1.45 of one CTA's speed each) plus ~0.6 of a CTA's time while the last ones run down.
  return (static_cast<double>(ctas) * 1.45 / per_wave + 0.6) * cta;
}

GemmConfig PlanWgmma(const DeviceInfo& info, int64_t m, int n, int k) {
  const Runtime& rt = g_runtime[info.device & 15];
  const int nb = CeilDiv(n, 64), kt = CeilDiv(k, 64);
  GemmConfig best;
  best.kind = KernelKind::kWgmma;
  double best_cycles = 0.0;
  // One variant at every K split of 1..8 CTAs (a split keeps >= 8 k-tiles: 4096-wide layers at 64 tokens run best on
  // clusters of 6-7, e.g. L3-8B o 13.2 us at 7 vs 15.4 us at 4). Ties (within 3 %) go to the candidate ranked first:
  // the larger tile, more bands, fewer splits, one CTA per SM.
  const int first = m <= 64 ? 64 : (m <= 160 ? 128 : 256);
  auto consider = [&](int tile, int bands, int ctas_per_sm) {
    const int64_t tiles = WgTiles(m, nb, tile, bands);
    for (int cluster = 1; cluster <= kMaxCluster; ++cluster) {
      if (cluster > 1 && kt / cluster < 8) break;
      // Every tile split, or the full waves whole and only the last wave's tiles split: for the token tile that fits
      // M (with the smaller tile it measured slower than the model says: L3-8B qkv M = 512, t128 52.4 us vs t256
      // 43.3 us on H100). At 64 tokens since the 8-stage ring (v27): L2-7B gate+up M = 64 on H200, whole132 35.7 us
      // against 38.3-41.8 us for the two-CTA plans, which had filled the last wave better with 6 stages.
      const int per_wave = CtasPerWave(rt, info, tile, bands, cluster, ctas_per_sm);
      const int64_t whole = tiles / per_wave * per_wave;
      for (int64_t w : {int64_t{0}, whole}) {
        if (w > 0 && (cluster == 1 || ctas_per_sm != 1 || w == tiles || tile != first)) continue;
        const double cycles = WgmmaCycles(rt, info, m, nb, kt, tile, bands, cluster, ctas_per_sm, w);
        if (best_cycles == 0.0 || cycles < best_cycles * 0.97) {
          best_cycles = cycles;
          best.tile = tile;
          best.bands = bands;
          best.cluster = cluster;
          best.ctas_per_sm = ctas_per_sm;
          best.whole_tiles = static_cast<int>(w);
        }
      }
    }
  };
  // Token tiles that fit M (and the next smaller one, for narrow layers that need more CTAs), then two CTAs per SM.
  for (int tile = first; tile >= 64 && tile >= first / 2; tile /= 2)
    for (int bands = (tile == 256 ? 1 : 2); bands >= 1; --bands) consider(tile, bands, 1);
  if (first == 64) consider(64, 1, 2);
  return best;
}

// The kernels' view of N and K: padded to whole 64-row bands and 64-wide k-tiles (tcfpx pads the same way).
template <typename Shape>
void SetPaddedShape(const GemmArgs& a, Shape& sh) {
  sh.np = CeilDiv(a.n, 64) * 64;
  sh.kp = CeilDiv(a.k, 64) * 64;
  sh.kt = sh.kp / 64;
  sh.nb = sh.np / 64;
}

// Whether the decode kernels may load activations as 32-bit pairs (K even, x 4-byte aligned).
bool ActivationPairsAligned(const GemmArgs& a) {
  return (a.k % 2) == 0 && (reinterpret_cast<uintptr_t>(a.x) % 4) == 0;
}

template <int T, int BPW, int kCtas = 1>
cudaError_t LaunchWgmma(const Runtime& rt, const GemmArgs& a, const GemmConfig& c, cudaStream_t stream) {
  CUtensorMap map;
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(a.k), static_cast<cuuint64_t>(a.m)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(a.k) * 2};
  const cuuint32_t box[2] = {64, static_cast<cuuint32_t>(T)};
  const cuuint32_t elem[2] = {1, 1};
  const CUresult r = rt.encode(&map, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 2, const_cast<uint16_t*>(a.x), dims, strides,
                               box, elem, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                               CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) return cudaErrorInvalidValue;
  WgShape sh;
  SetPaddedShape(a, sh);
  sh.cluster = c.cluster;
  sh.ntt = CeilDiv(a.m, T);
  sh.whole = c.whole_tiles;
  const int64_t ctas = WgCtas(WgTiles(a.m, sh.nb, T, BPW), c.cluster, c.whole_tiles);
  const ClusterLaunch launch(dim3(static_cast<unsigned>(ctas), 1, 1), kWgThreads, WgLayout<T, BPW, kCtas>::kSmem,
                             stream, c.cluster);
  return cudaLaunchKernelEx(&launch.cfg, WgmmaKernel<T, BPW, kCtas>, map, a, sh);
}

template <int MT, int W, int S, bool B, int P = 1, bool X = false>
cudaError_t LaunchDecode(const DeviceInfo& info, const GemmArgs& a, const GemmConfig& c, cudaStream_t stream) {
  constexpr int kDecodeWarps = W;
  DecodeShape sh;
  SetPaddedShape(a, sh);
  sh.bands = c.bands;
  sh.kw = kDecodeWarps / c.bands;
  sh.cluster = c.cluster;
  sh.x_vec = ActivationPairsAligned(a) ? 1 : 0;
  sh.x_rows = DecodeStagedRows(X, a.m, MT);
  sh.stage_bytes = DecodeStageBytes(P, sh.x_rows);
  const ClusterLaunch launch(
      dim3(static_cast<unsigned>(CeilDiv(sh.nb, c.bands * P) * c.cluster), static_cast<unsigned>(CeilDiv(a.m, MT)), 1),
      kDecodeWarps * 32, DecodeSmemBytes(W, S, MT, c.bands, c.cluster, P, sh.x_rows), stream,
      info.cc_major >= 9 ? c.cluster : 0);
  return cudaLaunchKernelEx(&launch.cfg, DecodeKernel<MT, W, S, B, P, X>, a, sh);
}

// Decode variant v of kDecodeVariants.
template <int MT>
cudaError_t LaunchDecodeVariant(const DeviceInfo& info, const GemmArgs& a, const GemmConfig& c, int v,
                                cudaStream_t stream) {
  switch (v) {
    case 0: return LaunchDecode<MT, 8, 4, true>(info, a, c, stream);
    case 1: return LaunchDecode<MT, 4, 8, true>(info, a, c, stream);
    case 2: return LaunchDecode<MT, 4, 6, true>(info, a, c, stream);
    case 3: return LaunchDecode<MT, 16, 3, true>(info, a, c, stream);
    case 4: return LaunchDecode<MT, 8, 4, false>(info, a, c, stream);
    case 5: return LaunchDecode<MT, 16, 3, false>(info, a, c, stream);
    default: break;
  }
  if constexpr (MT == 8) {
    if (v == 6) return LaunchDecode<MT, 8, 2, false, 2>(info, a, c, stream);
  }
  if constexpr (MT <= 16) {
    switch (v) {
      case 7: return LaunchDecode<MT, 4, 4, false, 2>(info, a, c, stream);
      case 8: return LaunchDecode<MT, 8, 2, false, 1, true>(info, a, c, stream);
      case 9: return LaunchDecode<MT, 8, 3, false, 1, true>(info, a, c, stream);
      case 10: return LaunchDecode<MT, 8, 4, false, 1, true>(info, a, c, stream);
      case 11: return LaunchDecode<MT, 4, 4, false, 1, true>(info, a, c, stream);
      case 12: return LaunchDecode<MT, 16, 2, false, 1, true>(info, a, c, stream);
      default: break;
    }
  }
  return cudaErrorInvalidValue;
}

template <int MT, int W, int S>
cudaError_t LaunchFlat(const GemmArgs& a, const GemmConfig& c, cudaStream_t stream) {
  FlatShape sh;
  SetPaddedShape(a, sh);
  sh.groups = c.groups;
  sh.cluster = c.cluster;
  sh.x_vec = ActivationPairsAligned(a) ? 1 : 0;
  const dim3 grid(static_cast<unsigned>(c.groups * c.cluster), static_cast<unsigned>(CeilDiv(a.m, MT)), 1);
  const ClusterLaunch launch(grid, W * 32, FlatSmemBytes(W, S, MT, c.cluster), stream, c.cluster);
  return cudaLaunchKernelEx(&launch.cfg, FlatDecodeKernel<MT, W, S>, a, sh);
}

}  // namespace

cudaError_t PrepareDevice(int device, DeviceInfo* info) {
  if (device < 0 || device >= 16) return cudaErrorInvalidDevice;
  Runtime& rt = g_runtime[device];
  std::call_once(rt.once, [&] {
    int previous = 0;
    cudaError_t e = cudaGetDevice(&previous);
    if (e == cudaSuccess && previous != device) e = cudaSetDevice(device);
    cudaDeviceProp prop;
    if (e == cudaSuccess) e = cudaGetDeviceProperties(&prop, device);
    if (e == cudaSuccess) {
      rt.info.device = device;
      rt.info.cc_major = prop.major;
      rt.info.cc_minor = prop.minor;
      rt.info.sm_count = prop.multiProcessorCount;
      rt.info.has_wgmma = prop.major == 9 && prop.minor == 0;
      e = InitRuntime(device, rt, rt.info);
    }
    if (previous != device) cudaSetDevice(previous);
    rt.init_error = e;
  });
  *info = rt.info;
  return rt.init_error;
}

bool ConfigSupported(const DeviceInfo& info, const GemmConfig& c, int64_t m, int n, int k, bool x_aligned16) {
  if (m <= 0 || n <= 0 || k <= 0) return false;
  if (c.cluster < 1 || c.cluster > 8) return false;
  if (c.stage_activations && (c.kind != KernelKind::kDecode || c.groups != 0)) return false;  // decode only, not flat
  const int kt = CeilDiv(k, 64);
  if (c.kind == KernelKind::kDecode && c.groups != 0) {
    // Flat split: every warp gets at least one unit and at most one band's worth (so it touches at most two bands),
    // and the split's index arithmetic stays in 32 bits.
    if (info.cc_major < 9 || !c.cp_async || c.bands != 1 || c.warp_bands != 1 || c.ctas_per_sm != 1 ||
        c.whole_tiles != 0)
      return false;
    if ((c.tile != 8 && c.tile != 16) || !((c.warps == 8 && c.stages == 4) || (c.warps == 16 && c.stages == 3)))
      return false;
    const int nb = CeilDiv(n, 64), warps = c.cluster * c.warps;
    if (c.groups < 1 || c.groups > nb || static_cast<int64_t>(nb) * c.groups >= (int64_t(1) << 31)) return false;
    const int64_t min_bands = nb / c.groups, max_bands = CeilDiv(nb, c.groups);
    if (min_bands * kt < warps || max_bands > warps || max_bands * kt * warps >= (int64_t(1) << 31)) return false;
    if (static_cast<int64_t>(c.groups) * c.cluster > 0x7FFFFFFF / 2) return false;
    return CeilDiv(m, c.tile) <= 65535;
  }
  if (c.kind == KernelKind::kDecode) {
    if ((c.cluster & (c.cluster - 1)) != 0) return false;  // the decode kernel splits K in powers of two
    if (c.ctas_per_sm != 1 || c.whole_tiles != 0) return false;
    if (c.tile != 8 && c.tile != 16 && c.tile != 32) return false;
    if (DecodeVariant(c.warps, c.stages, c.cp_async, c.warp_bands, c.stage_activations) < 0) return false;
    if (c.warp_bands == 2 && (c.tile == 32 || (c.tile == 16 && c.warps == 8))) return false;  // not built
    // Staged activations: 16-byte copies of whole 8-element chunks of x rows (not built for 32 tokens; the variant
    // table has no two-band ones).
    if (c.stage_activations && (c.tile == 32 || !x_aligned16 || (k % 8) != 0)) return false;
    if (c.bands < 1 || c.bands > c.warps || c.warps % c.bands != 0) return false;
    if (info.cc_major < 9 && c.cluster != 1) return false;
    if (c.cluster > 1 && c.cluster * (c.warps / c.bands) > kt) return false;
    const int x_rows = DecodeStagedRows(c.stage_activations, m, c.tile);
    if (DecodeSmemBytes(c.warps, c.stages, c.tile, c.bands, c.cluster, c.warp_bands, x_rows) > kMaxSmemPerBlock)
      return false;
    return CeilDiv(m, c.tile) <= 65535;
  }
  if (!info.has_wgmma || !x_aligned16 || (k % 8) != 0) return false;
  if (!((c.tile == 64 || c.tile == 128 || c.tile == 256) && (c.bands == 1 || (c.bands == 2 && c.tile < 256)))) return false;
  if (c.ctas_per_sm != 1 && !(c.ctas_per_sm == 2 && c.tile == 64 && c.bands == 1)) return false;
  if (c.cluster > kt) return false;
  const int64_t tiles = WgTiles(m, CeilDiv(n, 64), c.tile, c.bands);
  if (c.whole_tiles < 0 || c.whole_tiles % c.cluster != 0 || c.whole_tiles > tiles) return false;
  if (WgCtas(tiles, c.cluster, c.whole_tiles) > 0x7FFFFFFF) return false;
  return CeilDiv(m, c.tile) <= 65535 && m < (int64_t(1) << 31);
}

GemmConfig PlanGemm(const DeviceInfo& info, int64_t m, int n, int k, bool x_aligned16) {
  // Measured: up to 16 tokens the mma.sync kernel, beyond that the wgmma kernel (v18: at 32 tokens it also wins on
  // the down projections, e.g. L3-8B down 25.4 vs 27.8 us on H100, except 70B down, 91.5 vs 87.2 us).
  const bool wgmma = m > 16;
  if (wgmma) {
    GemmConfig w = PlanWgmma(info, m, n, k);
    if (ConfigSupported(info, w, m, n, k, x_aligned16)) return w;
  }
  return PlanDecode(info, m, n, k, x_aligned16);
}

cudaError_t RunGemm(const DeviceInfo& info, const GemmArgs& a, const GemmConfig& c, cudaStream_t stream) {
  if (a.m <= 0) return cudaSuccess;
  const Runtime& rt = g_runtime[info.device & 15];
  if (c.kind == KernelKind::kWgmma) {
    if (rt.encode == nullptr) return cudaErrorNotSupported;
    if (c.tile == 64 && c.ctas_per_sm == 2) return LaunchWgmma<64, 1, 2>(rt, a, c, stream);
    if (c.tile == 64) return c.bands == 1 ? LaunchWgmma<64, 1>(rt, a, c, stream) : LaunchWgmma<64, 2>(rt, a, c, stream);
    if (c.tile == 128) return c.bands == 1 ? LaunchWgmma<128, 1>(rt, a, c, stream) : LaunchWgmma<128, 2>(rt, a, c, stream);
    return LaunchWgmma<256, 1>(rt, a, c, stream);
  }
  if (c.groups > 0) {
    if (c.tile == 8) return c.warps == 8 ? LaunchFlat<8, 8, 4>(a, c, stream) : LaunchFlat<8, 16, 3>(a, c, stream);
    return c.warps == 8 ? LaunchFlat<16, 8, 4>(a, c, stream) : LaunchFlat<16, 16, 3>(a, c, stream);
  }
  const int v = DecodeVariant(c.warps, c.stages, c.cp_async, c.warp_bands, c.stage_activations);
  if (c.tile == 8) return LaunchDecodeVariant<8>(info, a, c, v, stream);
  if (c.tile == 16) return LaunchDecodeVariant<16>(info, a, c, v, stream);
  if (c.tile == 32) return LaunchDecodeVariant<32>(info, a, c, v, stream);
  return cudaErrorInvalidValue;
}

cudaError_t Fp6Gemm(const DeviceInfo& info, const GemmArgs& a, cudaStream_t stream) {
  const bool aligned = (reinterpret_cast<uintptr_t>(a.x) % 16) == 0;
  return RunGemm(info, a, PlanGemm(info, a.m, a.n, a.k, aligned), stream);
}

cudaError_t DequantizeToHalf(const uint8_t* w, const uint16_t* scales, int n, int k, uint16_t* out, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(n) * k;
  const int threads = 256;
  DequantizeKernel<<<static_cast<unsigned>((total + threads - 1) / threads), threads, 0, stream>>>(
      w, scales, n, k, CeilDiv(n, 64) * 64, CeilDiv(k, 64) * 64, out);
  return cudaGetLastError();
}

std::string DescribeConfig(const GemmConfig& c) {
  std::string s = c.kind == KernelKind::kDecode ? "decode" : "wgmma";
  s += " t" + std::to_string(c.tile) + " b" + std::to_string(c.bands) + " c" + std::to_string(c.cluster);
  if (c.kind == KernelKind::kWgmma && c.ctas_per_sm != 1) s += " x" + std::to_string(c.ctas_per_sm);
  if (c.kind == KernelKind::kWgmma && c.whole_tiles > 0) s += " whole" + std::to_string(c.whole_tiles);
  if (c.kind == KernelKind::kDecode) {
    s += " w" + std::to_string(c.warps) + "s" + std::to_string(c.stages) + (c.cp_async ? " cpa" : "");
    if (c.warp_bands != 1) s += " p" + std::to_string(c.warp_bands);
    if (c.stage_activations) s += " sx";
    if (c.groups > 0) s += " flat" + std::to_string(c.groups);
  }
  return s;
}

int FlatGroupsPerWave(const DeviceInfo& info, const GemmConfig& c) {
  if (c.kind != KernelKind::kDecode || info.cc_major < 9 || c.cluster < 1 || c.cluster > kMaxCluster) return 0;
  if ((c.tile != 8 && c.tile != 16) || (c.warps != 8 && c.warps != 16)) return 0;
  return g_runtime[info.device & 15].flat_groups_per_wave[FlatVariant(c.tile, c.warps)][c.cluster - 1];
}

int64_t WgmmaTiles(const GemmConfig& c, int64_t m, int n) {
  return c.kind == KernelKind::kWgmma ? WgTiles(m, CeilDiv(n, 64), c.tile, c.bands) : 0;
}

int WgmmaCtasPerWave(const DeviceInfo& info, const GemmConfig& c) {
  if (c.kind != KernelKind::kWgmma || !info.has_wgmma) return 0;
  return CtasPerWave(g_runtime[info.device & 15], info, c.tile, c.bands, c.cluster, c.ctas_per_sm);
}

}  // namespace cuda
}  // namespace fp6

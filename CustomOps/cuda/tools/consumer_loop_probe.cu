// Consumer-loop probe for the wgmma kernel (docs/cuda-kernel.md, v25): the consumers' tile step at T = 64 (and 128,
// 256) with no memory traffic at all — the weight words and the activation tile sit in shared memory — taken apart:
//   mode 1  wgmma only (register A, accumulators chained as in the kernel, one commit group per k-tile)
//   mode 2  conversion only (8 ld.shared + the kernel's dequantization, folded into a sink)
//   mode 3  both (the kernel's tile step, fragments double-buffered by tile parity)
//   mode 7  both + a `full` wait and an `empty` arrive per tile on barriers that are always complete
//   mode 6  conversion + barriers
//   mode 15 mode 7 + an extra warpgroup whose first thread spins on try_wait (the producer waiting for `empty`)
// for 1-3 warpgroups per CTA and one or two CTAs per SM, and prints SM cycles per 64-row band and k-tile (median
// warpgroup, clock64). Build and run on the GPU machine:
//   nvcc -std=c++17 -O3 -gencode=arch=compute_90a,code=sm_90a -ICustomOps/cuda -o probe \
//        CustomOps/cuda/tools/consumer_loop_probe.cu && ./probe
#include <cstdio>
#include <cstdint>
#include <vector>
#include <algorithm>
#include <cuda_runtime.h>
#include "fp6_tc_dequant.cuh"
#include "wgmma_ops.cuh"
using namespace fp6::cuda;
__device__ __forceinline__ uint32_t Lds(uint32_t a) { uint32_t v; asm volatile("ld.shared.b32 %0, [%1];" : "=r"(v) : "r"(a) : "memory"); return v; }
// One mbarrier.try_wait on phase `parity`: whether that phase has completed.
__device__ __forceinline__ bool TryWait(uint32_t bar, uint32_t parity) {
  uint32_t ok;
  asm volatile("{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.b32 %0, 1, 0, p;\n}" : "=r"(ok) : "r"(bar), "r"(parity) : "memory");
  return ok != 0;
}

template <int MODE, int T, int WGS, int CPS>
__global__ void __launch_bounds__(128 * (WGS + ((MODE & 8) ? 1 : 0)), CPS) Probe(int tiles, long long* out, uint32_t* sink) {
  __shared__ volatile int done_flag;
  extern __shared__ __align__(1024) uint8_t sm[];
  for (int i = threadIdx.x; i < 65536 / 4; i += blockDim.x) reinterpret_cast<uint32_t*>(sm)[i] = (i * 2654435761u) & 0x3F3F3F3Fu;
  __shared__ __align__(8) uint64_t bar, bar2;
  if (threadIdx.x == 0) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"((uint32_t)__cvta_generic_to_shared(&bar)), "r"(1));
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"((uint32_t)__cvta_generic_to_shared(&bar2)), "r"(1000000));
  }
  __syncthreads();
  const int wg = threadIdx.x / 128, wi = (threadIdx.x / 32) & 3, lane = threadIdx.x & 31;
  if (threadIdx.x == 0) done_flag = 0;
  __syncthreads();
  if (wg == WGS) {  // spinning producer: polls a barrier phase that never completes, like a producer waiting on `empty`
    if (threadIdx.x == 128 * WGS) {
      const uint32_t b2 = (uint32_t)__cvta_generic_to_shared(&bar2);
      while (!done_flag) TryWait(b2, 0u);
    }
    return;
  }
  float acc[T / 2];
  for (int e = 0; e < T / 2; ++e) acc[e] = 0.f;
  uint32_t frag[2][4][4] = {};
  const uint32_t base = (uint32_t)__cvta_generic_to_shared(sm);
  const uint32_t xb = base + 32768;  // B tile (activations), 128B-swizzled K-major, T x 64 halves
  const uint32_t wl = base + wg * 3072 + 4u * ((wi >> 1) * 32 + lane);
  const uint32_t w4l = 1024u + 4u * (wi * 32) - 4u * ((wi >> 1) * 32);
  const int shift = (wi & 1) * 4;
  const uint32_t baddr = (uint32_t)__cvta_generic_to_shared(&bar), b2addr = (uint32_t)__cvta_generic_to_shared(&bar2);
  uint32_t fold = 0;
  int st = 0;
  auto tile = [&](uint32_t (&fr)[4][4]) {
    if (MODE & 4) {
      while (!TryWait(baddr, 1u)) {
      }
    }
    if (MODE & 2) {
      const uint32_t ws = wl + st * 6144;
      uint32_t w2[4], w4[4];
#pragma unroll
      for (int s = 0; s < 4; ++s) { w2[s] = Lds(ws + 256 * s); w4[s] = Lds(ws + w4l + 512 * s); }
#pragma unroll
      for (int s = 0; s < 4; ++s) { uint32_t xlo, xhi; SpreadSignE2(w2[s] << shift, xlo, xhi); DequantBlock(xlo, xhi, w4[s], fr[s]); }
      if (!(MODE & 1)) {
#pragma unroll
        for (int s = 0; s < 4; ++s) fold ^= fr[s][0] + fr[s][1] * 3 + fr[s][2] * 5 + fr[s][3] * 7;
      }
    }
    if (MODE & 1) {
      WgmmaFence();
#pragma unroll
      for (int s = 0; s < 4; ++s) Wgmma<T>::Run(acc, fr[s], SwizzledKMajorDesc(xb + 32 * s));
      WgmmaCommit();
      WgmmaWait<1>();
    }
    if ((MODE & 4) && lane == 0) asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(b2addr) : "memory");
    st = st + 1 == 4 ? 0 : st + 1;
  };
  __syncwarp();
  long long t0 = clock64();
  for (int i = 0; i < tiles; i += 2) { tile(frag[0]); tile(frag[1]); }
  if (MODE & 1) WgmmaWait<0>();
  long long t1 = clock64();
  if (threadIdx.x == 0) done_flag = 1;
  float s = 0; for (int e = 0; e < T / 2; ++e) s += acc[e];
  if (s == 123.f || fold == 0x12345u) sink[threadIdx.x] = fold + (uint32_t)s;
  if ((threadIdx.x & 127) == 0) out[blockIdx.x * 3 + wg] = t1 - t0;
}

int g_sms = 0;  // SMs of the device: one grid of CTAs per SM (or two) runs in one wave

template <int MODE, int T, int WGS, int CPS>
void Run(const char* name, long long* out, uint32_t* sink) {
  const int wgs = WGS, cps = CPS;
  auto k = Probe<MODE, T, WGS, CPS>;
  const int tiles = 2048, grid = g_sms * cps, threads = 128 * (wgs + ((MODE & 8) ? 1 : 0));
  const int smem = cps == 2 ? 100000 : 65536;  // two CTAs per SM need <= ~113 KB each
  cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  k<<<grid, threads, smem>>>(tiles, out, sink);  // warm-up
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) e = cudaDeviceSynchronize();
  if (e != cudaSuccess) { std::printf("%s: failed: %s\n", name, cudaGetErrorString(e)); return; }
  cudaEvent_t a, b; cudaEventCreate(&a); cudaEventCreate(&b);
  cudaEventRecord(a);
  k<<<grid, threads, smem>>>(tiles, out, sink);
  cudaEventRecord(b); e = cudaEventSynchronize(b);
  float ms; cudaEventElapsedTime(&ms, a, b);
  cudaEventDestroy(a); cudaEventDestroy(b);
  std::vector<long long> h(grid * 3);
  cudaMemcpy(h.data(), out, h.size() * 8, cudaMemcpyDeviceToHost);
  std::vector<long long> c;
  for (int i = 0; i < grid; ++i) for (int w = 0; w < wgs; ++w) c.push_back(h[i * 3 + w]);
  std::sort(c.begin(), c.end());
  const double med = c[c.size() / 2];
  const double per_tile_wg = med / tiles;
  const double per_sm = per_tile_wg / (wgs * cps);  // SM cycles per band-k-tile
  const double mhz = (double)c[c.size() / 2] / (ms * 1e3);  // cycles per us of the median warpgroup ~ clock
  std::printf("%-18s T=%3d wgs=%d ctas/SM=%d: %7.1f cyc/tile/wg  %6.1f SM cyc per band-k-tile (tensor %d)  %.3f ms ~%4.0f MHz %s\n", name, T, wgs, cps,
              per_tile_wg, per_sm, T * 2, ms, mhz, cudaGetErrorString(e));
}
template <int WGS, int CPS>
void Set64(long long* out, uint32_t* sink) {
  Run<1, 64, WGS, CPS>("hgmma", out, sink);
  Run<2, 64, WGS, CPS>("convert", out, sink);
  Run<3, 64, WGS, CPS>("convert+hgmma", out, sink);
  Run<7, 64, WGS, CPS>("conv+hgmma+mbar", out, sink);
  Run<6, 64, WGS, CPS>("conv+mbar", out, sink);
  Run<15, 64, WGS, CPS>("c+h+mbar+spinprod", out, sink);
}
template <int WGS>
void SetBig(long long* out, uint32_t* sink) {
  Run<1, 128, WGS, 1>("hgmma", out, sink);
  Run<3, 128, WGS, 1>("convert+hgmma", out, sink);
  Run<1, 256, WGS, 1>("hgmma", out, sink);
  Run<3, 256, WGS, 1>("convert+hgmma", out, sink);
}
int main() {
  cudaDeviceGetAttribute(&g_sms, cudaDevAttrMultiProcessorCount, 0);
  long long* out; uint32_t* sink;
  cudaMalloc(&out, g_sms * 2 * 3 * 8); cudaMalloc(&sink, 4096 * 4);
  Set64<1, 1>(out, sink); Set64<2, 1>(out, sink); Set64<3, 1>(out, sink); Set64<2, 2>(out, sink);
  SetBig<1>(out, sink); SetBig<2>(out, sink);
  return 0;
}

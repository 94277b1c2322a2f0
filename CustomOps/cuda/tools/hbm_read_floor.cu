// The M = 1 ceiling: how fast a plain streaming-read kernel reads each shape's FP6 bytes, next to cuBLAS FP16 at M = 1
// and the op's planned decode kernel at M = 1 and 16 (docs/cuda-kernel.md, "The ceiling at M = 1").
// Method as fp6_gemm_bench: calls captured back to back in a CUDA graph, median of 5 replays, weights rotated through
// a 1.5 GB pool so every call reads from HBM. The read kernel takes the best of 24 launch shapes per size.
// Activations and weights are constant bytes here (the point is the byte stream); fp6_gemm_bench has the real data.
// Build: nvcc -std=c++17 -O3 -gencode=arch=compute_90a,code=sm_90a -I CustomOps/include -I CustomOps/cuda
//        -o hbm_read_floor CustomOps/cuda/tools/hbm_read_floor.cu CustomOps/cuda/fp6_gemm.cu -lcublas
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "../fp6_gemm.h"
#include "bench_shapes.h"
#include "graph_timing.h"

namespace {

void Check(int status, int line) {
  if (status != 0) {
    std::fprintf(stderr, "CUDA/cuBLAS error %d at line %d\n", status, line);
    std::exit(2);
  }
}
#define CHECK(expr) Check(static_cast<int>(expr), __LINE__)

__global__ void EmptyKernel(int* sink) {
  if (threadIdx.x == 1023) sink[0] = 1;
}

// Each CTA reads one contiguous slice with 16-byte non-allocating loads, kUnroll in flight per thread.
template <int kUnroll>
__global__ void ReadKernel(const uint4* __restrict__ p, size_t count, int* sink) {
  const size_t begin = count * blockIdx.x / gridDim.x, end = count * (blockIdx.x + 1) / gridDim.x;
  uint32_t acc = 0;
  size_t i = begin + threadIdx.x;
  for (; i + (kUnroll - 1) * blockDim.x < end; i += kUnroll * blockDim.x) {
    uint4 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
                   : "=r"(v[u].x), "=r"(v[u].y), "=r"(v[u].z), "=r"(v[u].w)
                   : "l"(p + i + u * blockDim.x));
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) acc ^= v[u].x ^ v[u].y ^ v[u].z ^ v[u].w;
  }
  for (; i < end; i += blockDim.x) acc ^= p[i].x ^ p[i].y ^ p[i].z ^ p[i].w;
  if (acc == 0x12345678u) sink[0] = static_cast<int>(acc);  // keeps the loads; never true for the pool's bytes
}

}  // namespace

int main() {
  fp6::cuda::DeviceInfo info;
  CHECK(fp6::cuda::PrepareDevice(0, &info));
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  const int sms = prop.multiProcessorCount;
  std::printf("%s, %d SMs, L2 %d MB\n", prop.name, sms, prop.l2CacheSize >> 20);
  cudaStream_t stream;
  CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  cublasHandle_t handle;
  CHECK(cublasCreate(&handle));
  CHECK(cublasSetStream(handle, stream));
  int* sink;
  CHECK(cudaMalloc(&sink, 64));
  const size_t pool_bytes = size_t(1536) << 20;
  uint8_t* pool;
  CHECK(cudaMalloc(&pool, pool_bytes));
  CHECK(cudaMemset(pool, 1, pool_bytes));
  uint16_t *x, *y, *scales;
  CHECK(cudaMalloc(&x, 16 * 60000 * 2));
  CHECK(cudaMalloc(&y, 16 * 60000 * 2));
  CHECK(cudaMalloc(&scales, 60000 * 2));
  CHECK(cudaMemset(x, 0, 16 * 60000 * 2));
  CHECK(cudaMemset(scales, 0, 60000 * 2));
  std::printf("empty kernel (%d x 256) per graph node: %.2f us\n\n", sms,
              fp6::tools::MedianGraphMicros(stream, 200, 5, [&](int) { EmptyKernel<<<sms, 256, 0, stream>>>(sink); }));

  std::printf("| shape | FP6 MB | cuBLAS M=1 us | FP6 M=1 us | FP6 M=16 us | read us | read launch | read TB/s | ceiling | FP6 M=1 / read |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  double ceiling_sum = 0.0;
  const int calls = 64;
  for (const fp6::tools::Shape& s : fp6::tools::kCoreShapes) {
    const size_t b6 = static_cast<size_t>(s.n) * s.k * 3 / 4, b16 = static_cast<size_t>(s.n) * s.k * 2;
    const int copies6 = static_cast<int>(std::min<size_t>(64, pool_bytes / b6));
    const int copies16 = static_cast<int>(std::max<size_t>(1, std::min<size_t>(64, pool_bytes / b16)));
    const float alpha = 1.0f, beta = 0.0f;
    const double cublas_us = fp6::tools::MedianGraphMicros(stream, calls, 5, [&](int i) {
      CHECK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, s.n, 1, s.k, &alpha, pool + (i % copies16) * b16, CUDA_R_16F,
                         s.k, x, CUDA_R_16F, s.k, &beta, y, CUDA_R_16F, s.n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    });
    double fp6_us[2];
    for (int j = 0; j < 2; ++j) {
      fp6::cuda::GemmArgs a;
      a.x = x;
      a.scales = scales;
      a.y = y;
      a.m = j == 0 ? 1 : 16;
      a.n = s.n;
      a.k = s.k;
      const fp6::cuda::GemmConfig plan = fp6::cuda::PlanGemm(info, a.m, s.n, s.k, true);
      fp6_us[j] = fp6::tools::MedianGraphMicros(stream, calls, 5, [&](int i) {
        a.w = pool + (i % copies6) * b6;
        CHECK(fp6::cuda::RunGemm(info, a, plan, stream));
      });
    }
    double best = 1e30;
    char launch[64] = "";
    for (int per_sm : {1, 2, 4, 8})
      for (int threads : {256, 512, 1024})
        for (int unroll : {4, 8}) {
          if (threads * per_sm > 2048) continue;
          const int grid = sms * per_sm;
          const double t = fp6::tools::MedianGraphMicros(stream, calls, 5, [&](int i) {
            const uint4* p = reinterpret_cast<const uint4*>(pool + (i % copies6) * b6);
            if (unroll == 4) ReadKernel<4><<<grid, threads, 0, stream>>>(p, b6 / 16, sink);
            else ReadKernel<8><<<grid, threads, 0, stream>>>(p, b6 / 16, sink);
          });
          if (t < best) {
            best = t;
            std::snprintf(launch, sizeof launch, "%d x %d, %d loads", grid, threads, unroll);
          }
        }
    ceiling_sum += cublas_us / best;
    std::printf("| %s | %.1f | %.2f | %.2f | %.2f | %.2f | %s | %.2f | %.2f | %.2f |\n", s.name, b6 / 1e6, cublas_us,
                fp6_us[0], fp6_us[1], best, launch, b6 / best / 1e6, cublas_us / best, fp6_us[0] / best);
    std::fflush(stdout);
  }
  std::printf("\nceiling (mean of cuBLAS M=1 / read over the ten shapes): %.2f\n", ceiling_sum / 10);
  return 0;
}

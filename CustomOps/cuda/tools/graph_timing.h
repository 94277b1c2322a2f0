// Timing by CUDA-graph replay, shared by the benchmark tools: `calls` enqueues captured back to back in one graph,
// one warm-up replay, then the median over `replays` replays of the time per call in microseconds.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace fp6 {
namespace tools {

inline void GraphTimingCheck(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "CUDA error %s in %s\n", cudaGetErrorString(e), what);
    std::exit(2);
  }
}

template <typename F>
double MedianGraphMicros(cudaStream_t stream, int calls, int replays, F&& enqueue) {
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  GraphTimingCheck(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "begin capture");
  for (int i = 0; i < calls; ++i) enqueue(i);
  GraphTimingCheck(cudaStreamEndCapture(stream, &graph), "end capture");
  GraphTimingCheck(cudaGraphInstantiate(&exec, graph, 0), "graph instantiate");
  cudaEvent_t start, stop;
  GraphTimingCheck(cudaEventCreate(&start), "event create");
  GraphTimingCheck(cudaEventCreate(&stop), "event create");
  GraphTimingCheck(cudaGraphLaunch(exec, stream), "graph launch");  // warm-up
  std::vector<double> us;
  for (int r = 0; r < replays; ++r) {
    GraphTimingCheck(cudaEventRecord(start, stream), "event record");
    GraphTimingCheck(cudaGraphLaunch(exec, stream), "graph launch");
    GraphTimingCheck(cudaEventRecord(stop, stream), "event record");
    GraphTimingCheck(cudaEventSynchronize(stop), "event synchronize");
    float ms = 0.f;
    GraphTimingCheck(cudaEventElapsedTime(&ms, start, stop), "elapsed time");
    us.push_back(1000.0 * ms / calls);
  }
  GraphTimingCheck(cudaEventDestroy(start), "event destroy");
  GraphTimingCheck(cudaEventDestroy(stop), "event destroy");
  GraphTimingCheck(cudaGraphExecDestroy(exec), "graph destroy");
  GraphTimingCheck(cudaGraphDestroy(graph), "graph destroy");
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

}  // namespace tools
}  // namespace fp6

// Timing by CUDA-graph replay, shared by the benchmark tools: `calls` enqueues captured back to back in one graph,
// warm-up replays, then the median over `replays` replays of the time per call in microseconds (one graph, or an
// A/B pair whose replays alternate).
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace fp6 {
namespace tools {

inline void GraphTimingCheck(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "CUDA error %s in %s\n", cudaGetErrorString(e), what);
    std::exit(2);
  }
}

// A graph of `calls` enqueues captured back to back; Replay() times one launch of it (microseconds per call).
class TimedGraph {
 public:
  template <typename F>
  TimedGraph(cudaStream_t stream, int calls, F&& enqueue) : stream_(stream), calls_(calls) {
    GraphTimingCheck(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "begin capture");
    for (int i = 0; i < calls; ++i) enqueue(i);
    GraphTimingCheck(cudaStreamEndCapture(stream, &graph_), "end capture");
    GraphTimingCheck(cudaGraphInstantiate(&exec_, graph_, 0), "graph instantiate");
    GraphTimingCheck(cudaEventCreate(&start_), "event create");
    GraphTimingCheck(cudaEventCreate(&stop_), "event create");
  }
  ~TimedGraph() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
    cudaGraphExecDestroy(exec_);
    cudaGraphDestroy(graph_);
  }
  TimedGraph(const TimedGraph&) = delete;
  TimedGraph& operator=(const TimedGraph&) = delete;

  double Replay() {
    GraphTimingCheck(cudaEventRecord(start_, stream_), "event record");
    GraphTimingCheck(cudaGraphLaunch(exec_, stream_), "graph launch");
    GraphTimingCheck(cudaEventRecord(stop_, stream_), "event record");
    GraphTimingCheck(cudaEventSynchronize(stop_), "event synchronize");
    float ms = 0.f;
    GraphTimingCheck(cudaEventElapsedTime(&ms, start_, stop_), "elapsed time");
    return 1000.0 * ms / calls_;
  }

 private:
  cudaStream_t stream_;
  int calls_;
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One warm-up replay, then the median over `replays` replays.
template <typename F>
double MedianGraphMicros(cudaStream_t stream, int calls, int replays, F&& enqueue) {
  TimedGraph g(stream, calls, enqueue);
  g.Replay();
  std::vector<double> us;
  for (int r = 0; r < replays; ++r) us.push_back(g.Replay());
  return Median(us);
}

// An A/B pair (baseline, candidate): the two graphs' replays alternate, so that drift in clocks and power (large
// GEMMs run at the power limit for tens of milliseconds per replay) affects both sides alike instead of whichever
// ran second. Before the timed replays the pair alternates for at least `warmup_ms`, so that the clocks have settled
// on this workload: after a power-limited large GEMM they stay lowered for a while, and a few-millisecond
// measurement of small kernels right after one reads that transient (v21: 2-9 % on the small layers at one token,
// the FP6 side more than cuBLAS; the first shape of a run, measured before any large GEMM, was unaffected).
// Returns the two medians.
template <typename FA, typename FB>
std::pair<double, double> InterleavedMedianGraphMicros(cudaStream_t stream, int calls, int replays, FA&& a, FB&& b,
                                                       double warmup_ms = 200.0) {
  TimedGraph ga(stream, calls, a), gb(stream, calls, b);
  const auto start = std::chrono::steady_clock::now();
  do {
    ga.Replay();
    gb.Replay();
  } while (std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() < warmup_ms);
  std::vector<double> ua, ub;
  for (int r = 0; r < replays; ++r) {
    ua.push_back(ga.Replay());
    ub.push_back(gb.Replay());
  }
  return {Median(ua), Median(ub)};
}

}  // namespace tools
}  // namespace fp6

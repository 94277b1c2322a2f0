// Timing by CUDA-graph replay, shared by the benchmark tools: `calls` enqueues captured back to back in one graph,
// warm-up replays, then the median over `replays` replays of the time per call in microseconds (one graph, or an
// A/B pair: each side in its own steady state, or the two sides' replays alternating).
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

// Calls `replay` until at least `ms` milliseconds have passed (at least once).
template <typename F>
void ReplayFor(double ms, F&& replay) {
  const auto start = std::chrono::steady_clock::now();
  do {
    replay();
  } while (std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() < ms);
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
  ReplayFor(warmup_ms, [&] {
    ga.Replay();
    gb.Replay();
  });
  std::vector<double> ua, ub;
  for (int r = 0; r < replays; ++r) {
    ua.push_back(ga.Replay());
    ub.push_back(gb.Replay());
  }
  return {Median(ua), Median(ub)};
}

// An A/B pair timed each in its own steady state: each side replays alone for at least `warmup_ms` before its
// `replays` timed replays, in `rounds` rounds whose order alternates (A B, B A, ...: slow thermal drift hits both
// alike); the medians over all rounds. Unlike the interleaved pair, neither side runs at the clocks the other's power
// draw leaves it: a deployment runs one of the two, not both in turn. Measured (v22, H200, same build and call): at
// M >= 128 the interleaved pair slowed the FP6 side and sped up cuBLAS (L3-8B qkv M = 256: FP6 31.7 vs 28.9 us,
// cuBLAS 21.7 vs 25.3 us solo): there cuBLAS draws more power, and each side inherited the other's clocks (at
// M = 64 on H100, where ours draws more, the reverse: L3-8B gate+up FP6 43.3 us interleaved, 47.3 us solo).
template <typename FA, typename FB>
std::pair<double, double> SoloSteadyMedianGraphMicros(cudaStream_t stream, int calls, int replays, FA&& a, FB&& b,
                                                      double warmup_ms = 200.0, int rounds = 2) {
  TimedGraph ga(stream, calls, a), gb(stream, calls, b);
  std::vector<double> ua, ub;
  auto steady = [&](TimedGraph& g, std::vector<double>& out) {
    ReplayFor(warmup_ms, [&] { g.Replay(); });
    for (int r = 0; r < replays; ++r) out.push_back(g.Replay());
  };
  for (int r = 0; r < rounds; ++r) {
    if (r % 2 == 0) {
      steady(ga, ua);
      steady(gb, ub);
    } else {
      steady(gb, ub);
      steady(ga, ua);
    }
  }
  return {Median(ua), Median(ub)};
}

}  // namespace tools
}  // namespace fp6

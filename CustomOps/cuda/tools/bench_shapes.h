// The GEMM shapes the benchmark tools measure: out_features (N) x in_features (K).
#pragma once

namespace fp6 {
namespace tools {

struct Shape {
  const char* name;
  int n, k;
};

// fp6-kernel.md §6.3: the ten shapes every summary averages over (fp6_gemm_bench's speedups, hbm_read_floor's ceiling).
inline constexpr Shape kCoreShapes[] = {
    {"L3-8B qkv", 6144, 4096},        {"L3-8B o", 4096, 4096},          {"L3-8B gate+up", 28672, 4096},
    {"L3-8B down", 4096, 14336},      {"70B qkv", 10240, 8192},         {"70B o", 8192, 8192},
    {"70B gate+up", 57344, 8192},     {"70B down", 8192, 28672},        {"L2-7B gate+up", 22016, 4096},
    {"L2-7B down", 4096, 11008},
};

}  // namespace tools
}  // namespace fp6

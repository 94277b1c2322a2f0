// The attributes of fp6llm.Fp6Linear and the checks every kernel (CPU, CUDA) applies to them and to its inputs.
#pragma once
#include <cstdint>
#include <string>

#include "onnxruntime_c_api.h"

namespace fp6 {

inline constexpr const char* kDomain = "fp6llm";
inline constexpr const char* kFp6LinearOpName = "Fp6Linear";

struct Fp6LinearAttributes {
  std::string node_name;
  int64_t in_features = 0;   // K
  int64_t out_features = 0;  // N
  std::string layout;
  int64_t exponent_bits = 3;
  int64_t mantissa_bits = 2;
};

// Returns nullptr on success, or an ORT_INVALID_ARGUMENT status whose message names the node.
OrtStatus* MakeError(const OrtApi& api, const Fp6LinearAttributes& attrs, const std::string& message);

// Reads and validates the attributes. `kernel_layout` is the one layout the calling kernel reads and
// `kernel_name` names that kernel in messages (e.g. "CPU kernel").
OrtStatus* ReadFp6LinearAttributes(const OrtApi& api, const OrtKernelInfo* info, const char* kernel_layout,
                                   const char* kernel_name, Fp6LinearAttributes* out);

// Checks the packed weight tensor: uint8, exactly `expected_bytes` elements.
OrtStatus* CheckWeightTensor(const OrtApi& api, const Fp6LinearAttributes& attrs, const OrtValue* weights,
                             int64_t expected_bytes);

// Checks the scales (or bias) tensor: exactly out_features elements.
OrtStatus* CheckPerRowTensor(const OrtApi& api, const Fp6LinearAttributes& attrs, const OrtValue* value,
                             const char* what);

// One call's inputs and output, fetched from the kernel context and checked the same way by every kernel.
struct Fp6LinearCall {
  const void* x = nullptr;       // [m, in_features]
  const uint8_t* w = nullptr;    // packed codes, checked against the layout's byte count
  const uint16_t* scales = nullptr;  // [out_features], IEEE half bits
  const void* bias = nullptr;    // [out_features] or nullptr
  void* y = nullptr;             // [m, out_features], allocated here with X's shape and the last dimension N
  int64_t m = 0;                 // rows of X (all dimensions but the last); 0 means there is nothing to compute
};

// Fetches X, W, scales and the optional bias, checks them (weight bytes, per-row counts, X's last dimension) and
// allocates Y. Returns nullptr on success, or an error naming the node.
OrtStatus* PrepareFp6LinearCall(const OrtApi& api, const Fp6LinearAttributes& attrs, OrtKernelContext* context,
                                int64_t expected_weight_bytes, Fp6LinearCall* call);

}  // namespace fp6

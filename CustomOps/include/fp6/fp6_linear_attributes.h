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

}  // namespace fp6

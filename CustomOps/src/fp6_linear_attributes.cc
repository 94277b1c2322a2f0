#include "fp6/fp6_linear_attributes.h"

#include <vector>

namespace fp6 {
namespace {

// Reads an int64 attribute, leaving `value` unchanged when the attribute is absent.
void ReadOptionalInt(const OrtApi& api, const OrtKernelInfo* info, const char* name, int64_t* value) {
  OrtStatus* status = api.KernelInfoGetAttribute_int64(info, name, value);
  if (status != nullptr) api.ReleaseStatus(status);
}

OrtStatus* GetElementCount(const OrtApi& api, const OrtValue* value, ONNXTensorElementDataType* type, int64_t* count) {
  OrtTensorTypeAndShapeInfo* info = nullptr;
  if (OrtStatus* s = api.GetTensorTypeAndShape(value, &info)) return s;
  size_t elements = 0;
  OrtStatus* s = api.GetTensorElementType(info, type);
  if (s == nullptr) s = api.GetTensorShapeElementCount(info, &elements);
  api.ReleaseTensorTypeAndShapeInfo(info);
  *count = static_cast<int64_t>(elements);
  return s;
}

}  // namespace

OrtStatus* MakeError(const OrtApi& api, const Fp6LinearAttributes& attrs, const std::string& message) {
  const std::string text = "Fp6Linear node '" + attrs.node_name + "': " + message;
  return api.CreateStatus(ORT_INVALID_ARGUMENT, text.c_str());
}

OrtStatus* ReadFp6LinearAttributes(const OrtApi& api, const OrtKernelInfo* info, const char* kernel_layout,
                                   const char* kernel_name, Fp6LinearAttributes* out) {
  size_t size = 0;
  if (api.KernelInfo_GetNodeName(info, nullptr, &size) == nullptr && size > 0) {
    std::vector<char> name(size);
    if (OrtStatus* s = api.KernelInfo_GetNodeName(info, name.data(), &size)) return s;
    out->node_name.assign(name.data());
  }
  out->in_features = -1;
  out->out_features = -1;
  ReadOptionalInt(api, info, "in_features", &out->in_features);
  ReadOptionalInt(api, info, "out_features", &out->out_features);
  ReadOptionalInt(api, info, "exponent_bits", &out->exponent_bits);
  ReadOptionalInt(api, info, "mantissa_bits", &out->mantissa_bits);
  if (out->in_features <= 0 || out->out_features <= 0) {
    return MakeError(api, *out, "attributes in_features and out_features must be given and positive (got " +
                                    std::to_string(out->in_features) + " and " + std::to_string(out->out_features) + ")");
  }
  if (out->exponent_bits != 3 || out->mantissa_bits != 2) {
    return MakeError(api, *out, "only FP6 e3m2 weights are supported (got exponent_bits=" +
                                    std::to_string(out->exponent_bits) + ", mantissa_bits=" +
                                    std::to_string(out->mantissa_bits) + ")");
  }
  size = 0;
  OrtStatus* s = api.KernelInfoGetAttribute_string(info, "layout", nullptr, &size);
  if (s != nullptr) {
    api.ReleaseStatus(s);
    return MakeError(api, *out, "attribute 'layout' is missing");
  }
  std::vector<char> layout(size);
  if (OrtStatus* st = api.KernelInfoGetAttribute_string(info, "layout", layout.data(), &size)) return st;
  out->layout.assign(layout.data());
  if (out->layout != kernel_layout) {
    return MakeError(api, *out, std::string("weight layout '") + out->layout + "' cannot be read by the " + kernel_name +
                                    ", which reads layout '" + kernel_layout + "'");
  }
  return nullptr;
}

OrtStatus* CheckWeightTensor(const OrtApi& api, const Fp6LinearAttributes& attrs, const OrtValue* weights,
                             int64_t expected_bytes) {
  ONNXTensorElementDataType type;
  int64_t count = 0;
  if (OrtStatus* s = GetElementCount(api, weights, &type, &count)) return s;
  if (type != ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8) return MakeError(api, attrs, "packed weights must be uint8");
  if (count != expected_bytes) {
    return MakeError(api, attrs, "packed weights have " + std::to_string(count) + " bytes, but layout '" + attrs.layout +
                                     "' of a " + std::to_string(attrs.out_features) + "x" + std::to_string(attrs.in_features) +
                                     " matrix needs " + std::to_string(expected_bytes));
  }
  return nullptr;
}

OrtStatus* CheckPerRowTensor(const OrtApi& api, const Fp6LinearAttributes& attrs, const OrtValue* value, const char* what) {
  ONNXTensorElementDataType type;
  int64_t count = 0;
  if (OrtStatus* s = GetElementCount(api, value, &type, &count)) return s;
  if (count != attrs.out_features) {
    return MakeError(api, attrs, std::string(what) + " has " + std::to_string(count) + " elements, expected out_features = " +
                                     std::to_string(attrs.out_features));
  }
  return nullptr;
}

OrtStatus* PrepareFp6LinearCall(const OrtApi& api, const Fp6LinearAttributes& attrs, OrtKernelContext* context,
                                int64_t expected_weight_bytes, Fp6LinearCall* call) {
  constexpr size_t kInputX = 0, kInputW = 1, kInputScales = 2, kInputBias = 3;
  const OrtValue* x = nullptr;
  const OrtValue* w = nullptr;
  const OrtValue* scales = nullptr;
  const OrtValue* bias = nullptr;
  if (OrtStatus* s = api.KernelContext_GetInput(context, kInputX, &x)) return s;
  if (OrtStatus* s = api.KernelContext_GetInput(context, kInputW, &w)) return s;
  if (OrtStatus* s = api.KernelContext_GetInput(context, kInputScales, &scales)) return s;
  size_t input_count = 0;
  if (OrtStatus* s = api.KernelContext_GetInputCount(context, &input_count)) return s;
  if (input_count > kInputBias) {
    if (OrtStatus* s = api.KernelContext_GetInput(context, kInputBias, &bias)) return s;
  }
  if (OrtStatus* s = CheckWeightTensor(api, attrs, w, expected_weight_bytes)) return s;
  if (OrtStatus* s = CheckPerRowTensor(api, attrs, scales, "scales")) return s;
  if (bias != nullptr) {
    if (OrtStatus* s = CheckPerRowTensor(api, attrs, bias, "bias")) return s;
  }

  std::vector<int64_t> shape;
  {
    OrtTensorTypeAndShapeInfo* info = nullptr;
    if (OrtStatus* s = api.GetTensorTypeAndShape(x, &info)) return s;
    size_t rank = 0;
    OrtStatus* s = api.GetDimensionsCount(info, &rank);
    if (s == nullptr) {
      shape.resize(rank);
      s = api.GetDimensions(info, shape.data(), rank);
    }
    api.ReleaseTensorTypeAndShapeInfo(info);
    if (s != nullptr) return s;
  }
  if (shape.empty() || shape.back() != attrs.in_features) {
    const std::string got = shape.empty() ? "a scalar" : "last dimension " + std::to_string(shape.back());
    return MakeError(api, attrs, "input X has " + got + ", but in_features is " + std::to_string(attrs.in_features));
  }
  call->m = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) call->m *= shape[i];
  shape.back() = attrs.out_features;

  OrtValue* y = nullptr;
  if (OrtStatus* s = api.KernelContext_GetOutput(context, 0, shape.data(), shape.size(), &y)) return s;
  if (call->m == 0) return nullptr;
  const void* data = nullptr;
  if (OrtStatus* s = api.GetTensorData(x, &call->x)) return s;
  if (OrtStatus* s = api.GetTensorData(w, &data)) return s;
  call->w = static_cast<const uint8_t*>(data);
  if (OrtStatus* s = api.GetTensorData(scales, &data)) return s;
  call->scales = static_cast<const uint16_t*>(data);
  if (bias != nullptr) {
    if (OrtStatus* s = api.GetTensorData(bias, &call->bias)) return s;
  }
  return api.GetTensorMutableData(y, &call->y);
}

}  // namespace fp6

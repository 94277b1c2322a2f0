// Shape inference for Fp6Linear: Y has X's shape with the last dimension replaced by out_features. Without it ONNX
// Runtime would not know the width of the op's output, and ops whose own shape inference needs it (PagedAttention
// reads the packed q/k/v width) fail at session creation. Include after onnxruntime_cxx_api.h.
#pragma once

namespace fp6 {

inline OrtStatusPtr InferFp6LinearShape(Ort::ShapeInferContext& context, ONNXTensorElementDataType type) {
  try {
    Ort::ShapeInferContext::Shape shape = context.GetInputShape(0);
    if (shape.empty()) return nullptr;  // X's rank is unknown: nothing to say about Y
    shape.back() = Ort::ShapeInferContext::SymbolicInteger(context.GetAttrInt("out_features"));
    context.SetOutputShape(0, shape, type);
    return nullptr;
  } catch (const Ort::Exception& e) {
    return Ort::GetApi().CreateStatus(ORT_INVALID_ARGUMENT, e.what());
  }
}

}  // namespace fp6

// fp6llm.Fp6Linear on the CPU execution provider: float activations, rowblock32 weights.
#define ORT_API_MANUAL_INIT
#include "onnxruntime_cxx_api.h"
#undef ORT_API_MANUAL_INIT

#include <algorithm>
#include <vector>

#include "fp6/custom_ops.h"
#include "fp6/fp6_format.h"
#include "fp6/fp6_linear_attributes.h"
#include "fp6/fp6_linear_cpu.h"
#include "fp6/fp6_linear_shape.h"

namespace fp6 {
namespace {

constexpr size_t kInputX = 0, kInputW = 1, kInputScales = 2, kInputBias = 3;

struct ColumnChunks {
  const CpuLinearProblem* problem;
  int64_t chunk;
};

void ComputeChunk(void* user, size_t index) {
  const auto* work = static_cast<const ColumnChunks*>(user);
  const int64_t begin = static_cast<int64_t>(index) * work->chunk;
  const int64_t end = std::min(begin + work->chunk, work->problem->n);
  ComputeLinearColumns(*work->problem, begin, end);
}

class Fp6LinearCpuKernel {
 public:
  explicit Fp6LinearCpuKernel(Fp6LinearAttributes attrs) : attrs_(std::move(attrs)) {}

  OrtStatusPtr ComputeV2(OrtKernelContext* context) {
    const OrtApi& api = Api();
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

    if (OrtStatus* s = CheckWeightTensor(api, attrs_, w, RowBlock32Bytes(attrs_.out_features, attrs_.in_features))) return s;
    if (OrtStatus* s = CheckPerRowTensor(api, attrs_, scales, "scales")) return s;
    if (bias != nullptr) {
      if (OrtStatus* s = CheckPerRowTensor(api, attrs_, bias, "bias")) return s;
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
    if (shape.empty() || shape.back() != attrs_.in_features) {
      const std::string got = shape.empty() ? "a scalar" : "last dimension " + std::to_string(shape.back());
      return MakeError(api, attrs_, "input X has " + got + ", but in_features is " + std::to_string(attrs_.in_features));
    }
    int64_t m = 1;
    for (size_t i = 0; i + 1 < shape.size(); ++i) m *= shape[i];
    shape.back() = attrs_.out_features;

    OrtValue* y = nullptr;
    if (OrtStatus* s = api.KernelContext_GetOutput(context, 0, shape.data(), shape.size(), &y)) return s;
    if (m == 0) return nullptr;

    CpuLinearProblem problem{};
    const void* data = nullptr;
    if (OrtStatus* s = api.GetTensorData(x, &data)) return s;
    problem.x = static_cast<const float*>(data);
    if (OrtStatus* s = api.GetTensorData(w, &data)) return s;
    problem.w = static_cast<const uint8_t*>(data);
    if (OrtStatus* s = api.GetTensorData(scales, &data)) return s;
    problem.scales = static_cast<const uint16_t*>(data);
    if (bias != nullptr) {
      if (OrtStatus* s = api.GetTensorData(bias, &data)) return s;
      problem.bias = static_cast<const float*>(data);
    }
    void* out = nullptr;
    if (OrtStatus* s = api.GetTensorMutableData(y, &out)) return s;
    problem.y = static_cast<float*>(out);
    problem.m = m;
    problem.k = attrs_.in_features;
    problem.n = attrs_.out_features;
    std::vector<float> padded;
    if (UsesPanelPath(m)) {
      // The panel path reads whole 32-column blocks; pad the rows of x once when K is not a multiple of 32.
      const int64_t k_padded = (problem.k + 31) / 32 * 32;
      if (k_padded == problem.k) {
        problem.x_padded = problem.x;
      } else {
        padded.assign(static_cast<size_t>(m * k_padded), 0.0f);
        for (int64_t row = 0; row < m; ++row) {
          std::copy(problem.x + row * problem.k, problem.x + (row + 1) * problem.k, padded.begin() + row * k_padded);
        }
        problem.x_padded = padded.data();
      }
    }

    // Column chunks small enough that a chunk's weights stay in L2 while every token tile passes over them.
    ColumnChunks work{&problem, m <= 4 || UsesPanelPath(m) ? 64 : 256};
    const size_t chunks = static_cast<size_t>((problem.n + work.chunk - 1) / work.chunk);
    return api.KernelContext_ParallelFor(context, ComputeChunk, chunks, 0, &work);
  }

 private:
  Fp6LinearAttributes attrs_;
};

struct Fp6LinearCpu : Ort::CustomOpBase<Fp6LinearCpu, Fp6LinearCpuKernel, true> {
  static OrtStatusPtr InferOutputShape(Ort::ShapeInferContext& context) {
    return InferFp6LinearShape(context, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT);
  }

  OrtStatusPtr CreateKernelV2(const OrtApi& api, const OrtKernelInfo* info, void** kernel) const {
    Fp6LinearAttributes attrs;
    if (OrtStatus* s = ReadFp6LinearAttributes(api, info, kLayoutRowBlock32, "CPU kernel", &attrs)) return s;
    // A constant weight initializer is checked once, here, so a wrong byte count fails at session creation.
    int is_constant = 0;
    const OrtValue* weights = nullptr;
    if (OrtStatus* s = api.KernelInfoGetConstantInput_tensor(info, kInputW, &is_constant, &weights)) return s;
    if (is_constant != 0 && weights != nullptr) {
      if (OrtStatus* s = CheckWeightTensor(api, attrs, weights, RowBlock32Bytes(attrs.out_features, attrs.in_features))) {
        return s;
      }
    }
    *kernel = new Fp6LinearCpuKernel(std::move(attrs));
    return nullptr;
  }

  const char* GetName() const { return kFp6LinearOpName; }
  const char* GetExecutionProviderType() const { return "CPUExecutionProvider"; }
  size_t GetInputTypeCount() const { return 4; }
  ONNXTensorElementDataType GetInputType(size_t index) const {
    switch (index) {
      case kInputW: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
      case kInputScales: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
      default: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    }
  }
  OrtCustomOpInputOutputCharacteristic GetInputCharacteristic(size_t index) const {
    return index == kInputBias ? INPUT_OUTPUT_OPTIONAL : INPUT_OUTPUT_REQUIRED;
  }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
};

const Fp6LinearCpu kFp6LinearCpu;

}  // namespace

const OrtCustomOp* Fp6LinearCpuOp() { return &kFp6LinearCpu; }

void InitCxxApi(const OrtApi* api) { Ort::InitApi(api); }

}  // namespace fp6

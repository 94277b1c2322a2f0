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

constexpr size_t kInputW = 1, kInputScales = 2, kInputBias = 3;

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
    Fp6LinearCall call;
    if (OrtStatus* s = PrepareFp6LinearCall(api, attrs_, context, RowBlock32Bytes(attrs_.out_features, attrs_.in_features), &call)) {
      return s;
    }
    if (call.m == 0) return nullptr;
    const int64_t m = call.m;

    CpuLinearProblem problem{};
    problem.x = static_cast<const float*>(call.x);
    problem.w = call.w;
    problem.scales = call.scales;
    problem.bias = static_cast<const float*>(call.bias);
    problem.y = static_cast<float*>(call.y);
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

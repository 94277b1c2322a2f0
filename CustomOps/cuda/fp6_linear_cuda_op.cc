// fp6llm.Fp6Linear on the CUDA execution provider: float16 activations, tcfpx weights (the constant initializer ORT
// already holds on the GPU, read in place), float16 scales and optional bias, float16 output.
//
// Compute launches one kernel on ORT's compute stream and nothing else: no allocation, no synchronisation, no
// attribute calls (those happen once per device at kernel creation), so it is safe under CUDA-graph capture.
// No scratch memory is needed: the split-K partial sums are reduced inside the kernel, through shared memory and the
// distributed shared memory of a thread-block cluster (docs/cuda-kernel.md).
#define ORT_API_MANUAL_INIT
#include "onnxruntime_cxx_api.h"
#undef ORT_API_MANUAL_INIT

#include <cuda_runtime_api.h>

#include <string>
#include <vector>

#include "fp6/custom_ops.h"
#include "fp6/fp6_format.h"
#include "fp6/fp6_linear_attributes.h"
#include "fp6/fp6_linear_shape.h"
#include "fp6_gemm.h"

namespace fp6 {
namespace {

constexpr size_t kInputX = 0, kInputW = 1, kInputScales = 2, kInputBias = 3;

// The CUDA device a tensor lives on (ORT's memory info), or -1.
int DeviceOf(const OrtApi& api, const OrtValue* value) {
  const OrtMemoryInfo* info = nullptr;
  if (OrtStatus* s = api.GetTensorMemoryInfo(value, &info)) {
    api.ReleaseStatus(s);
    return -1;
  }
  int id = -1;
  if (OrtStatus* s = api.MemoryInfoGetId(info, &id)) {
    api.ReleaseStatus(s);
    return -1;
  }
  return id;
}

class Fp6LinearCudaKernel {
 public:
  Fp6LinearCudaKernel(Fp6LinearAttributes attrs, cuda::DeviceInfo device)
      : attrs_(std::move(attrs)), device_(device) {}

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
    if (OrtStatus* s = CheckWeightTensor(api, attrs_, w, TcFpxBytes(attrs_.out_features, attrs_.in_features))) return s;
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

    cuda::GemmArgs args;
    const void* data = nullptr;
    if (OrtStatus* s = api.GetTensorData(x, &data)) return s;
    args.x = static_cast<const uint16_t*>(data);
    if (OrtStatus* s = api.GetTensorData(w, &data)) return s;
    args.w = static_cast<const uint8_t*>(data);
    if (OrtStatus* s = api.GetTensorData(scales, &data)) return s;
    args.scales = static_cast<const uint16_t*>(data);
    if (bias != nullptr) {
      if (OrtStatus* s = api.GetTensorData(bias, &data)) return s;
      args.bias = static_cast<const uint16_t*>(data);
    }
    void* out = nullptr;
    if (OrtStatus* s = api.GetTensorMutableData(y, &out)) return s;
    args.y = static_cast<uint16_t*>(out);
    args.m = m;
    args.n = static_cast<int>(attrs_.out_features);
    args.k = static_cast<int>(attrs_.in_features);

    void* stream = nullptr;
    if (OrtStatus* s = api.KernelContext_GetGPUComputeStream(context, &stream)) return s;
    const cudaError_t e = cuda::Fp6Gemm(device_, args, static_cast<cudaStream_t>(stream));
    if (e != cudaSuccess) {
      return MakeError(api, attrs_, std::string("CUDA kernel launch failed: ") + cudaGetErrorString(e));
    }
    return nullptr;
  }

 private:
  Fp6LinearAttributes attrs_;
  cuda::DeviceInfo device_;
};

struct Fp6LinearCuda : Ort::CustomOpBase<Fp6LinearCuda, Fp6LinearCudaKernel, true> {
  static OrtStatusPtr InferOutputShape(Ort::ShapeInferContext& context) {
    return InferFp6LinearShape(context, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16);
  }

  OrtStatusPtr CreateKernelV2(const OrtApi& api, const OrtKernelInfo* info, void** kernel) const {
    Fp6LinearAttributes attrs;
    if (OrtStatus* s = ReadFp6LinearAttributes(api, info, kLayoutTcFpx, "CUDA kernel", &attrs)) return s;
    if (attrs.out_features > (int64_t{1} << 30) || attrs.in_features > (int64_t{1} << 30)) {
      return MakeError(api, attrs, "in_features and out_features must be below 2^30 for the CUDA kernel");
    }
    // The weights are the constant initializer ORT already placed on the GPU: checked here once, used in place.
    int is_constant = 0;
    const OrtValue* weights = nullptr;
    if (OrtStatus* s = api.KernelInfoGetConstantInput_tensor(info, kInputW, &is_constant, &weights)) return s;
    int device = -1;
    if (is_constant != 0 && weights != nullptr) {
      if (OrtStatus* s = CheckWeightTensor(api, attrs, weights, TcFpxBytes(attrs.out_features, attrs.in_features))) {
        return s;
      }
      device = DeviceOf(api, weights);
    }
    if (device < 0 && cudaGetDevice(&device) != cudaSuccess) device = 0;
    cuda::DeviceInfo device_info;
    const cudaError_t e = cuda::PrepareDevice(device, &device_info);
    if (e != cudaSuccess) {
      return MakeError(api, attrs, std::string("cannot prepare the CUDA kernels on device ") + std::to_string(device) +
                                       ": " + cudaGetErrorString(e));
    }
    *kernel = new Fp6LinearCudaKernel(std::move(attrs), device_info);
    return nullptr;
  }

  const char* GetName() const { return kFp6LinearOpName; }
  const char* GetExecutionProviderType() const { return "CUDAExecutionProvider"; }
  size_t GetInputTypeCount() const { return 4; }
  ONNXTensorElementDataType GetInputType(size_t index) const {
    return index == kInputW ? ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 : ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
  }
  OrtCustomOpInputOutputCharacteristic GetInputCharacteristic(size_t index) const {
    return index == kInputBias ? INPUT_OUTPUT_OPTIONAL : INPUT_OUTPUT_REQUIRED;
  }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16; }
};

const Fp6LinearCuda kFp6LinearCuda;

}  // namespace

const OrtCustomOp* Fp6LinearCudaOp() { return &kFp6LinearCuda; }

}  // namespace fp6

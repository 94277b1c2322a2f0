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

constexpr size_t kInputW = 1, kInputBias = 3;

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
    Fp6LinearCall call;
    if (OrtStatus* s = PrepareFp6LinearCall(api, attrs_, context, TcFpxBytes(attrs_.out_features, attrs_.in_features), &call)) {
      return s;
    }
    if (call.m == 0) return nullptr;
    const int64_t m = call.m;

    cuda::GemmArgs args;
    args.x = static_cast<const uint16_t*>(call.x);
    args.w = call.w;
    args.scales = call.scales;
    args.bias = static_cast<const uint16_t*>(call.bias);
    args.y = static_cast<uint16_t*>(call.y);
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

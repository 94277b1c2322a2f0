// The op definitions this library registers in the fp6llm domain. Each lives in its own file; the CUDA ones are
// compiled only when CMake finds a CUDA compiler (FP6_HAVE_CUDA).
#pragma once
#include "onnxruntime_c_api.h"

namespace fp6 {

// Set once by RegisterCustomOps before any op is created.
const OrtApi& Api();

// Points the C++ wrapper (Ort::GetApi(), used by shape inference) at the same API.
void InitCxxApi(const OrtApi* api);

// Static op definitions (ORT keeps pointers to them for the lifetime of the sessions).
const OrtCustomOp* Fp6LinearCpuOp();
const OrtCustomOp* PagedAttentionCpuOp();
#ifdef FP6_HAVE_CUDA
const OrtCustomOp* Fp6LinearCudaOp();
#endif

}  // namespace fp6

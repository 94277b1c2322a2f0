// Entry point ONNX Runtime calls when a session registers this library (SessionOptions.RegisterCustomOpLibrary),
// plus a few C functions the managed tests use to read packed layouts back.
#include "fp6/custom_ops.h"
#include "fp6/fp6_format.h"
#include "fp6/fp6_linear_attributes.h"
#include "fp6/fp6_linear_cpu.h"

#define FP6_EXPORT extern "C" __attribute__((visibility("default")))

namespace fp6 {
namespace {
const OrtApi* g_api = nullptr;
}  // namespace

const OrtApi& Api() { return *g_api; }

}  // namespace fp6

FP6_EXPORT OrtStatus* RegisterCustomOps(OrtSessionOptions* options, const OrtApiBase* api_base) {
  const OrtApi* api = api_base->GetApi(ORT_API_VERSION);
  if (api == nullptr) return nullptr;  // an older runtime: nothing can be registered or reported through it
  fp6::g_api = api;
  fp6::InitCxxApi(api);

  // ORT keeps the domain for the life of the process; one domain per session options is fine.
  OrtCustomOpDomain* domain = nullptr;
  if (OrtStatus* s = api->CreateCustomOpDomain(fp6::kDomain, &domain)) return s;
  if (OrtStatus* s = api->CustomOpDomain_Add(domain, fp6::Fp6LinearCpuOp())) return s;
  if (OrtStatus* s = api->CustomOpDomain_Add(domain, fp6::PagedAttentionCpuOp())) return s;
#ifdef FP6_HAVE_CUDA
  if (OrtStatus* s = api->CustomOpDomain_Add(domain, fp6::Fp6LinearCudaOp())) return s;
#endif
  return api->AddCustomOpDomain(options, domain);
}

// Reads every code of a rowblock32 buffer into `codes` (rows x cols, row-major). Returns 0.
FP6_EXPORT int fp6_unpack_rowblock32(const uint8_t* packed, int64_t rows, int64_t cols, uint8_t* codes) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) codes[r * cols + c] = fp6::RowBlock32Code(packed, cols, r, c);
  return 0;
}

// Reads every code of a tcfpx buffer (padded to multiples of 64) into `codes` (rows x cols, row-major).
FP6_EXPORT int fp6_unpack_tcfpx(const uint8_t* packed, int64_t rows, int64_t cols, uint8_t* codes) {
  const int64_t padded_rows = fp6::TcFpxPaddedRows(rows);
  const int64_t padded_cols = fp6::TcFpxPaddedCols(cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) codes[r * cols + c] = fp6::TcFpxCode(packed, padded_rows, padded_cols, r, c);
  return 0;
}

// The exact value of a code, as the native kernels decode it.
FP6_EXPORT float fp6_decode_e3m2(uint8_t code) { return fp6::DecodeE3M2(code); }

// Limits the CPU kernel paths for tests and benchmarks: 0 = the best the CPU has, 1 = portable only, 2 = AVX2 at
// most. Returns a bit set of the paths this CPU has: 1 = AVX2, 2 = AVX-512.
FP6_EXPORT int fp6_cpu_kernel_limit(int limit) {
  fp6::SetCpuKernelLimit(static_cast<fp6::CpuKernelLimit>(limit));
  return (fp6::CpuSupportsAvx2Fma() ? 1 : 0) | (fp6::CpuSupportsAvx2Fma() && fp6::CpuSupportsAvx512() ? 2 : 0);
}

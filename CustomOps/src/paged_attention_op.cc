// fp6llm.PagedAttention on the CPU execution provider (float32): inputs and semantics of com.microsoft.PagedAttention
// (query/key/value, key_cache/value_cache updated in place, cumulative_sequence_length, past_seqlens, block_table,
// cos_cache/sin_cache). The cache outputs of the contrib op are not supported: the graph omits them.
#define ORT_API_MANUAL_INIT
#include "onnxruntime_cxx_api.h"
#undef ORT_API_MANUAL_INIT

#include <algorithm>
#include <string>
#include <vector>

#include "fp6/custom_ops.h"
#include "fp6/paged_attention_cpu.h"

namespace fp6 {
namespace {

enum Input : size_t { kQuery, kKey, kValue, kKeyCache, kValueCache, kCuSeqLen, kPastSeqLens, kBlockTable, kCos, kSin, kInputCount };

OrtStatus* Error(const std::string& node, const std::string& message) {
  const std::string text = "PagedAttention node '" + node + "': " + message;
  return Api().CreateStatus(ORT_INVALID_ARGUMENT, text.c_str());
}

OrtStatus* Shape(const OrtValue* value, std::vector<int64_t>* shape) {
  const OrtApi& api = Api();
  OrtTensorTypeAndShapeInfo* info = nullptr;
  if (OrtStatus* s = api.GetTensorTypeAndShape(value, &info)) return s;
  size_t rank = 0;
  OrtStatus* s = api.GetDimensionsCount(info, &rank);
  if (s == nullptr) {
    shape->resize(rank);
    s = api.GetDimensions(info, shape->data(), rank);
  }
  api.ReleaseTensorTypeAndShapeInfo(info);
  return s;
}

template <typename T>
OrtStatus* Data(const OrtValue* value, T** data) {
  void* raw = nullptr;
  if (OrtStatus* s = Api().GetTensorMutableData(const_cast<OrtValue*>(value), &raw)) return s;
  *data = static_cast<T*>(raw);
  return nullptr;
}

struct Work {
  const PagedAttentionAttributes* attributes;
  const PagedAttentionProblem* problem;
  float* rotated_query;
  int64_t chunk;
  int64_t count;
};

class PagedAttentionCpuKernel {
 public:
  PagedAttentionCpuKernel(std::string node, PagedAttentionAttributes attributes)
      : node_(std::move(node)), a_(attributes) {}

  OrtStatusPtr ComputeV2(OrtKernelContext* context) {
    const OrtApi& api = Api();
    const OrtValue* in[kInputCount] = {};
    size_t input_count = 0;
    if (OrtStatus* s = api.KernelContext_GetInputCount(context, &input_count)) return s;
    for (size_t i = 0; i < std::min<size_t>(input_count, kInputCount); ++i) {
      if (OrtStatus* s = api.KernelContext_GetInput(context, i, &in[i])) return s;
    }
    size_t output_count = 0;
    if (OrtStatus* s = api.KernelContext_GetOutputCount(context, &output_count)) return s;
    if (output_count > 1) {
      return Error(node_, "key_cache_out/value_cache_out are not supported by the CPU op; the caches are updated in "
                          "place through the key_cache/value_cache inputs, so leave those outputs out of the node");
    }
    if (in[kValueCache] == nullptr) return Error(node_, "value_cache is required");
    if ((in[kKey] == nullptr) != (in[kValue] == nullptr)) return Error(node_, "key and value must both be given or both be absent");
    if ((in[kCos] == nullptr) != (in[kSin] == nullptr)) return Error(node_, "cos_cache and sin_cache must both be given or both be absent");
    if (a_.do_rotary && in[kCos] == nullptr) return Error(node_, "do_rotary=1 needs cos_cache and sin_cache");

    std::vector<int64_t> q_shape, cache_shape, v_cache_shape, cu_shape, past_shape, table_shape;
    if (OrtStatus* s = Shape(in[kQuery], &q_shape)) return s;
    if (OrtStatus* s = Shape(in[kKeyCache], &cache_shape)) return s;
    if (OrtStatus* s = Shape(in[kValueCache], &v_cache_shape)) return s;
    if (OrtStatus* s = Shape(in[kCuSeqLen], &cu_shape)) return s;
    if (OrtStatus* s = Shape(in[kPastSeqLens], &past_shape)) return s;
    if (OrtStatus* s = Shape(in[kBlockTable], &table_shape)) return s;
    if (cache_shape.size() != 4 || cache_shape != v_cache_shape) {
      return Error(node_, "key_cache and value_cache must both be [num_blocks, block_size, kv_num_heads, head_size]");
    }
    if (q_shape.size() != 2) return Error(node_, "query must be 2-D [tokens, hidden]");
    if (cu_shape.size() != 1 || cu_shape[0] < 1) return Error(node_, "cumulative_sequence_length must be 1-D [batch + 1]");
    const int64_t batch = cu_shape[0] - 1;
    if (past_shape.size() != 1 || past_shape[0] != batch) return Error(node_, "past_seqlens must be 1-D [batch]");
    if (table_shape.size() != 2 || table_shape[0] != batch) return Error(node_, "block_table must be 2-D [batch, max_blocks]");
    if (cache_shape[2] != a_.kv_num_heads) return Error(node_, "key_cache dimension 2 must equal kv_num_heads");

    PagedAttentionProblem p{};
    p.tokens = q_shape[0];
    p.batch = batch;
    p.num_blocks = cache_shape[0];
    p.block_size = cache_shape[1];
    p.head_size = cache_shape[3];
    p.max_blocks_per_sequence = table_shape[1];
    const bool packed = in[kKey] == nullptr;
    const int64_t expected_width = (packed ? a_.num_heads + 2 * a_.kv_num_heads : a_.num_heads) * p.head_size;
    if (q_shape[1] != expected_width) {
      return Error(node_, "query width " + std::to_string(q_shape[1]) + " does not match " +
                              (packed ? "(num_heads + 2 * kv_num_heads)" : std::string("num_heads")) + " * head_size = " +
                              std::to_string(expected_width));
    }
    if (!packed) {
      std::vector<int64_t> k_shape, v_shape;
      if (OrtStatus* s = Shape(in[kKey], &k_shape)) return s;
      if (OrtStatus* s = Shape(in[kValue], &v_shape)) return s;
      const std::vector<int64_t> kv_expected = {p.tokens, a_.kv_num_heads * p.head_size};
      if (k_shape != kv_expected || v_shape != kv_expected) return Error(node_, "key and value must be [tokens, kv_num_heads * head_size]");
    }

    if (OrtStatus* s = Data(in[kQuery], const_cast<float**>(&p.query))) return s;
    if (!packed) {
      if (OrtStatus* s = Data(in[kKey], const_cast<float**>(&p.key))) return s;
      if (OrtStatus* s = Data(in[kValue], const_cast<float**>(&p.value))) return s;
    }
    // The caches are written through the input buffers, as com.microsoft.PagedAttention does.
    if (OrtStatus* s = Data(in[kKeyCache], &p.key_cache)) return s;
    if (OrtStatus* s = Data(in[kValueCache], &p.value_cache)) return s;
    if (OrtStatus* s = Data(in[kCuSeqLen], const_cast<int32_t**>(&p.cumulative_sequence_length))) return s;
    if (OrtStatus* s = Data(in[kPastSeqLens], const_cast<int32_t**>(&p.past_seqlens))) return s;
    if (OrtStatus* s = Data(in[kBlockTable], const_cast<int32_t**>(&p.block_table))) return s;
    if (p.cumulative_sequence_length[0] != 0 || p.cumulative_sequence_length[batch] != p.tokens) {
      return Error(node_, "cumulative_sequence_length must start at 0 and end at the token count " + std::to_string(p.tokens));
    }
    for (int64_t b = 0; b < batch; ++b) {
      if (p.cumulative_sequence_length[b + 1] < p.cumulative_sequence_length[b]) {
        return Error(node_, "cumulative_sequence_length must not decrease");
      }
      if (p.past_seqlens[b] < 0) return Error(node_, "past_seqlens must not be negative");
    }
    if (in[kCos] != nullptr) {
      std::vector<int64_t> cos_shape, sin_shape;
      if (OrtStatus* s = Shape(in[kCos], &cos_shape)) return s;
      if (OrtStatus* s = Shape(in[kSin], &sin_shape)) return s;
      if (cos_shape.size() != 2 || cos_shape != sin_shape || 2 * cos_shape[1] > p.head_size) {
        return Error(node_, "cos_cache and sin_cache must both be [max_position, rotary_dim / 2] with rotary_dim <= head_size");
      }
      p.rotary_dim = 2 * cos_shape[1];
      p.max_position = cos_shape[0];
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t last = p.past_seqlens[b] + p.cumulative_sequence_length[b + 1] - p.cumulative_sequence_length[b];
        if (a_.do_rotary && last > p.max_position) {
          return Error(node_, "position " + std::to_string(last - 1) + " is beyond the rotary cache (" + std::to_string(p.max_position) + " rows)");
        }
      }
      if (OrtStatus* s = Data(in[kCos], const_cast<float**>(&p.cos_cache))) return s;
      if (OrtStatus* s = Data(in[kSin], const_cast<float**>(&p.sin_cache))) return s;
    }

    const int64_t out_shape[2] = {p.tokens, a_.num_heads * p.head_size};
    OrtValue* output = nullptr;
    if (OrtStatus* s = api.KernelContext_GetOutput(context, 0, out_shape, 2, &output)) return s;
    if (OrtStatus* s = Data(output, &p.output)) return s;
    if (p.tokens == 0) return nullptr;

    std::vector<float> rotated_query(static_cast<size_t>(p.tokens * a_.num_heads * p.head_size));
    Work work{&a_, &p, rotated_query.data(), 8, p.tokens};
    if (OrtStatus* s = api.KernelContext_ParallelFor(context, WriteChunk, Chunks(work), 0, &work)) return s;
    work.chunk = 1;
    work.count = p.tokens * a_.num_heads;
    return api.KernelContext_ParallelFor(context, AttendChunk, Chunks(work), 0, &work);
  }

 private:
  static size_t Chunks(const Work& w) { return static_cast<size_t>((w.count + w.chunk - 1) / w.chunk); }

  static void WriteChunk(void* user, size_t index) {
    auto* w = static_cast<Work*>(user);
    const int64_t begin = static_cast<int64_t>(index) * w->chunk;
    PagedAttentionWriteCache(*w->attributes, *w->problem, w->rotated_query, begin, std::min(begin + w->chunk, w->count));
  }

  static void AttendChunk(void* user, size_t index) {
    auto* w = static_cast<Work*>(user);
    const int64_t begin = static_cast<int64_t>(index) * w->chunk;
    PagedAttentionAttend(*w->attributes, *w->problem, w->rotated_query, begin, std::min(begin + w->chunk, w->count));
  }

  std::string node_;
  PagedAttentionAttributes a_;
};

void ReadInt(const OrtKernelInfo* info, const char* name, int64_t* value) {
  if (OrtStatus* s = Api().KernelInfoGetAttribute_int64(info, name, value)) Api().ReleaseStatus(s);
}

void ReadFloat(const OrtKernelInfo* info, const char* name, float* value) {
  if (OrtStatus* s = Api().KernelInfoGetAttribute_float(info, name, value)) Api().ReleaseStatus(s);
}

struct PagedAttentionCpu : Ort::CustomOpBase<PagedAttentionCpu, PagedAttentionCpuKernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi& api, const OrtKernelInfo* info, void** kernel) const {
    std::string node;
    size_t size = 0;
    if (api.KernelInfo_GetNodeName(info, nullptr, &size) == nullptr && size > 0) {
      std::vector<char> name(size);
      if (OrtStatus* s = api.KernelInfo_GetNodeName(info, name.data(), &size)) return s;
      node.assign(name.data());
    }
    PagedAttentionAttributes a;
    int64_t do_rotary = 0, interleaved = 0;
    ReadInt(info, "num_heads", &a.num_heads);
    ReadInt(info, "kv_num_heads", &a.kv_num_heads);
    ReadFloat(info, "scale", &a.scale);
    ReadFloat(info, "softcap", &a.softcap);
    ReadInt(info, "local_window_size", &a.local_window_size);
    ReadInt(info, "do_rotary", &do_rotary);
    ReadInt(info, "rotary_interleaved", &interleaved);
    a.do_rotary = do_rotary != 0;
    a.rotary_interleaved = interleaved != 0;
    if (a.num_heads <= 0 || a.kv_num_heads <= 0 || a.num_heads % a.kv_num_heads != 0) {
      return Error(node, "num_heads and kv_num_heads must be positive and num_heads a multiple of kv_num_heads");
    }
    *kernel = new PagedAttentionCpuKernel(std::move(node), a);
    return nullptr;
  }

  const char* GetName() const { return "PagedAttention"; }
  const char* GetExecutionProviderType() const { return "CPUExecutionProvider"; }
  size_t GetInputTypeCount() const { return kInputCount; }
  ONNXTensorElementDataType GetInputType(size_t index) const {
    return index == kCuSeqLen || index == kPastSeqLens || index == kBlockTable ? ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32
                                                                                 : ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
  }
  OrtCustomOpInputOutputCharacteristic GetInputCharacteristic(size_t index) const {
    return index == kKey || index == kValue || index == kCos || index == kSin ? INPUT_OUTPUT_OPTIONAL : INPUT_OUTPUT_REQUIRED;
  }
  size_t GetOutputTypeCount() const { return 3; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
  OrtCustomOpInputOutputCharacteristic GetOutputCharacteristic(size_t index) const {
    return index == 0 ? INPUT_OUTPUT_REQUIRED : INPUT_OUTPUT_OPTIONAL;
  }
};

const PagedAttentionCpu kPagedAttentionCpu;

}  // namespace

const OrtCustomOp* PagedAttentionCpuOp() { return &kPagedAttentionCpu; }

}  // namespace fp6

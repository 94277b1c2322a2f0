using Fp6.Runtime.Onnx;
using Fp6.Runtime.Onnx.Proto;
using DataType = Fp6.Runtime.Onnx.Proto.TensorProto.Types.DataType;

namespace Fp6.Runtime.Graph;

/// <summary>
/// Builds the ragged, paged ONNX graph of a Llama-family decoder for one target. Linear layers are plain MatMul
/// nodes over <see cref="LinearWeightData"/> (q/k/v fused into one, gate/up fused into one); the Fp6 pass turns them
/// into Fp6Linear afterwards. Only the last new token of each sequence is unembedded. See <see cref="GraphNames"/>.
/// </summary>
public static class LlamaGraphBuilder
{
    /// <summary>Builds the graph; weights stay in <paramref name="weights"/> until the model is written or quantized.</summary>
    /// <param name="spec">The model's shape.</param>
    /// <param name="weights">The checkpoint.</param>
    /// <param name="target">The execution provider to build for.</param>
    /// <param name="unembedAllTokens">
    /// Produce logits [T, vocab] for every new token instead of [B, vocab] for the last of each sequence (for
    /// evaluating perplexity; serving never needs it).
    /// </param>
    public static OnnxModel Build(LlamaGraphSpec spec, ILlamaWeights weights, GraphTarget target, bool unembedAllTokens = false)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(weights);
        var builder = new Builder(spec, weights, target, unembedAllTokens);
        return builder.Build();
    }

    private sealed class Builder(LlamaGraphSpec spec, ILlamaWeights weights, GraphTarget target, bool unembedAllTokens)
    {
        private readonly OnnxGraphBuilder _graph = new("llama");
        private readonly Dictionary<string, InitializerData> _data = new(StringComparer.Ordinal);
        private readonly DataType _act = target == GraphTarget.Cpu ? DataType.Float : DataType.Float16;

        public OnnxModel Build()
        {
            DeclareInputs();
            Add("embed_tokens", "Gather", [Dense("model.embed_tokens.weight", spec.VocabSize, spec.HiddenSize), GraphNames.InputIds], ["hidden.0"]);
            AddRotaryTables();
            string hidden = "hidden.0";
            for (int layer = 0; layer < spec.LayerCount; layer++)
            {
                hidden = AddLayer(layer, hidden);
            }

            string unembedded = hidden;
            if (!unembedAllTokens)
            {
                // Unembed only the last new token of each sequence (rows given by the engine).
                Add("last_token_hidden", "Gather", [hidden, GraphNames.LastTokenIndices], ["last_hidden"]);
                unembedded = "last_hidden";
            }

            RmsNorm("final_norm", unembedded, "model.norm.weight", "last_hidden_normed");
            IWeightMatrix head = spec.TieWordEmbeddings || !weights.Contains("lm_head.weight")
                ? weights.GetTensor("model.embed_tokens.weight")
                : weights.GetTensor("lm_head.weight");
            string logits = target == GraphTarget.Cpu ? GraphNames.Logits : "logits_fp16";
            Linear("lm_head", "last_hidden_normed", logits, head);
            if (target == GraphTarget.Cuda)
            {
                Add("logits_to_float", "Cast", [logits], [GraphNames.Logits]).WithAttribute("to", (long)DataType.Float);
            }

            _graph.AddOutput(GraphNames.Logits, DataType.Float, unembedAllTokens ? "tokens" : "batch", spec.VocabSize);
            return new OnnxModel(_graph.Build("fp6"), _data);
        }

        private void DeclareInputs()
        {
            _graph.AddInput(GraphNames.InputIds, DataType.Int64, "tokens")
                .AddInput(GraphNames.CumulativeSequenceLength, DataType.Int32, "batch_plus_one")
                .AddInput(GraphNames.PastSequenceLengths, DataType.Int32, "batch")
                .AddInput(GraphNames.BlockTable, DataType.Int32, "batch", "max_blocks");
            if (!unembedAllTokens)
            {
                _graph.AddInput(GraphNames.LastTokenIndices, DataType.Int64, "batch");
            }

            if (target == GraphTarget.Cuda)
            {
                _graph.AddInput(GraphNames.AttentionMetadata, DataType.Int32, 2);
            }

            for (int layer = 0; layer < spec.LayerCount; layer++)
            {
                _graph.AddInput(GraphNames.KeyCache(layer), _act, "num_blocks", "block_size", spec.KvHeadCount, spec.HeadSize)
                    .AddInput(GraphNames.ValueCache(layer), _act, "num_blocks", "block_size", spec.KvHeadCount, spec.HeadSize);
            }
        }

        private string AddLayer(int layer, string hidden)
        {
            string p = $"model.layers.{layer}.";
            string l = $"layers.{layer}.";
            RmsNorm(l + "input_norm", hidden, p + "input_layernorm.weight", l + "attn_in");

            // One MatMul for q, k and v: the packed [T, (N + 2Hk) D] query layout PagedAttention accepts.
            Linear(l + "qkv_proj", l + "attn_in", l + "qkv", weights.GetTensor(p + "self_attn.q_proj.weight"), weights.GetTensor(p + "self_attn.k_proj.weight"), weights.GetTensor(p + "self_attn.v_proj.weight"));
            string qkv = l + "qkv";
            if (spec.AttentionBias)
            {
                string bias = l + "qkv_bias";
                _data[bias] = new LinearBiasData(_act, weights.GetTensor(p + "self_attn.q_proj.bias"), weights.GetTensor(p + "self_attn.k_proj.bias"), weights.GetTensor(p + "self_attn.v_proj.bias"));
                Add(l + "qkv_bias_add", "Add", [qkv, bias], [l + "qkv_biased"]);
                qkv = l + "qkv_biased";
            }

            AddAttention(layer, qkv, l + "attn_out");
            Linear(l + "o_proj", l + "attn_out", l + "o", weights.GetTensor(p + "self_attn.o_proj.weight"));
            Add(l + "attn_residual", "Add", [hidden, l + "o"], [l + "mid"]);

            RmsNorm(l + "post_attention_norm", l + "mid", p + "post_attention_layernorm.weight", l + "mlp_in");
            Linear(l + "gate_up_proj", l + "mlp_in", l + "gate_up", weights.GetTensor(p + "mlp.gate_proj.weight"), weights.GetTensor(p + "mlp.up_proj.weight"));
            Add(l + "gate_up_split", "Split", [l + "gate_up"], [l + "gate", l + "up"]).WithAttribute("axis", -1L).WithAttribute("num_outputs", 2L);
            Add(l + "gate_sigmoid", "Sigmoid", [l + "gate"], [l + "gate_sigmoid"]);
            Add(l + "gate_silu", "Mul", [l + "gate", l + "gate_sigmoid"], [l + "gate_silu"]);
            Add(l + "gated", "Mul", [l + "gate_silu", l + "up"], [l + "gated"]);
            Linear(l + "down_proj", l + "gated", l + "down", weights.GetTensor(p + "mlp.down_proj.weight"));
            string output = $"hidden.{layer + 1}";
            Add(l + "mlp_residual", "Add", [l + "mid", l + "down"], [output]);
            return output;
        }

        private void AddAttention(int layer, string qkv, string output)
        {
            var inputs = new List<string>
            {
                qkv, string.Empty, string.Empty, GraphNames.KeyCache(layer), GraphNames.ValueCache(layer),
                GraphNames.CumulativeSequenceLength, GraphNames.PastSequenceLengths, GraphNames.BlockTable, "rotary_cos", "rotary_sin",
            };
            if (target == GraphTarget.Cuda)
            {
                inputs.AddRange(Enumerable.Repeat(string.Empty, 6));
                inputs.Add(GraphNames.AttentionMetadata);
            }

            string domain = target == GraphTarget.Cpu ? "fp6llm" : "com.microsoft";
            _graph.UseOpset(domain, 1);
            NodeProto node = Add($"layers.{layer}.attention", "PagedAttention", inputs, [output], domain)
                .WithAttribute("num_heads", (long)spec.HeadCount)
                .WithAttribute("kv_num_heads", (long)spec.KvHeadCount)
                .WithAttribute("do_rotary", 1L)
                .WithAttribute("rotary_interleaved", 0L);
            if (spec.SlidingWindow > 0)
            {
                node.WithAttribute("local_window_size", (long)spec.SlidingWindow);
            }
        }

        private void AddRotaryTables()
        {
            int half = spec.RopeInverseFrequencies.Length;
            var cos = new float[(long)spec.MaxPositions * half];
            var sin = new float[cos.Length];
            for (int position = 0; position < spec.MaxPositions; position++)
            {
                for (int i = 0; i < half; i++)
                {
                    double angle = position * (double)spec.RopeInverseFrequencies[i];
                    cos[(position * half) + i] = (float)Math.Cos(angle);
                    sin[(position * half) + i] = (float)Math.Sin(angle);
                }
            }

            AddConstant("rotary_cos", Typed(cos, spec.MaxPositions, half));
            AddConstant("rotary_sin", Typed(sin, spec.MaxPositions, half));
        }

        private void RmsNorm(string name, string input, string weightName, string output)
        {
            string weight = Dense(weightName, spec.HiddenSize);
            Add(name, "SimplifiedLayerNormalization", [input, weight], [output])
                .WithAttribute("axis", -1L)
                .WithAttribute("epsilon", spec.RmsNormEpsilon);
        }

        private void Linear(string name, string input, string output, params IWeightMatrix[] parts)
        {
            string weight = name + ".weight";
            _data[weight] = new LinearWeightData(_act, parts);
            Add(name, "MatMul", [input, weight], [output]);
        }

        // A checkpoint tensor copied as is (converted to the activation type); returns its initializer name.
        private string Dense(string checkpointName, params long[] dims)
        {
            if (!_data.ContainsKey(checkpointName))
            {
                _data[checkpointName] = new DenseWeightData(weights.GetTensor(checkpointName), _act, dims);
            }

            return checkpointName;
        }

        private ArrayInitializerData Typed(float[] values, params long[] dims) =>
            _act == DataType.Float
                ? ArrayInitializerData.Create(values, dims)
                : ArrayInitializerData.Create(values.Select(v => (Half)v).ToArray(), dims);

        private void AddConstant(string name, InitializerData data) => _data[name] = data;

        private NodeProto Add(string name, string op, IEnumerable<string> inputs, IEnumerable<string> outputs, string domain = "") =>
            _graph.AddNode(op, inputs, outputs, domain, name);
    }

    // The q, k and v biases concatenated, as the activation type.
    private sealed class LinearBiasData(DataType type, params IWeightMatrix[] parts) : InitializerData
    {
        private readonly long[] _dims = [parts.Sum(p => (long)p.Rows * p.Cols)];

        public override DataType ElementType => type;

        public override IReadOnlyList<long> Dims => _dims;

        public override void ReadColumn(int column, Span<float> destination) => throw new NotSupportedException();

        public override void WriteTo(Stream destination)
        {
            foreach (IWeightMatrix part in parts)
            {
                new DenseWeightData(part, type, (long)part.Rows * part.Cols).WriteTo(destination);
            }
        }
    }
}

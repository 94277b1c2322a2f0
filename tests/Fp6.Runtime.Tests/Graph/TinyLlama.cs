using Fp6.Runtime.Graph;
using Fp6.Runtime.Tests.Quantization;

namespace Fp6.Runtime.Tests.Graph;

/// <summary>A tiny random Llama-shaped checkpoint held in memory, by Hugging Face tensor name.</summary>
internal sealed class TinyLlama : ILlamaWeights
{
    private readonly Dictionary<string, ArrayWeightMatrix> _tensors = new(StringComparer.Ordinal);

    public TinyLlama(LlamaGraphSpec spec, int seed)
    {
        Spec = spec;
        var random = new Random(seed);
        int h = spec.HiddenSize, d = spec.HeadSize;
        Add(random, "model.embed_tokens.weight", spec.VocabSize, h, 1f);
        for (int layer = 0; layer < spec.LayerCount; layer++)
        {
            string p = $"model.layers.{layer}.";
            Add(random, p + "self_attn.q_proj.weight", spec.HeadCount * d, h, 1f / MathF.Sqrt(h));
            Add(random, p + "self_attn.k_proj.weight", spec.KvHeadCount * d, h, 1f / MathF.Sqrt(h));
            Add(random, p + "self_attn.v_proj.weight", spec.KvHeadCount * d, h, 1f / MathF.Sqrt(h));
            Add(random, p + "self_attn.o_proj.weight", h, spec.HeadCount * d, 1f / MathF.Sqrt(h));
            Add(random, p + "mlp.gate_proj.weight", spec.IntermediateSize, h, 1f / MathF.Sqrt(h));
            Add(random, p + "mlp.up_proj.weight", spec.IntermediateSize, h, 1f / MathF.Sqrt(h));
            Add(random, p + "mlp.down_proj.weight", h, spec.IntermediateSize, 1f / MathF.Sqrt(spec.IntermediateSize));
            AddNorm(random, p + "input_layernorm.weight", h);
            AddNorm(random, p + "post_attention_layernorm.weight", h);
            if (spec.AttentionBias)
            {
                Add(random, p + "self_attn.q_proj.bias", 1, spec.HeadCount * d, 0.1f);
                Add(random, p + "self_attn.k_proj.bias", 1, spec.KvHeadCount * d, 0.1f);
                Add(random, p + "self_attn.v_proj.bias", 1, spec.KvHeadCount * d, 0.1f);
            }
        }

        AddNorm(random, "model.norm.weight", h);
        if (!spec.TieWordEmbeddings)
        {
            Add(random, "lm_head.weight", spec.VocabSize, h, 1f / MathF.Sqrt(h));
        }
    }

    public LlamaGraphSpec Spec { get; }

    public static LlamaGraphSpec SmallSpec(bool qwenStyle = false) => new(
        HiddenSize: 64, IntermediateSize: 96, LayerCount: 2, HeadCount: 4, KvHeadCount: 2, HeadSize: 16, VocabSize: 50,
        RmsNormEpsilon: 1e-5f, RopeInverseFrequencies: LlamaGraphSpec.DefaultRopeFrequencies(16, 10000), MaxPositions: 128,
        TieWordEmbeddings: qwenStyle, AttentionBias: qwenStyle);

    public IWeightMatrix GetTensor(string name) =>
        _tensors.TryGetValue(name, out ArrayWeightMatrix? m) ? m : throw new KeyNotFoundException($"No tensor '{name}'.");

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public float[] Values(string name) => _tensors[name].Values;

    public IEnumerable<string> TensorNames => _tensors.Keys;

    private void Add(Random random, string name, int rows, int cols, float sigma) =>
        _tensors[name] = new ArrayWeightMatrix(name, Fp6RowQuantizerTests.Gaussian(random, rows * cols, sigma), rows, cols);

    private void AddNorm(Random random, string name, int size) =>
        _tensors[name] = new ArrayWeightMatrix(name, Enumerable.Range(0, size).Select(_ => 1f + (0.2f * (float)(random.NextDouble() - 0.5))).ToArray(), 1, size);
}

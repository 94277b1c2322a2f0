namespace Fp6.Runtime.Graph;

/// <summary>The numbers that shape a Llama-family graph (Llama, Mistral, Qwen2).</summary>
/// <param name="HiddenSize">Model width.</param>
/// <param name="IntermediateSize">MLP width.</param>
/// <param name="LayerCount">Decoder layers.</param>
/// <param name="HeadCount">Query heads.</param>
/// <param name="KvHeadCount">Key/value heads (grouped-query attention).</param>
/// <param name="HeadSize">Channels per head.</param>
/// <param name="VocabSize">Vocabulary size.</param>
/// <param name="RmsNormEpsilon">RMSNorm epsilon.</param>
/// <param name="RopeInverseFrequencies">θ_i for i &lt; HeadSize/2 (after any rope scaling).</param>
/// <param name="MaxPositions">Rows of the rotary tables: the longest sequence the graph serves.</param>
/// <param name="TieWordEmbeddings">lm_head is the transposed embedding table.</param>
/// <param name="AttentionBias">q/k/v projections have biases (Qwen2).</param>
/// <param name="SlidingWindow">Attention window (Mistral), or 0 for none.</param>
public sealed record LlamaGraphSpec(
    int HiddenSize,
    int IntermediateSize,
    int LayerCount,
    int HeadCount,
    int KvHeadCount,
    int HeadSize,
    int VocabSize,
    float RmsNormEpsilon,
    float[] RopeInverseFrequencies,
    int MaxPositions,
    bool TieWordEmbeddings,
    bool AttentionBias,
    int SlidingWindow = 0)
{
    /// <summary>Standard RoPE inverse frequencies θ^(-2i/d).</summary>
    public static float[] DefaultRopeFrequencies(int headSize, double theta) =>
        Enumerable.Range(0, headSize / 2).Select(i => (float)(1.0 / Math.Pow(theta, 2.0 * i / headSize))).ToArray();
}

using Fp6.Runtime.Graph;
using Fp6.Runtime.Models.Checkpoints;

namespace Fp6.Runtime.Conversion;

/// <summary>Derives the graph's shape from a checkpoint's config.json.</summary>
public static class LlamaGraphSpecs
{
    /// <summary>The graph spec of <paramref name="config"/>, serving sequences up to <paramref name="maxPositions"/> long.</summary>
    /// <exception cref="NotSupportedException">The config uses a feature the graph builder does not build (the message says which).</exception>
    public static LlamaGraphSpec FromConfig(ModelConfig config, int maxPositions)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!string.Equals(config.HiddenAct, "silu", StringComparison.Ordinal))
        {
            throw new NotSupportedException($"Activation '{config.HiddenAct}' is not supported (only silu).");
        }

        if (config.OutputProjectionBias || config.MlpBias)
        {
            throw new NotSupportedException("Biases on o_proj or the MLP are not supported (only q/k/v biases, as in Qwen2).");
        }

        return new LlamaGraphSpec(
            config.HiddenSize,
            config.IntermediateSize,
            config.NumHiddenLayers,
            config.NumAttentionHeads,
            config.NumKeyValueHeads,
            config.HeadDim,
            config.VocabSize,
            (float)config.RmsNormEps,
            config.ComputeRopeInverseFrequencies(maxPositions),
            maxPositions,
            config.TieWordEmbeddings,
            config.QkvBias,
            config.ModelType == "mistral" ? config.SlidingWindow ?? 0 : 0);
    }
}

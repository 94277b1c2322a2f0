namespace Fp6.Runtime.Models.Checkpoints;

/// <summary>
/// The architecture of a Llama-family decoder as read from a Hugging Face <c>config.json</c> (model types "llama",
/// "mistral" and "qwen2"), normalised so the graph builder need not know the family's quirks: head_dim is always
/// set, biases are spelled out per projection, and the sliding window is null when the model does not use one.
/// Load it with <see cref="ModelConfigReader"/>.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>The <c>model_type</c> ("llama", "mistral" or "qwen2").</summary>
    public required string ModelType { get; init; }

    /// <summary>The <c>architectures</c> list (e.g. "LlamaForCausalLM"); empty when absent.</summary>
    public IReadOnlyList<string> Architectures { get; init; } = [];

    /// <summary>Width of the residual stream (<c>hidden_size</c>).</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Width of the MLP's gate/up projections (<c>intermediate_size</c>).</summary>
    public required int IntermediateSize { get; init; }

    /// <summary>Number of decoder layers (<c>num_hidden_layers</c>).</summary>
    public required int NumHiddenLayers { get; init; }

    /// <summary>Number of query heads (<c>num_attention_heads</c>).</summary>
    public required int NumAttentionHeads { get; init; }

    /// <summary>Number of key/value heads (<c>num_key_value_heads</c>; equals the query heads when absent).</summary>
    public required int NumKeyValueHeads { get; init; }

    /// <summary>Channels per head: <c>head_dim</c> when given (it may differ from hidden/heads), else hidden_size / heads.</summary>
    public required int HeadDim { get; init; }

    /// <summary>Rows of the embedding and of the LM head (<c>vocab_size</c>).</summary>
    public required int VocabSize { get; init; }

    /// <summary>The RoPE base (<c>rope_theta</c>; 10000 when absent).</summary>
    public required double RopeTheta { get; init; }

    /// <summary>The RoPE scaling, or null for plain RoPE ("default" counts as none).</summary>
    public RopeScaling? RopeScaling { get; init; }

    /// <summary>The longest context the config declares (<c>max_position_embeddings</c>).</summary>
    public required int MaxPositionEmbeddings { get; init; }

    /// <summary>Epsilon of every RMSNorm (<c>rms_norm_eps</c>).</summary>
    public required double RmsNormEps { get; init; }

    /// <summary>True when the LM head reuses the embedding matrix (<c>tie_word_embeddings</c>).</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary>True when q_proj, k_proj and v_proj have biases (always for Qwen2; <c>attention_bias</c> for Llama).</summary>
    public bool QkvBias { get; init; }

    /// <summary>True when o_proj has a bias (<c>attention_bias</c> for Llama; never for Qwen2 or Mistral).</summary>
    public bool OutputProjectionBias { get; init; }

    /// <summary>True when the MLP projections have biases (<c>mlp_bias</c>, Llama only).</summary>
    public bool MlpBias { get; init; }

    /// <summary>The activation of the gated MLP (<c>hidden_act</c>; "silu" for all three families).</summary>
    public string HiddenAct { get; init; } = "silu";

    /// <summary>Beginning-of-sequence token id, or null.</summary>
    public int? BosTokenId { get; init; }

    /// <summary>End-of-sequence token ids: <c>eos_token_id</c> may be one id or a list (Llama 3 instruct has several).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Padding token id, or null.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>The dtype the weights were saved in (<c>torch_dtype</c>, or <c>dtype</c> in newer configs), e.g. "bfloat16".</summary>
    public string? TorchDtype { get; init; }

    /// <summary>
    /// The attention window when sliding-window attention is in use, else null. Mistral sets <c>sliding_window</c>
    /// (or null); Qwen2 writes a window but uses it only when <c>use_sliding_window</c> is true.
    /// </summary>
    public int? SlidingWindow { get; init; }

    /// <summary>Qwen2: layers from this index on use the sliding window (<c>max_window_layers</c>); null otherwise.</summary>
    public int? MaxWindowLayers { get; init; }

    /// <summary>Number of query heads that share one key/value head.</summary>
    public int QueriesPerKeyValueHead => NumAttentionHeads / NumKeyValueHeads;

    /// <summary>
    /// The RoPE inverse frequencies for this model (head_dim / 2 values), scaling included; see
    /// <see cref="RopeFrequencies.Compute"/>. <paramref name="sequenceLength"/> matters only for dynamic scaling.
    /// </summary>
    public float[] ComputeRopeInverseFrequencies(int? sequenceLength = null) =>
        RopeFrequencies.Compute(HeadDim, RopeTheta, RopeScaling, MaxPositionEmbeddings, sequenceLength);
}

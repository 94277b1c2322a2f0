namespace Fp6.Runtime.Graph;

/// <summary>Which execution provider a graph is built for; it decides activation precision and the attention op.</summary>
public enum GraphTarget
{
    /// <summary>CPU EP: float32 activations, our fp6llm.PagedAttention, Fp6Linear layout rowblock32.</summary>
    Cpu,

    /// <summary>CUDA EP: float16 activations, com.microsoft.PagedAttention, Fp6Linear layout tcfpx.</summary>
    Cuda,
}

/// <summary>The names of the graph's inputs and outputs: the contract between graph builder and engine.</summary>
public static class GraphNames
{
    /// <summary>int64 [T]: every new token of every scheduled sequence, no padding.</summary>
    public const string InputIds = "input_ids";

    /// <summary>int32 [B+1]: prefix sums of the new-token counts.</summary>
    public const string CumulativeSequenceLength = "cumulative_sequence_length";

    /// <summary>int32 [B]: tokens already in the cache for each sequence.</summary>
    public const string PastSequenceLengths = "past_seqlens";

    /// <summary>int32 [B, M]: physical cache block of each logical block.</summary>
    public const string BlockTable = "block_table";

    /// <summary>
    /// int64 [B]: the row in <see cref="InputIds"/> of each sequence's last new token (cumulative_sequence_length[b+1] - 1),
    /// the rows that are unembedded. Fed by the engine rather than computed in the graph: it is host knowledge anyway,
    /// and the in-graph Slice/Sub/Gather on int32 crashed ONNX Runtime 1.29's CUDA EP.
    /// </summary>
    public const string LastTokenIndices = "last_token_indices";

    /// <summary>int32 [2], host memory, CUDA only: [max new tokens of a sequence, max total length of a sequence].</summary>
    public const string AttentionMetadata = "attention_metadata";

    /// <summary>float [B, vocab]: logits of the last new token of each sequence.</summary>
    public const string Logits = "logits";

    /// <summary>The key cache of a layer, [blocks, block_size, kv_heads, head_size], updated in place.</summary>
    public static string KeyCache(int layer) => $"key_cache.{layer}";

    /// <summary>The value cache of a layer.</summary>
    public static string ValueCache(int layer) => $"value_cache.{layer}";
}

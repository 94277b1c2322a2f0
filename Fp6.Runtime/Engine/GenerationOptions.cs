using Fp6.Runtime.Sampling;

namespace Fp6.Runtime.Engine;

/// <summary>Why generation stopped.</summary>
public enum GenerationFinish
{
    /// <summary>The model produced an end-of-sequence token or a stop sequence.</summary>
    Stop,

    /// <summary>The token limit or the context length was reached.</summary>
    Length,
}

/// <summary>Limits and sampling for one generation.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate.</summary>
    public int MaxNewTokens { get; init; } = 256;

    /// <summary>How tokens are chosen.</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Text that ends generation when it appears in the output (it is not returned).</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];
}

/// <summary>One step of generated output.</summary>
/// <param name="Text">New text (may be empty while a multi-byte character is incomplete).</param>
/// <param name="TokenId">The token generated, or -1 for a final flush.</param>
/// <param name="Finish">Set on the last update.</param>
public sealed record GeneratedText(string Text, int TokenId, GenerationFinish? Finish);

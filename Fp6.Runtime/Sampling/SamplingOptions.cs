namespace Fp6.Runtime.Sampling;

/// <summary>How the next token is chosen from the logits.</summary>
public sealed record SamplingOptions
{
    /// <summary>0 picks the most likely token (greedy); higher values flatten the distribution.</summary>
    public float Temperature { get; init; } = 0.7f;

    /// <summary>Keep only the k most likely tokens (0: no limit).</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Keep the smallest set of most likely tokens whose probability reaches p (1: no limit).</summary>
    public float TopP { get; init; } = 0.9f;

    /// <summary>Seed for reproducible sampling (null: a random seed).</summary>
    public int? Seed { get; init; }

    /// <summary>Greedy decoding.</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0, TopK = 0, TopP = 1 };

    /// <summary>Checks the values and throws with a message naming the bad one.</summary>
    public void Validate()
    {
        if (!(Temperature >= 0) || float.IsInfinity(Temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be a finite number >= 0.");
        }

        if (TopK < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "TopK must be >= 0.");
        }

        if (!(TopP > 0 && TopP <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "TopP must be in (0, 1].");
        }
    }
}

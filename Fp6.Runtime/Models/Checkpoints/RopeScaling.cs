namespace Fp6.Runtime.Models.Checkpoints;

/// <summary>
/// The <c>rope_scaling</c> (or, in newer configs, <c>rope_parameters</c>) entry of config.json: how the rotary
/// position embedding is stretched beyond the length the model was trained on.
/// </summary>
/// <param name="Type">
/// The scaling type as written ("linear", "dynamic", "llama3", or others such as "yarn" that are stored but cannot be
/// computed by <see cref="RopeFrequencies"/>).
/// </param>
/// <param name="Factor">The stretch factor (the <c>factor</c> field).</param>
public sealed record RopeScaling(string Type, double Factor)
{
    /// <summary>Linear (position interpolation): every inverse frequency is divided by <see cref="Factor"/>.</summary>
    public const string Linear = "linear";

    /// <summary>Dynamic NTK: the RoPE base grows with the sequence length once it exceeds the trained length.</summary>
    public const string Dynamic = "dynamic";

    /// <summary>Llama 3.1: low frequencies divided by the factor, high ones kept, the band between interpolated.</summary>
    public const string Llama3 = "llama3";

    /// <summary>llama3: wavelengths longer than original_max_position_embeddings / low_freq_factor are fully scaled.</summary>
    public double? LowFreqFactor { get; init; }

    /// <summary>llama3: wavelengths shorter than original_max_position_embeddings / high_freq_factor are kept.</summary>
    public double? HighFreqFactor { get; init; }

    /// <summary>The context length the model was pre-trained with (llama3, and optionally dynamic).</summary>
    public int? OriginalMaxPositionEmbeddings { get; init; }
}

namespace Fp6.Runtime.Models.Checkpoints;

/// <summary>
/// Rotary-embedding inverse frequencies, inv_freq[i] = 1 / theta^(2i / d) for i in [0, d/2), with the scalings of
/// <see cref="RopeScaling"/> applied the way Hugging Face transformers applies them. The cos/sin caches of the graph
/// are built from these. Computed in double and rounded once to float.
/// </summary>
public static class RopeFrequencies
{
    /// <summary>
    /// Computes the d/2 inverse frequencies.
    /// </summary>
    /// <param name="rotaryDimension">d: the number of rotated channels per head (head_dim); must be even.</param>
    /// <param name="theta">The RoPE base (rope_theta).</param>
    /// <param name="scaling">The scaling, or null for plain RoPE.</param>
    /// <param name="maxPositionEmbeddings">max_position_embeddings of the config (dynamic scaling measures against it).</param>
    /// <param name="sequenceLength">
    /// For dynamic scaling only: the current sequence length; at or below the trained length (or when null) the
    /// frequencies are the unscaled ones.
    /// </param>
    /// <exception cref="NotSupportedException">The scaling type is one this method does not implement (e.g. "yarn").</exception>
    public static float[] Compute(int rotaryDimension, double theta, RopeScaling? scaling, int maxPositionEmbeddings, int? sequenceLength = null)
    {
        if (rotaryDimension <= 0 || rotaryDimension % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rotaryDimension), rotaryDimension, "the rotary dimension must be positive and even");
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(theta);

        double[] frequencies;
        switch (scaling?.Type)
        {
            case null:
                frequencies = Unscaled(rotaryDimension, theta);
                break;
            case RopeScaling.Linear:
                frequencies = Unscaled(rotaryDimension, theta);
                for (int i = 0; i < frequencies.Length; i++)
                {
                    frequencies[i] /= scaling.Factor;
                }
                break;
            case RopeScaling.Dynamic:
                frequencies = Unscaled(rotaryDimension, DynamicBase(rotaryDimension, theta, scaling, maxPositionEmbeddings, sequenceLength));
                break;
            case RopeScaling.Llama3:
                frequencies = Llama3(Unscaled(rotaryDimension, theta), scaling);
                break;
            default:
                throw new NotSupportedException($"rope_scaling type '{scaling.Type}' is stored but its frequencies are not implemented (supported: linear, dynamic, llama3)");
        }
        return Array.ConvertAll(frequencies, f => (float)f);
    }

    private static double[] Unscaled(int dimension, double theta)
    {
        var frequencies = new double[dimension / 2];
        for (int i = 0; i < frequencies.Length; i++)
        {
            frequencies[i] = 1.0 / Math.Pow(theta, 2.0 * i / dimension);
        }
        return frequencies;
    }

    private static double DynamicBase(int dimension, double theta, RopeScaling scaling, int maxPositionEmbeddings, int? sequenceLength)
    {
        int trainedLength = scaling.OriginalMaxPositionEmbeddings ?? maxPositionEmbeddings;
        if (sequenceLength is not int length || length <= trainedLength)
        {
            return theta;
        }
        // NTK-aware: stretch the base so the lowest frequency covers the longer sequence (transformers' formula).
        double stretch = (scaling.Factor * length / trainedLength) - (scaling.Factor - 1);
        return theta * Math.Pow(stretch, dimension / (dimension - 2.0));
    }

    private static double[] Llama3(double[] frequencies, RopeScaling scaling)
    {
        double factor = scaling.Factor;
        double lowFreqFactor = scaling.LowFreqFactor ?? throw MissingField("low_freq_factor");
        double highFreqFactor = scaling.HighFreqFactor ?? throw MissingField("high_freq_factor");
        double originalLength = scaling.OriginalMaxPositionEmbeddings ?? throw MissingField("original_max_position_embeddings");

        double lowFreqWavelength = originalLength / lowFreqFactor;
        double highFreqWavelength = originalLength / highFreqFactor;
        var scaled = new double[frequencies.Length];
        for (int i = 0; i < frequencies.Length; i++)
        {
            double wavelength = 2 * Math.PI / frequencies[i];
            if (wavelength < highFreqWavelength)
            {
                scaled[i] = frequencies[i];
            }
            else if (wavelength > lowFreqWavelength)
            {
                scaled[i] = frequencies[i] / factor;
            }
            else
            {
                double smooth = ((originalLength / wavelength) - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                scaled[i] = ((1 - smooth) * frequencies[i] / factor) + (smooth * frequencies[i]);
            }
        }
        return scaled;
    }

    private static FormatException MissingField(string field) => new($"rope_scaling type 'llama3' needs '{field}'");
}

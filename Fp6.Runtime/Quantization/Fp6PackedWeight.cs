namespace Fp6.Runtime.Quantization;

/// <summary>A weight matrix [rows = out_features, cols = in_features] quantized to FP6 e3m2 and packed.</summary>
/// <param name="Layout">How <paramref name="Packed"/> is arranged.</param>
/// <param name="Rows">Output features (N).</param>
/// <param name="Cols">Input features (K).</param>
/// <param name="Packed">The packed codes, <see cref="Fp6WeightLayouts.PackedByteCount"/> bytes.</param>
/// <param name="Scales">One fp16 scale per row: weight = code value × scale.</param>
public sealed record Fp6PackedWeight(Fp6WeightLayout Layout, int Rows, int Cols, byte[] Packed, Half[] Scales)
{
    /// <summary>Bytes the same matrix takes as fp16, for reporting savings.</summary>
    public long Fp16ByteCount => 2L * Rows * Cols;
}

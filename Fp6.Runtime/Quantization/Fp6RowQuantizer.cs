using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Fp6.Runtime.Quantization;

/// <summary>
/// Quantizes one output row of a weight matrix to FP6 e3m2 with one fp16 scale:
/// scale = round_fp16(absmax / 28), then code = round_to_nearest_even(w / scale), saturating.
/// Rounding the scale first means dequantization (code value × scale) uses the very scale quantization divided by.
/// </summary>
public static class Fp6RowQuantizer
{
    /// <summary>The scale of a row whose weights are all zero (any positive scale would do; 1 is exact).</summary>
    public static readonly Half ZeroRowScale = Half.One;

    /// <summary>
    /// Quantizes <paramref name="row"/> into <paramref name="codes"/> and returns the row's scale.
    /// </summary>
    /// <param name="row">The weights of one output row.</param>
    /// <param name="codes">Receives one code per weight (low 6 bits).</param>
    /// <param name="tensorName">Named in errors.</param>
    /// <param name="rowIndex">Named in errors.</param>
    /// <exception cref="InvalidDataException">A weight is NaN or infinite, or the row is too large for an fp16 scale.</exception>
    public static Half QuantizeRow(ReadOnlySpan<float> row, Span<byte> codes, string tensorName, int rowIndex)
    {
        if (codes.Length < row.Length)
        {
            throw new ArgumentException("The code buffer is shorter than the row.", nameof(codes));
        }

        float absMax = row.IsEmpty ? 0f : TensorPrimitives.MaxMagnitude(row);
        if (!float.IsFinite(absMax))
        {
            int column = FindNonFinite(row);
            throw new InvalidDataException(
                $"Tensor '{tensorName}' has a non-finite weight ({row[column]}) at [{rowIndex}, {column}]; it cannot be quantized.");
        }

        absMax = MathF.Abs(absMax);
        if (absMax == 0f)
        {
            codes[..row.Length].Clear();
            return ZeroRowScale;
        }

        Half scale = (Half)(absMax / Fp6E3M2.MaxValue);
        if (Half.IsInfinity(scale))
        {
            throw new InvalidDataException(
                $"Tensor '{tensorName}' row {rowIndex} has magnitude {absMax}, too large for an fp16 scale (max {(float)Half.MaxValue * Fp6E3M2.MaxValue}).");
        }

        if (scale == Half.Zero)
        {
            // Below the fp16 range: the smallest subnormal keeps the row's signs and largest weights.
            scale = Half.Epsilon;
        }

        EncodeScaled(row, codes, (float)scale);
        return scale;
    }

    private static void EncodeScaled(ReadOnlySpan<float> row, Span<byte> codes, float scale)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> divisor = Vector256.Create(scale);
            ref float source = ref MemoryMarshal.GetReference(row);
            ref byte destination = ref MemoryMarshal.GetReference(codes);
            for (; i + 32 <= row.Length; i += 32)
            {
                Vector256<int> c0 = Fp6E3M2.Encode(Vector256.LoadUnsafe(ref source, (nuint)i) / divisor);
                Vector256<int> c1 = Fp6E3M2.Encode(Vector256.LoadUnsafe(ref source, (nuint)(i + 8)) / divisor);
                Vector256<int> c2 = Fp6E3M2.Encode(Vector256.LoadUnsafe(ref source, (nuint)(i + 16)) / divisor);
                Vector256<int> c3 = Fp6E3M2.Encode(Vector256.LoadUnsafe(ref source, (nuint)(i + 24)) / divisor);
                Vector256<short> low = Vector256.Narrow(c0, c1);
                Vector256<short> high = Vector256.Narrow(c2, c3);
                Vector256.Narrow(low.AsUInt16(), high.AsUInt16()).StoreUnsafe(ref destination, (nuint)i);
            }
        }

        for (; i < row.Length; i++)
        {
            codes[i] = Fp6E3M2.Encode(row[i] / scale);
        }
    }

    private static int FindNonFinite(ReadOnlySpan<float> row)
    {
        for (int i = 0; i < row.Length; i++)
        {
            if (!float.IsFinite(row[i]))
            {
                return i;
            }
        }

        return 0;
    }
}

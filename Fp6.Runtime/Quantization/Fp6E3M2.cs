using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fp6.Runtime.Quantization;

/// <summary>
/// The FP6 e3m2 number format: 1 sign, 3 exponent (bias 3) and 2 mantissa bits, no infinities or NaN.
/// Magnitudes run from 0.0625 (smallest subnormal) to 28; see docs/fp6-format.md.
/// </summary>
public static class Fp6E3M2
{
    /// <summary>The largest magnitude, code 0x1F (and -28 with the sign bit, 0x3F).</summary>
    public const float MaxValue = 28f;

    /// <summary>The number of distinct 6-bit codes.</summary>
    public const int CodeCount = 64;

    /// <summary>The bit that carries the sign in a code.</summary>
    public const byte SignBit = 0x20;

    private const float SmallestNormal = 0.25f;

    private static readonly float[] s_values = BuildValues();

    /// <summary>The value of every code, indexed by code (0..63).</summary>
    public static ReadOnlySpan<float> Values => s_values;

    /// <summary>The exact value of a code; bits above bit 5 are ignored.</summary>
    public static float Decode(byte code) => s_values[code & 0x3F];

    /// <summary>
    /// Rounds a value to the nearest code, ties to an even mantissa, saturating at ±28. Subnormal values are kept.
    /// Negative values that round to zero give -0 (0x20).
    /// </summary>
    /// <exception cref="ArgumentException">The value is NaN.</exception>
    public static byte Encode(float value)
    {
        if (float.IsNaN(value))
        {
            throw new ArgumentException("NaN has no FP6 e3m2 code.", nameof(value));
        }

        int sign = (int)(BitConverter.SingleToUInt32Bits(value) >> 26) & SignBit;
        float magnitude = MathF.Min(MathF.Abs(value), MaxValue);
        if (magnitude < SmallestNormal)
        {
            // Subnormals are multiples of 1/16: codes 0..3, and 4 (= 0.25, the smallest normal) after rounding up.
            return (byte)(sign | (int)MathF.Round(magnitude * 16f, MidpointRounding.ToEven));
        }

        return (byte)(sign | RoundNormal((int)BitConverter.SingleToUInt32Bits(magnitude)));
    }

    /// <summary>
    /// Encodes eight values at once, exactly as <see cref="Encode(float)"/> does each (the caller has rejected NaN).
    /// Returns the codes in the low byte of each lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> Encode(Vector256<float> values)
    {
        Vector256<int> sign = Vector256.ShiftRightLogical(values.AsInt32(), 26) & Vector256.Create((int)SignBit);
        Vector256<float> magnitude = Vector256.Min(Vector256.Abs(values), Vector256.Create(MaxValue));
        Vector256<int> subnormal = Vector256.ConvertToInt32(Vector256.Round(magnitude * 16f));
        Vector256<int> normal = RoundNormal(magnitude.AsInt32());
        Vector256<int> isSubnormal = Vector256.LessThan(magnitude, Vector256.Create(SmallestNormal)).AsInt32();
        return Vector256.ConditionalSelect(isSubnormal, subnormal, normal) | sign;
    }

    // Keeps 2 of the 23 float mantissa bits with round-to-nearest-even (a carry moves into the exponent, which is
    // exactly the next binade), then re-biases the exponent from 127 to 3.
    private static int RoundNormal(int bits)
    {
        int rounded = bits + 0xFFFFF + ((bits >> 21) & 1);
        int exponent = (rounded >> 23) - 124;
        int mantissa = (rounded >> 21) & 3;
        return (exponent << 2) | mantissa;
    }

    private static Vector256<int> RoundNormal(Vector256<int> bits)
    {
        Vector256<int> one = Vector256.Create(1);
        Vector256<int> rounded = bits + Vector256.Create(0xFFFFF) + (Vector256.ShiftRightLogical(bits, 21) & one);
        Vector256<int> exponent = Vector256.ShiftRightLogical(rounded, 23) - Vector256.Create(124);
        Vector256<int> mantissa = Vector256.ShiftRightLogical(rounded, 21) & Vector256.Create(3);
        return Vector256.ShiftLeft(exponent, 2) | mantissa;
    }

    private static float[] BuildValues()
    {
        var values = new float[CodeCount];
        for (int code = 0; code < CodeCount; code++)
        {
            int exponent = (code >> 2) & 7;
            int mantissa = code & 3;
            float magnitude = exponent == 0
                ? mantissa / 16f
                : (1f + (mantissa / 4f)) * MathF.Pow(2f, exponent - 3);
            values[code] = (code & SignBit) != 0 ? -magnitude : magnitude;
        }

        return values;
    }
}

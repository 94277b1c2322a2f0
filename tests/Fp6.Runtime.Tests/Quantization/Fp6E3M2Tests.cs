using Fp6.Runtime.Quantization;
using Fp6.Runtime.Tests.Support;

namespace Fp6.Runtime.Tests.Quantization;

[TestClass]
public sealed class Fp6E3M2Tests
{
    // The 32 non-negative values, one binade (E = 0..7) per group of four.
    private static readonly float[] s_expectedMagnitudes =
    [
        0f, 0.0625f, 0.125f, 0.1875f, 0.25f, 0.3125f, 0.375f, 0.4375f,
        0.5f, 0.625f, 0.75f, 0.875f, 1f, 1.25f, 1.5f, 1.75f,
        2f, 2.5f, 3f, 3.5f, 4f, 5f, 6f, 7f,
        8f, 10f, 12f, 14f, 16f, 20f, 24f, 28f,
    ];

    [TestMethod]
    public void Decode_covers_all_64_codes_exactly()
    {
        for (int code = 0; code < 64; code++)
        {
            float magnitude = s_expectedMagnitudes[code & 0x1F];
            float expected = (code & 0x20) != 0 ? -magnitude : magnitude;
            Assert.AreEqual(expected, Fp6E3M2.Decode((byte)code), $"code 0x{code:X2}");
            Assert.AreEqual(expected, NativeCustomOps.DecodeE3M2((byte)code), $"native decode of code 0x{code:X2}");
        }

        Assert.IsTrue(float.IsNegative(Fp6E3M2.Decode(0x20)), "0x20 is -0");
    }

    [TestMethod]
    public void Encode_inverts_decode_for_every_code()
    {
        for (int code = 0; code < 64; code++)
        {
            Assert.AreEqual((byte)code, Fp6E3M2.Encode(Fp6E3M2.Decode((byte)code)), $"code 0x{code:X2}");
        }
    }

    [TestMethod]
    public void Encode_rounds_midpoints_to_even_mantissa()
    {
        for (int i = 0; i + 1 < s_expectedMagnitudes.Length; i++)
        {
            float low = s_expectedMagnitudes[i];
            float high = s_expectedMagnitudes[i + 1];
            float midpoint = (low + high) / 2;
            int expectedIndex = i % 2 == 0 ? i : i + 1;
            Assert.AreEqual((byte)expectedIndex, Fp6E3M2.Encode(midpoint), $"midpoint {midpoint}");
            Assert.AreEqual((byte)(expectedIndex | 0x20), Fp6E3M2.Encode(-midpoint), $"midpoint {-midpoint}");
            Assert.AreEqual((byte)i, Fp6E3M2.Encode(BitDecrement(midpoint)), $"just below {midpoint}");
            Assert.AreEqual((byte)(i + 1), Fp6E3M2.Encode(BitIncrement(midpoint)), $"just above {midpoint}");
        }
    }

    [TestMethod]
    public void Encode_saturates_at_28_and_keeps_signs()
    {
        Assert.AreEqual((byte)0x1F, Fp6E3M2.Encode(29.9f));
        Assert.AreEqual((byte)0x1F, Fp6E3M2.Encode(1e30f));
        Assert.AreEqual((byte)0x1F, Fp6E3M2.Encode(float.PositiveInfinity));
        Assert.AreEqual((byte)0x3F, Fp6E3M2.Encode(float.NegativeInfinity));
        Assert.AreEqual((byte)0x20, Fp6E3M2.Encode(-0.01f), "negative values that round to zero keep their sign");
        Assert.ThrowsExactly<ArgumentException>(() => Fp6E3M2.Encode(float.NaN));
    }

    [TestMethod]
    public void Encode_matches_brute_force_nearest_value_on_random_inputs()
    {
        var random = new Random(1234);
        for (int i = 0; i < 200_000; i++)
        {
            float value = (float)((random.NextDouble() * 2) - 1) * (float)Math.Pow(2, random.Next(-8, 6));
            Assert.AreEqual(BruteForce(value), Fp6E3M2.Encode(value), $"value {value}");
        }
    }

    [TestMethod]
    public void Vector_encode_matches_scalar_encode()
    {
        var random = new Random(99);
        var values = new float[8];
        for (int i = 0; i < 20_000; i++)
        {
            for (int j = 0; j < 8; j++)
            {
                values[j] = i < 64 ? Fp6E3M2.Decode((byte)((i + j) % 64)) : (float)((random.NextDouble() * 70) - 35);
            }

            System.Runtime.Intrinsics.Vector256<int> codes = Fp6E3M2.Encode(System.Runtime.Intrinsics.Vector256.Create(values));
            for (int j = 0; j < 8; j++)
            {
                Assert.AreEqual(Fp6E3M2.Encode(values[j]), (byte)System.Runtime.Intrinsics.Vector256.GetElement(codes, j), $"value {values[j]}");
            }
        }
    }

    // The nearest representable value, ties to the even code (mantissa LSB 0), saturating; an independent oracle.
    private static byte BruteForce(float value)
    {
        float magnitude = Math.Min(Math.Abs(value), 28f);
        int best = 0;
        for (int i = 1; i < 32; i++)
        {
            float distance = Math.Abs(s_expectedMagnitudes[i] - magnitude);
            float bestDistance = Math.Abs(s_expectedMagnitudes[best] - magnitude);
            if (distance < bestDistance || (distance == bestDistance && i % 2 == 0))
            {
                best = i;
            }
        }

        return (byte)(best | (float.IsNegative(value) ? 0x20 : 0));
    }

    private static float BitIncrement(float x) => MathF.BitIncrement(x);

    private static float BitDecrement(float x) => MathF.BitDecrement(x);
}

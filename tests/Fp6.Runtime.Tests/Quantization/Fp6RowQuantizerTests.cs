using Fp6.Runtime.Quantization;

namespace Fp6.Runtime.Tests.Quantization;

[TestClass]
public sealed class Fp6RowQuantizerTests
{
    [TestMethod]
    [DataRow(1)]
    [DataRow(31)]
    [DataRow(32)]
    [DataRow(1000)]
    [DataRow(4099)]
    public void Quantized_rows_stay_within_half_a_step_of_the_weights(int cols)
    {
        var random = new Random(cols);
        float[] row = Gaussian(random, cols, sigma: 0.02f);
        var codes = new byte[cols];
        float scale = (float)Fp6RowQuantizer.QuantizeRow(row, codes, "w", 0);

        Assert.AreEqual((float)(Half)(MaxAbs(row) / 28f), scale, "scale = round_fp16(absmax / 28)");
        for (int i = 0; i < cols; i++)
        {
            float v = Math.Abs(row[i] / scale);
            float step = v < 0.25f ? 1f / 16 : MathF.Pow(2, MathF.Floor(MathF.Log2(v)) - 2);
            float error = Math.Abs((row[i] / scale) - Fp6E3M2.Decode(codes[i]));
            Assert.IsLessThanOrEqualTo(step / 2 * 1.0001f, error, $"weight {i}: {row[i]} -> code 0x{codes[i]:X2}");
            Assert.AreEqual(row[i] < 0, (codes[i] & 0x20) != 0, $"sign of weight {i}");
        }

        int argMax = Array.FindIndex(row, w => Math.Abs(w) == MaxAbs(row));
        Assert.AreEqual(28f, Math.Abs(Fp6E3M2.Decode(codes[argMax])), "the row maximum maps onto ±28");
    }

    [TestMethod]
    public void An_all_zero_row_gets_scale_one_and_zero_codes()
    {
        var codes = Enumerable.Repeat((byte)0xFF, 40).ToArray();
        Half scale = Fp6RowQuantizer.QuantizeRow(new float[40], codes, "w", 3);
        Assert.AreEqual(Half.One, scale);
        CollectionAssert.AreEqual(new byte[40], codes);
    }

    [TestMethod]
    [DataRow(float.NaN)]
    [DataRow(float.PositiveInfinity)]
    [DataRow(float.NegativeInfinity)]
    public void A_non_finite_weight_is_an_error_naming_tensor_and_position(float bad)
    {
        var row = new float[100];
        row[5] = 1f;
        row[77] = bad;
        var error = Assert.ThrowsExactly<InvalidDataException>(() => Fp6RowQuantizer.QuantizeRow(row, new byte[100], "layers.3.mlp.up_proj.weight", 12));
        StringAssert.Contains(error.Message, "layers.3.mlp.up_proj.weight");
        StringAssert.Contains(error.Message, "[12, 77]");
    }

    [TestMethod]
    public void Matrix_quantizer_is_deterministic_and_matches_row_quantizer_for_both_layouts()
    {
        const int rows = 130, cols = 200;
        float[] weights = Gaussian(new Random(5), rows * cols, sigma: 1f);
        foreach (Fp6WeightLayout layout in Enum.GetValues<Fp6WeightLayout>())
        {
            Fp6PackedWeight parallel = Fp6MatrixQuantizer.Quantize(weights, rows, cols, layout, "w");
            Fp6PackedWeight serial = Fp6MatrixQuantizer.Quantize(weights, rows, cols, layout, "w", maxDegreeOfParallelism: 1);
            CollectionAssert.AreEqual(serial.Packed, parallel.Packed, $"{layout}: packed bytes");
            CollectionAssert.AreEqual(serial.Scales, parallel.Scales, $"{layout}: scales");
            Assert.AreEqual(layout.PackedByteCount(rows, cols), parallel.Packed.LongLength);

            var codes = new byte[cols];
            for (int r = 0; r < rows; r++)
            {
                Assert.AreEqual(Fp6RowQuantizer.QuantizeRow(weights.AsSpan(r * cols, cols), codes, "w", r), parallel.Scales[r]);
            }
        }
    }

    [TestMethod]
    public void Fp16_input_quantizes_like_the_same_values_as_float()
    {
        const int rows = 64, cols = 96;
        float[] weights = Gaussian(new Random(8), rows * cols, sigma: 0.1f).Select(w => (float)(Half)w).ToArray();
        Half[] halves = weights.Select(w => (Half)w).ToArray();
        Fp6PackedWeight fromFloat = Fp6MatrixQuantizer.Quantize(weights, rows, cols, Fp6WeightLayout.RowBlock32, "w");
        Fp6PackedWeight fromHalf = Fp6MatrixQuantizer.Quantize(halves, rows, cols, Fp6WeightLayout.RowBlock32, "w");
        CollectionAssert.AreEqual(fromFloat.Packed, fromHalf.Packed);
        CollectionAssert.AreEqual(fromFloat.Scales, fromHalf.Scales);
    }

    internal static float[] Gaussian(Random random, int count, float sigma)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            values[i] = (float)(sigma * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return values;
    }

    private static float MaxAbs(float[] values) => values.Max(Math.Abs);
}

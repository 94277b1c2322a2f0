using Fp6.Runtime.Quantization;
using Fp6.Runtime.Tests.Quantization;
using Fp6.Runtime.Tests.Support;

namespace Fp6.Runtime.Tests.Onnx;

[TestClass]
[DoNotParallelize]
public sealed class Fp6LinearCpuTests
{
    private static readonly int[] s_tokenCounts = [1, 2, 3, 4, 5, 7, 16, 33, 100, 300];

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(64, 64, false)]
    [DataRow(37, 45, true)]
    [DataRow(100, 257, false)]
    [DataRow(256, 1000, true)]
    [DataRow(1, 7, false)]
    [DataRow(33, 32, true)]
    [DataRow(20, 4500, true)]
    public void Random_weights_match_a_float64_reference_on_both_kernel_paths(int outFeatures, int inFeatures, bool withBias)
    {
        var random = new Random((outFeatures * 1009) + inFeatures);
        float[] weights = Fp6RowQuantizerTests.Gaussian(random, outFeatures * inFeatures, sigma: 0.05f);
        Fp6PackedWeight packed = Fp6MatrixQuantizer.Quantize(weights, outFeatures, inFeatures, Fp6WeightLayout.RowBlock32, "w");
        double[] dequantized = Dequantize(packed);
        float[]? bias = withBias ? Fp6RowQuantizerTests.Gaussian(random, outFeatures, sigma: 1f) : null;

        using var model = new Fp6LinearModel(packed, bias);
        double worst = 0;
        foreach (CpuKernelPath path in Enum.GetValues<CpuKernelPath>())
        {
            bool available = NativeCustomOps.LimitCpuKernel(path);
            try
            {
                foreach (int tokens in s_tokenCounts)
                {
                    float[] x = Fp6RowQuantizerTests.Gaussian(random, tokens * inFeatures, sigma: 1f);
                    float[] y = model.Run(x, tokens, inFeatures);
                    worst = Math.Max(worst, AssertClose(x, dequantized, bias, y, tokens, inFeatures, outFeatures, $"path={path} (on this CPU: {available}) M={tokens}"));
                }
            }
            finally
            {
                NativeCustomOps.LimitCpuKernel(CpuKernelPath.Best);
            }
        }

        TestContext.WriteLine($"{outFeatures}x{inFeatures}: worst |y - ref| / sum|x*w| = {worst:E2}");
    }

    [TestMethod]
    [DataRow(64, 96, 1)]
    [DataRow(45, 130, 3)]
    [DataRow(130, 1024, 17)]
    [DataRow(7, 45, 9)]
    [DataRow(9, 5000, 10)]
    public void Exact_by_construction_data_gives_exactly_the_reference(int outFeatures, int inFeatures, int tokens)
    {
        // Codes of ±0, ±1, ±2, power-of-two scales and activations in {-1, 0, 1}: every product and partial sum is an
        // integer times the row's scale, exact in float32, so any summation order must give the reference bit for bit.
        var random = new Random(outFeatures + inFeatures + tokens);
        byte[] choices = [0x00, 0x0C, 0x10, 0x20, 0x2C, 0x30];
        var codes = new byte[outFeatures * inFeatures];
        for (int i = 0; i < codes.Length; i++)
        {
            codes[i] = choices[random.Next(choices.Length)];
        }

        var scales = new Half[outFeatures];
        for (int n = 0; n < outFeatures; n++)
        {
            scales[n] = (Half)MathF.Pow(2, (n % 5) - 2);
        }

        int rowBytes = RowBlock32Packer.RowByteCount(inFeatures);
        var packedBytes = new byte[outFeatures * rowBytes];
        for (int n = 0; n < outFeatures; n++)
        {
            RowBlock32Packer.PackRow(codes.AsSpan(n * inFeatures, inFeatures), packedBytes.AsSpan(n * rowBytes, rowBytes));
        }

        var packed = new Fp6PackedWeight(Fp6WeightLayout.RowBlock32, outFeatures, inFeatures, packedBytes, scales);
        var x = new float[tokens * inFeatures];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = random.Next(3) - 1;
        }

        using var model = new Fp6LinearModel(packed, inputRank: 3);
        foreach (CpuKernelPath path in Enum.GetValues<CpuKernelPath>())
        {
            NativeCustomOps.LimitCpuKernel(path);
            try
            {
                float[] y = model.Run(x, 1, tokens, inFeatures);
                for (int m = 0; m < tokens; m++)
                {
                    for (int n = 0; n < outFeatures; n++)
                    {
                        double expected = 0;
                        for (int k = 0; k < inFeatures; k++)
                        {
                            expected += x[(m * inFeatures) + k] * Fp6E3M2.Decode(codes[(n * inFeatures) + k]);
                        }

                        Assert.AreEqual((float)(expected * (double)scales[n]), y[(m * outFeatures) + n], $"path={path} y[{m},{n}]");
                    }
                }
            }
            finally
            {
                NativeCustomOps.LimitCpuKernel(CpuKernelPath.Best);
            }
        }
    }

    internal static double[] Dequantize(Fp6PackedWeight packed)
    {
        byte[] codes = NativeCustomOps.UnpackRowBlock32(packed.Packed, packed.Rows, packed.Cols);
        var values = new double[codes.Length];
        for (int i = 0; i < codes.Length; i++)
        {
            values[i] = Fp6E3M2.Decode(codes[i]) * (double)packed.Scales[i / packed.Cols];
        }

        return values;
    }

    // |y - ref| <= 2^-10 |ref| + 1e-4 * sum_k |x_k w_k| (the fp6 kernel brief's §10.3 bound); returns the worst
    // error relative to sum |x w| so the test log shows how far inside the bound the kernel is.
    private static double AssertClose(float[] x, double[] w, float[]? bias, float[] y, int tokens, int k, int n, string what)
    {
        double worst = 0;
        for (int m = 0; m < tokens; m++)
        {
            for (int j = 0; j < n; j++)
            {
                double reference = bias?[j] ?? 0;
                double magnitude = 0;
                for (int i = 0; i < k; i++)
                {
                    double product = x[(m * k) + i] * w[(j * k) + i];
                    reference += product;
                    magnitude += Math.Abs(product);
                }

                double error = Math.Abs(y[(m * n) + j] - reference);
                double bound = (Math.Pow(2, -10) * Math.Abs(reference)) + (1e-4 * magnitude) + 1e-30;
                Assert.IsLessThanOrEqualTo(bound, error, $"{what}: y[{m},{j}] = {y[(m * n) + j]}, reference {reference}");
                worst = Math.Max(worst, error / Math.Max(magnitude, 1e-30));
            }
        }

        return worst;
    }
}

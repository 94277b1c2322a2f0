using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Fp6.Runtime.Engine;
using Fp6.Runtime.Onnx;
using Fp6.Runtime.Onnx.Passes;
using Fp6.Runtime.Onnx.Proto;
using Fp6.Runtime.Quantization;
using Fp6.Runtime.Tests.Quantization;

namespace Fp6.Runtime.Tests.Onnx;

[TestClass]
public sealed class Fp6LinearPassTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void A_foreign_graph_with_external_data_is_rewritten_and_still_computes_the_same_function()
    {
        const int k = 96, hidden = 130, n = 40;
        var random = new Random(42);
        float[] b1 = Fp6RowQuantizerTests.Gaussian(random, k * hidden, 0.1f);
        float[] b2 = Fp6RowQuantizerTests.Gaussian(random, hidden * n, 0.1f);
        string directory = Directory.CreateTempSubdirectory("fp6-pass").FullName;
        try
        {
            // A graph as another exporter would write it: B1 in external data, B2 inline as float_data, and a field our
            // schema does not declare (number 99, unused by ONNX) that must survive the rewrite.
            var graph = new OnnxGraphBuilder("foreign")
                .AddInput("X", TensorProto.Types.DataType.Float, "M", k)
                .AddOutput("Y", TensorProto.Types.DataType.Float, "M", n);
            graph.AddNode("MatMul", ["X", "B1"], ["H"]);
            graph.AddNode("Relu", ["H"], ["R"]);
            graph.AddNode("MatMul", ["R", "B2"], ["Y"]);
            var b2Tensor = new TensorProto { Name = "B2", DataType = (int)TensorProto.Types.DataType.Float, Dims = { hidden, n } };
            b2Tensor.FloatData.Add(b2);
            graph.AddInitializer(b2Tensor);
            using var original = new OnnxModel(graph.Build(), new Dictionary<string, InitializerData> { ["B1"] = ArrayInitializerData.Create(b1, k, hidden) });
            string originalPath = Path.Combine(directory, "foreign.onnx");
            OnnxModelWriter.Save(original, originalPath);
            byte[] unknownField = [0x9A, 0x06, 0x03, 0x61, 0x62, 0x63]; // field 99, length-delimited, "abc"
            File.WriteAllBytes(originalPath, [.. File.ReadAllBytes(originalPath), .. unknownField]);

            float[] x = Fp6RowQuantizerTests.Gaussian(random, 5 * k, 1f);
            float[] expected = Run(File.ReadAllBytes(originalPath), x, k, withCustomOps: false, directory);

            using OnnxModel model = OnnxModel.Load(originalPath);
            Fp6PassReport report = Fp6LinearPass.Apply(model, Fp6WeightLayout.RowBlock32);
            Assert.HasCount(2, report.Replacements);
            Assert.AreEqual(4L * ((k * hidden) + (hidden * n)), report.BytesBefore);
            Assert.IsLessThan(report.BytesBefore / 4, report.BytesAfter, "FP6 is under a quarter of float32");
            Assert.IsFalse(model.Graph.Node.Any(node => node.OpType == "MatMul"));
            Assert.IsNull(model.FindInitializer("B1"));

            string rewrittenPath = Path.Combine(directory, "fp6.onnx");
            OnnxModelWriter.Save(model, rewrittenPath);
            byte[] rewritten = File.ReadAllBytes(rewrittenPath);
            Assert.IsTrue(rewritten.AsSpan().IndexOf(unknownField) >= 0, "the unknown field survives the rewrite");
            float[] actual = Run(rewritten, x, k, withCustomOps: true, directory);

            // Exactly the function of the dequantized weights...
            double[] w1 = Dequantized(model, "B1", hidden, k);
            double[] w2 = Dequantized(model, "B2", n, hidden);
            int tokens = x.Length / k;
            double worst = 0, squaredError = 0, squaredValue = 0;
            for (int m = 0; m < tokens; m++)
            {
                var h = new double[hidden];
                for (int j = 0; j < hidden; j++)
                {
                    for (int i = 0; i < k; i++)
                    {
                        h[j] += x[(m * k) + i] * w1[(j * k) + i];
                    }

                    h[j] = Math.Max(h[j], 0);
                }

                for (int j = 0; j < n; j++)
                {
                    double reference = 0, magnitude = 0;
                    for (int i = 0; i < hidden; i++)
                    {
                        reference += h[i] * w2[(j * hidden) + i];
                        magnitude += Math.Abs(h[i] * w2[(j * hidden) + i]);
                    }

                    float y = actual[(m * n) + j];
                    Assert.IsLessThanOrEqualTo(1e-4 * (magnitude + 1e-6), Math.Abs(y - reference), $"y[{m},{j}]");
                    worst = Math.Max(worst, Math.Abs(y - reference) / (magnitude + 1e-30));
                    squaredError += Math.Pow(y - expected[(m * n) + j], 2);
                    squaredValue += Math.Pow(expected[(m * n) + j], 2);
                }
            }

            // ...and close to the float model. With 2 mantissa bits the rounding error of a weight is uniform over a
            // step of 1/4..1/7 of its magnitude, about 5.5% RMS, and independent errors add the same to each output;
            // two layers in a row give about 8%.
            double relativeRms = Math.Sqrt(squaredError / squaredValue);
            TestContext.WriteLine($"vs dequantized reference: worst {worst:E2} of sum|h*w|; vs float model: relative RMS {relativeRms:P2}");
            Assert.IsLessThan(0.12, relativeRms);
            Assert.IsGreaterThan(0.0, relativeRms, "the weights really were quantized");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static double[] Dequantized(OnnxModel model, string weightName, int rows, int cols)
    {
        using var packed = new MemoryStream();
        model.Initializers[weightName + ".fp6"].WriteTo(packed);
        using var scaleBytes = new MemoryStream();
        model.Initializers[weightName + ".fp6_scales"].WriteTo(scaleBytes);
        Half[] scales = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(scaleBytes.ToArray()).ToArray();
        byte[] codes = Support.NativeCustomOps.UnpackRowBlock32(packed.ToArray(), rows, cols);
        return codes.Select((c, i) => Fp6E3M2.Decode(c) * (double)scales[i / cols]).ToArray();
    }

    private static float[] Run(byte[] model, float[] x, int k, bool withCustomOps, string directory)
    {
        using SessionOptions options = withCustomOps ? Fp6SessionOptions.CreateForCpu() : new SessionOptions();
        // Models with external data are loaded from a path so ONNX Runtime finds the data file.
        string path = Path.Combine(directory, $"run-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model);
        using var session = new InferenceSession(path, options);
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(x, [x.Length / k, k]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["X"], [input], ["Y"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}

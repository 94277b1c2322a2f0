using System.Globalization;
using System.Text;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Fp6.Runtime.Engine;
using Fp6.Runtime.Onnx;
using Fp6.Runtime.Onnx.Proto;
using Fp6.Runtime.Quantization;

namespace Fp6.Bench;

/// <summary>
/// Fp6Linear (CPU kernel) against ONNX Runtime's own float32 MatMul on the same (dequantized) weights, in one
/// process, at several token counts. Writes docs/perf/cpu-linear.md.
/// </summary>
internal static class CpuLinearBenchmark
{
    private static readonly (int K, int N)[] s_shapes = [(4096, 4096), (4096, 14336), (14336, 4096)];
    private static readonly int[] s_tokens = [1, 4, 16, 64];

    public static void Run(string outputPath)
    {
        var table = new StringBuilder();
        var summary = new List<string>();
        table.AppendLine("| K x N | tokens | fp32 MatMul ms | Fp6Linear ms | speedup |");
        table.AppendLine("| --- | --- | --- | --- | --- |");
        Console.WriteLine($"{"K x N",-12} {"tokens",6} {"MatMul ms",10} {"Fp6 ms",10} {"speedup",8}");
        foreach ((int k, int n) in s_shapes)
        {
            Console.Error.WriteLine($"preparing {k}x{n} ...");
            var random = new Random(k + n);
            Fp6PackedWeight packed = Fp6MatrixQuantizer.Quantize(n, k, (row, destination) => FillGaussian(random, row, destination), Fp6WeightLayout.RowBlock32, "w");
            using InferenceSession fp6 = CreateSession(BuildFp6Model(packed));
            using InferenceSession matmul = CreateSession(BuildMatMulModel(packed));
            foreach (int tokens in s_tokens)
            {
                float[] x = new float[tokens * k];
                for (int i = 0; i < x.Length; i++)
                {
                    x[i] = (float)((random.NextDouble() * 2) - 1);
                }

                using OrtValue input = OrtValue.CreateTensorValueFromMemory(x, [tokens, k]);
                double matmulMs = BenchTimer.MedianMilliseconds(() => RunOnce(matmul, input));
                double fp6Ms = BenchTimer.MedianMilliseconds(() => RunOnce(fp6, input));
                double speedup = matmulMs / fp6Ms;
                string shape = $"{k}x{n}";
                Console.WriteLine($"{shape,-12} {tokens,6} {matmulMs,10:F3} {fp6Ms,10:F3} {speedup,8:F2}");
                table.AppendLine(CultureInfo.InvariantCulture, $"| {shape} | {tokens} | {matmulMs:F3} | {fp6Ms:F3} | {speedup:F2} |");
                summary.Add(string.Create(CultureInfo.InvariantCulture, $"ratio_{tokens}tok_{shape}={speedup:F2}"));
            }
        }

        string machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {CpuModel()}";
        var document = new StringBuilder();
        document.AppendLine("# CPU linear layer: Fp6Linear vs ONNX Runtime float32 MatMul");
        document.AppendLine();
        document.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {machine}; ONNX Runtime 1.29.0 CPU EP, intra-op threads = cores.");
        document.AppendLine("Weights K x N (in x out features), Gaussian, quantized to FP6 e3m2; the MatMul runs on the same dequantized weights in float32.");
        document.AppendLine("Median of at least 10 runs and 1 s after 3 warm-up runs; speedup = MatMul time / Fp6Linear time. Produced by `dotnet run -c Release --project examples/Fp6.Bench -- cpu-linear`.");
        document.AppendLine();
        document.Append(table);
        document.AppendLine();
        document.AppendLine("summary: " + string.Join(' ', summary));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
        File.WriteAllText(outputPath, document.ToString());
        Console.WriteLine($"wrote {outputPath}");
    }

    private static void RunOnce(InferenceSession session, OrtValue input)
    {
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, ["X"], [input], ["Y"]);
    }

    private static InferenceSession CreateSession(ModelProto model)
    {
        return new InferenceSession(model.ToByteArray(), Fp6SessionOptions.CreateForCpu());
    }

    private static ModelProto BuildFp6Model(Fp6PackedWeight packed)
    {
        var graph = new OnnxGraphBuilder("fp6")
            .AddInput("X", TensorProto.Types.DataType.Float, "M", packed.Cols)
            .AddOutput("Y", TensorProto.Types.DataType.Float, "M", packed.Rows);
        Fp6LinearNode.Add(graph, "linear", "X", "Y", packed);
        return graph.Build();
    }

    // MatMul's B is [K, N]: the transpose of the dequantized FP6 matrix.
    private static ModelProto BuildMatMulModel(Fp6PackedWeight packed)
    {
        int k = packed.Cols, n = packed.Rows;
        var b = new float[(long)k * n];
        var codes = new byte[k];
        int rowBytes = RowBlock32Packer.RowByteCount(k);
        for (int row = 0; row < n; row++)
        {
            UnpackRow(packed.Packed.AsSpan(row * rowBytes, rowBytes), codes);
            float scale = (float)packed.Scales[row];
            for (int col = 0; col < k; col++)
            {
                b[((long)col * n) + row] = Fp6E3M2.Decode(codes[col]) * scale;
            }
        }

        return new OnnxGraphBuilder("matmul")
            .AddInput("X", TensorProto.Types.DataType.Float, "M", k)
            .AddOutput("Y", TensorProto.Types.DataType.Float, "M", n)
            .AddInitializer(OnnxTensors.Create("B", b, k, n))
            .Build()
            .WithNode(model => model.Graph.Node.Add(new NodeProto { OpType = "MatMul", Name = "matmul", Input = { "X", "B" }, Output = { "Y" } }));
    }

    private static void UnpackRow(ReadOnlySpan<byte> packedRow, Span<byte> codes)
    {
        for (int col = 0; col < codes.Length; col++)
        {
            ReadOnlySpan<byte> block = packedRow.Slice(col / 32 * 24, 24);
            int w = col % 32;
            int low = w < 16 ? block[w] & 0xF : block[w - 16] >> 4;
            int high = (block[16 + (w % 8)] >> (2 * (w / 8))) & 3;
            codes[col] = (byte)((high << 4) | low);
        }
    }

    private static void FillGaussian(Random random, int row, Span<float> destination)
    {
        lock (random)
        {
            for (int i = 0; i < destination.Length; i++)
            {
                double u1 = 1.0 - random.NextDouble();
                destination[i] = (float)(0.02 * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * random.NextDouble()));
            }
        }
    }

    private static string CpuModel()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        }
        catch (IOException)
        {
            return "unknown CPU";
        }
    }

    private static ModelProto WithNode(this ModelProto model, Action<ModelProto> add)
    {
        add(model);
        return model;
    }
}

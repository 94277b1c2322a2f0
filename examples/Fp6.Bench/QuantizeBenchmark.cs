using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using Fp6.Runtime.Quantization;

namespace Fp6.Bench;

/// <summary>
/// Quantize + pack of an 8192 x 28672 fp16 matrix (Llama-70B down_proj) for both layouts, against a baseline that
/// only converts the same fp16 matrix to float32 in parallel (the least work that reads every weight). Writes
/// docs/perf/quantize.md.
/// </summary>
internal static class QuantizeBenchmark
{
    private const int Rows = 8192;
    private const int Cols = 28672;

    public static void Run(string outputPath)
    {
        Console.Error.WriteLine($"generating a {Rows}x{Cols} fp16 matrix ...");
        var weights = new Half[(long)Rows * Cols];
        Parallel.For(0, Rows, row =>
        {
            var random = new Random(row);
            Span<Half> destination = weights.AsSpan(row * Cols, Cols);
            for (int i = 0; i < Cols; i++)
            {
                destination[i] = (Half)((random.NextDouble() - 0.5) * 0.1);
            }
        });

        using var buffers = new ThreadLocal<float[]>(() => new float[Cols]);
        double convertMs = BenchTimer.MedianMilliseconds(() => Parallel.For(0, Rows, row =>
            TensorPrimitives.ConvertToSingle(weights.AsSpan(row * Cols, Cols), buffers.Value)), warmup: 1, minIterations: 3, minSeconds: 0);

        var table = new StringBuilder();
        table.AppendLine("| step | ms | weights/s | x baseline |");
        table.AppendLine("| --- | --- | --- | --- |");
        table.AppendLine(CultureInfo.InvariantCulture, $"| baseline: fp16 -> float32 conversion | {convertMs:F0} | {Rows * (double)Cols / convertMs / 1e6:F2} G | 1.00 |");
        Console.WriteLine($"baseline fp16->float32: {convertMs:F0} ms");
        var summary = new List<string>();
        foreach (Fp6WeightLayout layout in Enum.GetValues<Fp6WeightLayout>())
        {
            double ms = BenchTimer.MedianMilliseconds(() => Fp6MatrixQuantizer.Quantize(weights, Rows, Cols, layout, "w"), warmup: 1, minIterations: 3, minSeconds: 0);
            Console.WriteLine($"quantize + pack {layout.AttributeName()}: {ms:F0} ms");
            table.AppendLine(CultureInfo.InvariantCulture, $"| quantize + pack {layout.AttributeName()} | {ms:F0} | {Rows * (double)Cols / ms / 1e6:F2} G | {ms / convertMs:F2} |");
            summary.Add(string.Create(CultureInfo.InvariantCulture, $"ms_{layout.AttributeName()}={ms:F0}"));
        }

        var document = new StringBuilder();
        document.AppendLine("# Quantize + pack throughput (C#)");
        document.AppendLine();
        document.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores; an {Rows}x{Cols} fp16 matrix (235 M weights), median of 3 runs after one warm-up.");
        document.AppendLine("Produced by `dotnet run -c Release --project examples/Fp6.Bench -- quantize`.");
        document.AppendLine();
        document.Append(table);
        document.AppendLine();
        document.AppendLine("summary: " + string.Join(' ', summary));
        File.WriteAllText(outputPath, document.ToString());
        Console.WriteLine($"wrote {outputPath}");
    }
}

using System.CommandLine;
using System.Globalization;
using Fp6.Runtime.Conversion;
using Fp6.Runtime.Graph;

namespace Fp6.Cli;

/// <summary><c>fp6 convert &lt;checkpoint&gt; -o &lt;dir&gt; --target cpu|cuda</c>.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<DirectoryInfo>("checkpoint") { Description = "Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer files)." };
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Folder to write the FP6 model into.", Required = true };
        var target = new Option<string>("--target", "-t") { Description = "Execution provider to build for: cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        target.AcceptOnlyFromAmong("cpu", "cuda");
        var maxPositions = new Option<int>("--max-positions") { Description = "Longest sequence to serve (default: the config's, at most 8192)." };
        var command = new Command("convert", "Convert a Hugging Face Llama/Mistral/Qwen2 checkpoint into an FP6 ONNX model folder.")
        {
            checkpoint, output, target, maxPositions,
        };
        command.SetAction(parse =>
        {
            DirectoryInfo source = parse.GetValue(checkpoint)!;
            if (!source.Exists)
            {
                Console.Error.WriteLine($"error: checkpoint folder '{source.FullName}' does not exist");
                return 2;
            }

            var bar = new ProgressBar();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                GraphTarget graphTarget = parse.GetValue(target) == "cuda" ? GraphTarget.Cuda : GraphTarget.Cpu;
                ConversionResult result = ModelConverter.Convert(source.FullName, parse.GetValue(output)!.FullName, graphTarget, parse.GetValue(maxPositions), bar);
                bar.Finish();
                ModelManifest m = result.Manifest;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"converted {m.ModelType} ({m.LayerCount} layers) for {m.Target} in {clock.Elapsed.TotalSeconds:F1} s: {m.Fp6LinearCount} linear layers -> Fp6Linear ({m.WeightLayout}), {m.LinearBytesBefore / 1048576.0:F1} MiB -> {m.LinearBytesAfter / 1048576.0:F1} MiB, saved {(m.LinearBytesBefore - m.LinearBytesAfter) / 1048576.0:F1} MiB; data file {result.DataBytes / 1048576.0:F1} MiB"));
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException or NotSupportedException or KeyNotFoundException or UnauthorizedAccessException)
            {
                bar.Finish();
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}

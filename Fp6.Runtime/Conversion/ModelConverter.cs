using Fp6.Runtime.Graph;
using Fp6.Runtime.Models.Checkpoints;
using Fp6.Runtime.Onnx;
using Fp6.Runtime.Onnx.Passes;
using Fp6.Runtime.Quantization;

namespace Fp6.Runtime.Conversion;

/// <summary>Progress of a conversion: a stage, a step count and the item being worked on.</summary>
/// <param name="Stage">What is happening.</param>
/// <param name="Done">Items done in this stage.</param>
/// <param name="Total">Items in this stage.</param>
/// <param name="Item">The current item.</param>
public sealed record ConversionProgress(string Stage, int Done, int Total, string Item);

/// <summary>The result of a conversion.</summary>
/// <param name="Manifest">What was written.</param>
/// <param name="DataBytes">Bytes of the external-data file.</param>
public sealed record ConversionResult(ModelManifest Manifest, long DataBytes);

/// <summary>
/// Hugging Face Llama-family checkpoint folder → self-contained FP6 model folder: model.onnx + model.onnx.data (every
/// linear layer an Fp6Linear for the target's kernel), the tokenizer and chat-template files, and fp6-manifest.json.
/// Weights stream from the memory-mapped checkpoint through the quantizer to disk one matrix at a time.
/// </summary>
public static class ModelConverter
{
    private static readonly string[] s_copiedFiles = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

    /// <summary>Converts <paramref name="checkpointDirectory"/> into <paramref name="outputDirectory"/>.</summary>
    /// <param name="checkpointDirectory">Folder with config.json and model.safetensors (or a sharded index).</param>
    /// <param name="outputDirectory">Created if needed; existing model files are replaced.</param>
    /// <param name="target">The execution provider to build for.</param>
    /// <param name="maxPositions">Longest sequence to serve; 0 for the config's max_position_embeddings (capped at 8192).</param>
    /// <param name="progress">Receives progress reports.</param>
    public static ConversionResult Convert(string checkpointDirectory, string outputDirectory, GraphTarget target, int maxPositions = 0, IProgress<ConversionProgress>? progress = null)
    {
        string configPath = Path.Combine(checkpointDirectory, "config.json");
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"{checkpointDirectory} is not a Hugging Face checkpoint folder: it has no config.json.", configPath);
        }

        ModelConfig config = ModelConfigReader.Load(configPath);
        int positions = maxPositions > 0 ? maxPositions : Math.Min(config.MaxPositionEmbeddings, 8192);
        LlamaGraphSpec spec = LlamaGraphSpecs.FromConfig(config, positions);
        Fp6WeightLayout layout = target == GraphTarget.Cpu ? Fp6WeightLayout.RowBlock32 : Fp6WeightLayout.TcFpx;
        Directory.CreateDirectory(outputDirectory);

        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(checkpointDirectory);
        using OnnxModel model = LlamaGraphBuilder.Build(spec, new CheckpointWeights(checkpoint), target);
        Fp6PassReport report = Fp6LinearPass.Apply(model, layout, deferQuantization: true);
        string modelPath = Path.Combine(outputDirectory, "model.onnx");
        var names = model.Initializers.Keys.Order(StringComparer.Ordinal).ToList();
        long dataBytes = OnnxModelWriter.Save(model, modelPath, (done, total) =>
            progress?.Report(new ConversionProgress("quantize + write", done, total, names[done - 1])));

        foreach (string file in s_copiedFiles)
        {
            string source = Path.Combine(checkpointDirectory, file);
            if (File.Exists(source))
            {
                File.Copy(source, Path.Combine(outputDirectory, file), overwrite: true);
            }
        }

        var manifest = new ModelManifest
        {
            Target = target == GraphTarget.Cpu ? "cpu" : "cuda",
            WeightLayout = layout.AttributeName(),
            Source = Path.GetFullPath(checkpointDirectory),
            ModelType = config.ModelType,
            LayerCount = spec.LayerCount,
            KvHeadCount = spec.KvHeadCount,
            HeadSize = spec.HeadSize,
            VocabSize = spec.VocabSize,
            MaxPositions = positions,
            Fp6LinearCount = report.Replacements.Count,
            LinearBytesBefore = report.BytesBefore,
            LinearBytesAfter = report.BytesAfter,
        };
        manifest.Save(outputDirectory);
        return new ConversionResult(manifest, dataBytes);
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fp6.Runtime.Conversion;

/// <summary>
/// <c>fp6-manifest.json</c>: what a converted model folder holds and how it was made, read by the engine to size
/// its KV cache and pick the execution provider.
/// </summary>
public sealed record ModelManifest
{
    /// <summary>The manifest file name inside a model folder.</summary>
    public const string FileName = "fp6-manifest.json";

    /// <summary>
    /// The version of the model folder format this code writes and reads; raised whenever the graph's inputs or the
    /// weight layouts change (2: the engine feeds last_token_indices).
    /// </summary>
    public const int CurrentFormatVersion = 2;

    /// <summary>Format version of this folder.</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>"cpu" or "cuda".</summary>
    public required string Target { get; init; }

    /// <summary>The Fp6Linear layout of the weights.</summary>
    public required string WeightLayout { get; init; }

    /// <summary>The ONNX file name.</summary>
    public string ModelFile { get; init; } = "model.onnx";

    /// <summary>Where the checkpoint came from.</summary>
    public required string Source { get; init; }

    /// <summary>model_type of the checkpoint.</summary>
    public required string ModelType { get; init; }

    /// <summary>Decoder layers.</summary>
    public required int LayerCount { get; init; }

    /// <summary>Key/value heads.</summary>
    public required int KvHeadCount { get; init; }

    /// <summary>Channels per head.</summary>
    public required int HeadSize { get; init; }

    /// <summary>Vocabulary size.</summary>
    public required int VocabSize { get; init; }

    /// <summary>The longest sequence the graph's rotary tables cover.</summary>
    public required int MaxPositions { get; init; }

    /// <summary>Linear layers turned into Fp6Linear.</summary>
    public required int Fp6LinearCount { get; init; }

    /// <summary>Bytes of those weights in the source precision of the graph.</summary>
    public required long LinearBytesBefore { get; init; }

    /// <summary>Bytes of their FP6 form (codes and scales).</summary>
    public required long LinearBytesAfter { get; init; }

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Writes the manifest into <paramref name="directory"/>.</summary>
    public void Save(string directory) => File.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, s_json));

    /// <summary>Reads the manifest of a converted model folder.</summary>
    /// <exception cref="FileNotFoundException">The folder has no manifest (it was not made by <c>fp6 convert</c>).</exception>
    public static ModelManifest Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{directory} has no {FileName}; convert a Hugging Face checkpoint with `fp6 convert` first.", path);
        }

        ModelManifest manifest = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), s_json)
            ?? throw new InvalidDataException($"{path} is empty.");
        if (manifest.FormatVersion != CurrentFormatVersion)
        {
            throw new InvalidDataException(
                $"{directory} was converted in format {manifest.FormatVersion}; this version of Fp6 reads format {CurrentFormatVersion}. Convert the checkpoint again with `fp6 convert`.");
        }

        return manifest;
    }
}

using System.Text.Json;
using Fp6.Runtime.Conversion;
using Fp6.Runtime.Graph;
using Fp6.Runtime.Models.Checkpoints;
using Fp6.Runtime.Models.Templates;
using Fp6.Runtime.Models.Tokenization;

namespace Fp6.Runtime.Engine;

/// <summary>
/// A converted model folder (made by <c>fp6 convert</c>) opened for generation on the CPU: the paged model with its
/// KV pool, the tokenizer, the chat template and the end-of-sequence tokens.
/// </summary>
public sealed class ModelFolder : IDisposable
{
    private ModelFolder(string directory, ModelManifest manifest, LlamaGraphSpec spec, CpuPagedModel model, Tokenizer tokenizer, ChatTemplate template, IReadOnlyCollection<int> endTokens)
    {
        Directory = directory;
        Manifest = manifest;
        Spec = spec;
        Model = model;
        Tokenizer = tokenizer;
        ChatTemplate = template;
        EndTokenIds = endTokens;
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>What the folder holds.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The model's shape.</summary>
    public LlamaGraphSpec Spec { get; }

    /// <summary>The paged model.</summary>
    public CpuPagedModel Model { get; }

    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The chat template (ChatML when the model has none).</summary>
    public ChatTemplate ChatTemplate { get; }

    /// <summary>Tokens that end generation.</summary>
    public IReadOnlyCollection<int> EndTokenIds { get; }

    /// <summary>A generator over this model.</summary>
    public TextGenerator CreateGenerator() => new(Model, Tokenizer, EndTokenIds, Manifest.MaxPositions);

    /// <summary>Opens a CPU-target model folder, with a KV pool of <paramref name="cacheTokens"/> positions.</summary>
    /// <exception cref="InvalidDataException">The folder was converted for another target.</exception>
    public static ModelFolder Open(string directory, int cacheTokens = 0, int blockSize = 16)
    {
        ModelManifest manifest = ModelManifest.Load(directory);
        if (manifest.Target != "cpu")
        {
            throw new InvalidDataException($"{directory} was converted for '{manifest.Target}'; the CPU engine needs a model converted with --target cpu.");
        }

        ModelConfig config = ModelConfigReader.Load(Path.Combine(directory, "config.json"));
        LlamaGraphSpec spec = LlamaGraphSpecs.FromConfig(config, manifest.MaxPositions);
        int positions = cacheTokens > 0 ? cacheTokens : manifest.MaxPositions;
        int blocks = (positions + blockSize - 1) / blockSize;
        Tokenizer tokenizer = Tokenizer.FromDirectory(directory);
        ChatTemplate template = File.Exists(Path.Combine(directory, "tokenizer_config.json"))
            ? ChatTemplate.FromModelDirectory(directory)
            : ChatTemplate.ChatML(tokenizer.BosToken, tokenizer.EosToken);
        var endTokens = new HashSet<int>(config.EosTokenIds);
        foreach (int id in GenerationConfigEndTokens(directory))
        {
            endTokens.Add(id);
        }

        if (tokenizer.EosTokenId is int eos)
        {
            endTokens.Add(eos);
        }

        var model = new CpuPagedModel(Path.Combine(directory, manifest.ModelFile), spec, blocks, blockSize);
        return new ModelFolder(directory, manifest, spec, model, tokenizer, template, endTokens);
    }

    /// <inheritdoc />
    public void Dispose() => Model.Dispose();

    private static IEnumerable<int> GenerationConfigEndTokens(string directory)
    {
        string path = Path.Combine(directory, "generation_config.json");
        if (!File.Exists(path))
        {
            yield break;
        }

        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
        if (!document.RootElement.TryGetProperty("eos_token_id", out JsonElement eos))
        {
            yield break;
        }

        if (eos.ValueKind == JsonValueKind.Number)
        {
            yield return eos.GetInt32();
        }
        else if (eos.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement id in eos.EnumerateArray())
            {
                yield return id.GetInt32();
            }
        }
    }
}

using System.Text.Json;

namespace Fp6.Runtime.Models.Checkpoints;

/// <summary>
/// All tensors of a Hugging Face checkpoint: one <c>model.safetensors</c>, or shards listed by
/// <c>model.safetensors.index.json</c>. Every file is memory-mapped and its header validated when the checkpoint is
/// opened (cheap: no tensor data is read), so a missing shard or a tensor the index promises but the shard lacks is
/// reported up front rather than halfway through a conversion.
/// </summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    /// <summary>File name of a single-file checkpoint.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>File name of the shard index of a sharded checkpoint.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, SafetensorsTensor> _tensors;

    private SafetensorsCheckpoint(string source, List<SafetensorsFile> files, Dictionary<string, SafetensorsTensor> tensors, IReadOnlyList<string> names)
    {
        Source = source;
        _files = files;
        _tensors = tensors;
        TensorNames = names;
    }

    /// <summary>
    /// Opens a checkpoint from a directory (its index if present, else <c>model.safetensors</c>, else every
    /// <c>*.safetensors</c> file in it), an index file, or a single safetensors file.
    /// </summary>
    /// <exception cref="CheckpointFormatException">A file is malformed, a shard is missing, or the index and the shards disagree.</exception>
    /// <exception cref="FileNotFoundException">Nothing to open at <paramref name="path"/>.</exception>
    public static SafetensorsCheckpoint Open(string path)
    {
        string fullPath = Path.GetFullPath(path);
        if (Directory.Exists(fullPath))
        {
            string index = Path.Combine(fullPath, IndexFileName);
            if (File.Exists(index))
            {
                return OpenIndex(index);
            }
            string single = Path.Combine(fullPath, SingleFileName);
            if (File.Exists(single))
            {
                return OpenFiles(single, [single]);
            }
            string[] all = Directory.GetFiles(fullPath, "*.safetensors");
            Array.Sort(all, StringComparer.Ordinal);
            return all.Length > 0
                ? OpenFiles(fullPath, all)
                : throw new FileNotFoundException($"{fullPath}: no {IndexFileName}, {SingleFileName} or other *.safetensors file", fullPath);
        }
        if (fullPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return OpenIndex(fullPath);
        }
        return OpenFiles(fullPath, [fullPath]);
    }

    /// <summary>The directory, index or file the checkpoint was opened from.</summary>
    public string Source { get; }

    /// <summary>The safetensors files, in the order they were opened.</summary>
    public IReadOnlyList<SafetensorsFile> Files => _files;

    /// <summary>All tensor names (index order for a sharded checkpoint, header order otherwise).</summary>
    public IReadOnlyList<string> TensorNames { get; }

    /// <summary>True when the checkpoint has a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>The tensor called <paramref name="name"/>, or false.</summary>
    public bool TryGetTensor(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SafetensorsTensor? tensor) =>
        _tensors.TryGetValue(name, out tensor);

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor; the message names it and the checkpoint.</exception>
    public SafetensorsTensor GetTensor(string name) =>
        _tensors.TryGetValue(name, out SafetensorsTensor? tensor)
            ? tensor
            : throw new KeyNotFoundException($"{Source}: the checkpoint has no tensor named '{name}'");

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (SafetensorsFile file in _files)
        {
            file.Dispose();
        }
    }

    private static SafetensorsCheckpoint OpenFiles(string source, IReadOnlyList<string> paths)
    {
        var files = new List<SafetensorsFile>();
        try
        {
            var tensors = new Dictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
            var names = new List<string>();
            foreach (string path in paths)
            {
                SafetensorsFile file = SafetensorsFile.Open(path);
                files.Add(file);
                foreach (string name in file.TensorNames)
                {
                    if (!tensors.TryAdd(name, file.Tensors[name]))
                    {
                        throw new CheckpointFormatException(path, name, $"also present in {tensors[name].FilePath}");
                    }
                    names.Add(name);
                }
            }
            return new SafetensorsCheckpoint(source, files, tensors, names);
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }
    }

    private static SafetensorsCheckpoint OpenIndex(string indexPath)
    {
        Dictionary<string, string> weightMap = ReadWeightMap(indexPath);
        string directory = Path.GetDirectoryName(indexPath)!;

        var files = new List<SafetensorsFile>();
        try
        {
            var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach ((string tensorName, string shardName) in weightMap)
            {
                if (shards.ContainsKey(shardName))
                {
                    continue;
                }
                string shardPath = Path.Combine(directory, shardName);
                if (!File.Exists(shardPath))
                {
                    int others = weightMap.Values.Count(v => v == shardName) - 1;
                    throw new CheckpointFormatException(indexPath, tensorName,
                        $"its shard '{shardPath}' does not exist" + (others > 0 ? $" (nor do {others} other tensors mapped to it)" : ""));
                }
                SafetensorsFile shard = SafetensorsFile.Open(shardPath);
                files.Add(shard);
                shards.Add(shardName, shard);
            }

            var tensors = new Dictionary<string, SafetensorsTensor>(weightMap.Count, StringComparer.Ordinal);
            foreach ((string tensorName, string shardName) in weightMap)
            {
                SafetensorsFile shard = shards[shardName];
                if (!shard.Tensors.TryGetValue(tensorName, out SafetensorsTensor? tensor))
                {
                    throw new CheckpointFormatException(shard.FilePath, tensorName, $"listed in {indexPath} for this shard, but the shard has no such tensor");
                }
                tensors.Add(tensorName, tensor);
            }
            return new SafetensorsCheckpoint(indexPath, files, tensors, weightMap.Keys.ToArray());
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }
    }

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        if (!File.Exists(indexPath))
        {
            throw new FileNotFoundException($"{indexPath}: shard index does not exist", indexPath);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(indexPath));
        }
        catch (JsonException ex)
        {
            throw new CheckpointFormatException(indexPath, null, $"malformed JSON: {ex.Message}", ex);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out JsonElement map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(indexPath, null, "expected an object with a 'weight_map' object");
            }
            // Insertion order is kept (Dictionary preserves it while nothing is removed), so TensorNames follow the index.
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty entry in map.EnumerateObject())
            {
                string? shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString() : null;
                if (string.IsNullOrEmpty(shard))
                {
                    throw new CheckpointFormatException(indexPath, entry.Name, "weight_map value must be a shard file name");
                }
                // Shards live beside the index; a path that leaves the folder is a malformed (or hostile) index.
                if (Path.IsPathRooted(shard) || shard.Split('/', '\\').Contains(".."))
                {
                    throw new CheckpointFormatException(indexPath, entry.Name, $"shard '{shard}' must be a file name beside the index");
                }
                if (!weightMap.TryAdd(entry.Name, shard))
                {
                    throw new CheckpointFormatException(indexPath, entry.Name, "appears twice in weight_map");
                }
            }
            return weightMap;
        }
    }
}

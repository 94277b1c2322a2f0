using System.Security.Cryptography;
using System.Text;
using Fp6.Runtime.Conversion;
using Fp6.Runtime.Graph;

namespace Fp6.Cli;

/// <summary>
/// Turns what the user named (a converted folder, a Hugging Face checkpoint, or nothing for the embedded default
/// model) into a converted CPU model folder; checkpoints are converted once into a cache and reused.
/// </summary>
internal static class ModelLocator
{
    /// <summary>The embedded default model, shipped under models/ and copied next to the tool.</summary>
    public const string DefaultModelName = "fp6-tiny-en";

    public static string DefaultModelPath => Path.Combine(AppContext.BaseDirectory, "models", DefaultModelName);

    public static string ResolveCpuModel(string? path, IProgress<ConversionProgress> progress, TextWriter log)
    {
        string source = Path.GetFullPath(path ?? DefaultModelPath);
        if (File.Exists(Path.Combine(source, ModelManifest.FileName)))
        {
            return source;
        }

        if (!File.Exists(Path.Combine(source, "config.json")))
        {
            throw new DirectoryNotFoundException($"'{source}' is neither a converted model folder (fp6-manifest.json) nor a Hugging Face checkpoint (config.json).");
        }

        string cache = Path.Combine(CacheRoot(), $"{Path.GetFileName(source)}-cpu-v{ModelManifest.CurrentFormatVersion}-{Fingerprint(source)}");
        if (File.Exists(Path.Combine(cache, ModelManifest.FileName)))
        {
            return cache;
        }

        log.WriteLine($"converting {source} to FP6 for the CPU (once) into {cache}");
        string staging = cache + ".partial";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        ModelConverter.Convert(source, staging, GraphTarget.Cpu, progress: progress);
        if (Directory.Exists(cache))
        {
            Directory.Delete(cache, recursive: true);
        }

        Directory.Move(staging, cache);
        return cache;
    }

    private static string CacheRoot()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg;
        return Path.Combine(root, "fp6", "models");
    }

    // Sizes and times of the checkpoint's files: a changed checkpoint converts again.
    private static string Fingerprint(string directory)
    {
        var text = new StringBuilder();
        foreach (string file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            text.Append(info.Name).Append(info.Length).Append(info.LastWriteTimeUtc.Ticks);
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..12].ToLowerInvariant();
    }
}

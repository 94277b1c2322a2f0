namespace Fp6.Runtime.Models.Checkpoints;

/// <summary>
/// A checkpoint file (config.json, a safetensors file or a shard index) is malformed or inconsistent.
/// The message always names the file and, where one is involved, the tensor.
/// </summary>
public sealed class CheckpointFormatException : FormatException
{
    /// <summary>Creates the exception for <paramref name="filePath"/> and, optionally, one tensor in it.</summary>
    public CheckpointFormatException(string filePath, string? tensorName, string problem, Exception? innerException = null)
        : base(Describe(filePath, tensorName, problem), innerException)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    /// <summary>The file that is malformed.</summary>
    public string FilePath { get; }

    /// <summary>The tensor concerned, or null when the problem is not about one tensor.</summary>
    public string? TensorName { get; }

    private static string Describe(string filePath, string? tensorName, string problem) =>
        tensorName is null ? $"{filePath}: {problem}" : $"{filePath}: tensor '{tensorName}': {problem}";
}

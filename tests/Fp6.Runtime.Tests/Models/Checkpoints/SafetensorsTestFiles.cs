using System.Buffers.Binary;
using System.Text;

namespace Fp6.Runtime.Tests.Models.Checkpoints;

/// <summary>Writes hand-made (possibly malformed) safetensors files into a temporary folder that is deleted on dispose.</summary>
internal sealed class SafetensorsTestFiles : IDisposable
{
    public SafetensorsTestFiles()
    {
        Directory = Path.Combine(Path.GetTempPath(), "fp6-safetensors-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    /// <summary>Writes the 8-byte length, <paramref name="headerJson"/> and <paramref name="data"/>; returns the path.</summary>
    public string Write(string fileName, string headerJson, byte[] data, long? declaredHeaderLength = null)
    {
        string path = Path.Combine(Directory, fileName);
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        var lengthBytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)(declaredHeaderLength ?? header.Length));
        File.WriteAllBytes(path, [.. lengthBytes, .. header, .. data]);
        return path;
    }

    public string WriteText(string fileName, string text)
    {
        string path = Path.Combine(Directory, fileName);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

using System.IO.MemoryMappedFiles;

namespace Fp6.Runtime.Models.Checkpoints;

/// <summary>
/// One safetensors file, memory-mapped read-only. Opening it reads and validates only the header; tensor data is
/// paged in by the OS when a <see cref="SafetensorsTensor"/> is read, so a multi-gigabyte file costs no managed memory.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile? _mapping;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _fileStart;
    private readonly Dictionary<string, SafetensorsTensor> _tensors;
    private bool _disposed;

    private SafetensorsFile(string path)
    {
        FilePath = path;
        var fileInfo = new FileInfo(path);
        if (!fileInfo.Exists)
        {
            throw new FileNotFoundException($"{path}: safetensors file does not exist", path);
        }
        Length = fileInfo.Length;

        // A zero-length file cannot be mapped; the header parser reports it as too short.
        if (Length > 0)
        {
            _mapping = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, capacity: 0, MemoryMappedFileAccess.Read);
            _view = _mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _fileStart = pointer + _view.PointerOffset;
        }

        try
        {
            int headerWindow = (int)Math.Min(Length, 8 + SafetensorsHeader.MaxHeaderLength);
            var header = SafetensorsHeader.Parse(new ReadOnlySpan<byte>(_fileStart, headerWindow), Length, path);
            DataSectionStart = header.DataSectionStart;
            Metadata = header.Metadata;
            _tensors = new Dictionary<string, SafetensorsTensor>(header.Tensors.Count, StringComparer.Ordinal);
            foreach (SafetensorsTensorInfo info in header.Tensors)
            {
                _tensors.Add(info.Name, new SafetensorsTensor(this, info));
            }
            TensorNames = header.Tensors.Select(t => t.Name).ToArray();
        }
        catch
        {
            ReleaseMapping();
            throw;
        }
    }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="CheckpointFormatException">The header is malformed or disagrees with the file.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SafetensorsFile Open(string path) => new(Path.GetFullPath(path));

    /// <summary>Full path of the file.</summary>
    public string FilePath { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long Length { get; }

    /// <summary>Offset of the data section (8 + header length) from the start of the file.</summary>
    public long DataSectionStart { get; }

    /// <summary>The header's free-form <c>__metadata__</c> (e.g. {"format": "pt"}); empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensor names in header order.</summary>
    public IReadOnlyList<string> TensorNames { get; }

    /// <summary>All tensors of the file by name.</summary>
    public IReadOnlyDictionary<string, SafetensorsTensor> Tensors => _tensors;

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The file has no such tensor; the message names both.</exception>
    public SafetensorsTensor GetTensor(string name) =>
        _tensors.TryGetValue(name, out SafetensorsTensor? tensor)
            ? tensor
            : throw new KeyNotFoundException($"{FilePath}: no tensor named '{name}'");

    /// <summary>Bytes of the file from <paramref name="offset"/>; valid until the file is disposed.</summary>
    internal ReadOnlySpan<byte> GetSpan(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || length < 0 || offset + length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + length}) is outside {FilePath} ({Length} bytes)");
        }
        return new ReadOnlySpan<byte>(_fileStart + offset, length);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        ReleaseMapping();
    }

    private void ReleaseMapping()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _mapping?.Dispose();
    }
}

using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Fp6.Runtime.Models.Checkpoints;
using Fp6.Runtime.Onnx.Proto;

namespace Fp6.Runtime.Onnx;

/// <summary>
/// Initializer data that already exists as raw little-endian bytes: inline in a TensorProto, or in an ONNX
/// external-data file (memory-mapped, never read whole). Columns of a 2-D float/fp16/bf16 tensor are read in tiles
/// of 64 so that quantizing Bᵀ row by row touches each cache line of B once per tile.
/// </summary>
public sealed unsafe class RawInitializerData : InitializerData, IDisposable
{
    private const int TileColumns = 64;

    private readonly long[] _dims;
    private readonly byte[]? _inline;
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _pointer;
    private readonly ThreadLocal<ColumnTile> _tiles;
    private GCHandle _pin;

    private RawInitializerData(TensorProto.Types.DataType type, long[] dims)
    {
        ElementType = type;
        _dims = dims;
        _tiles = new ThreadLocal<ColumnTile>(() => new ColumnTile(), trackAllValues: false);
    }

    private RawInitializerData(TensorProto.Types.DataType type, long[] dims, byte[] data)
        : this(type, dims)
    {
        _inline = data;
        _pin = GCHandle.Alloc(data, GCHandleType.Pinned);
        _pointer = (byte*)_pin.AddrOfPinnedObject();
    }

    private RawInitializerData(TensorProto.Types.DataType type, long[] dims, string path, long offset)
        : this(type, dims)
    {
        long length = ByteCount;
        var info = new FileInfo(path);
        if (!info.Exists || info.Length < offset + length)
        {
            throw new InvalidDataException($"External data file '{path}' is missing or shorter than offset {offset} + length {length}.");
        }

        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _file.CreateViewAccessor(offset, length, MemoryMappedFileAccess.Read);
        byte* basePointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePointer);
        _pointer = basePointer + _view.PointerOffset;
    }

    /// <inheritdoc />
    public override TensorProto.Types.DataType ElementType { get; }

    /// <inheritdoc />
    public override IReadOnlyList<long> Dims => _dims;

    /// <summary>Wraps the data of a TensorProto: inline raw_data, float_data, or external data next to <paramref name="modelDirectory"/>.</summary>
    public static RawInitializerData FromTensor(TensorProto tensor, string? modelDirectory)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var type = (TensorProto.Types.DataType)tensor.DataType;
        long[] dims = [.. tensor.Dims];
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
        {
            string location = tensor.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value
                ?? throw new InvalidDataException($"Initializer '{tensor.Name}' is external but names no location.");
            long offset = long.Parse(tensor.ExternalData.FirstOrDefault(e => e.Key == "offset")?.Value ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            string path = Path.Combine(modelDirectory ?? ".", location);
            return new RawInitializerData(type, dims, path, offset);
        }

        if (tensor.HasRawData)
        {
            return new RawInitializerData(type, dims, tensor.RawData.ToByteArray());
        }

        if (type == TensorProto.Types.DataType.Float && tensor.FloatData.Count > 0)
        {
            return new RawInitializerData(type, dims, MemoryMarshal.AsBytes(tensor.FloatData.ToArray().AsSpan()).ToArray());
        }

        throw new NotSupportedException($"Initializer '{tensor.Name}' stores its data in a form this reader does not handle.");
    }

    /// <inheritdoc />
    public override void WriteTo(Stream destination)
    {
        long remaining = ByteCount;
        long position = 0;
        while (remaining > 0)
        {
            int chunk = (int)Math.Min(remaining, 1 << 24);
            destination.Write(new ReadOnlySpan<byte>(_pointer + position, chunk));
            position += chunk;
            remaining -= chunk;
        }
    }

    /// <inheritdoc />
    public override void ReadColumn(int column, Span<float> destination)
    {
        if (_dims.Length != 2)
        {
            throw new InvalidOperationException("Columns can be read only from a 2-D tensor.");
        }

        int rows = checked((int)_dims[0]);
        long cols = _dims[1];
        ColumnTile tile = _tiles.Value!;
        int first = column / TileColumns * TileColumns;
        if (tile.FirstColumn != first || tile.Values.Length < rows * TileColumns)
        {
            int width = (int)Math.Min(TileColumns, cols - first);
            if (tile.Values.Length < rows * TileColumns)
            {
                tile.Values = new float[rows * TileColumns];
            }

            Span<float> row = stackalloc float[TileColumns];
            for (int k = 0; k < rows; k++)
            {
                ReadElements((k * cols) + first, row[..width]);
                for (int c = 0; c < width; c++)
                {
                    tile.Values[(c * rows) + k] = row[c];
                }
            }

            tile.FirstColumn = first;
        }

        tile.Values.AsSpan((column - first) * rows, rows).CopyTo(destination);
    }

    private void ReadElements(long index, Span<float> destination)
    {
        SafetensorsDType dtype = ElementType switch
        {
            TensorProto.Types.DataType.Float => SafetensorsDType.F32,
            TensorProto.Types.DataType.Float16 => SafetensorsDType.F16,
            TensorProto.Types.DataType.Bfloat16 => SafetensorsDType.BF16,
            _ => throw new NotSupportedException($"Weights of type {ElementType} cannot be read as float."),
        };
        int size = ElementSize(ElementType);
        Float32Conversion.Convert(dtype, new ReadOnlySpan<byte>(_pointer + (index * size), destination.Length * size), destination);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }

        _file?.Dispose();
        if (_pin.IsAllocated)
        {
            _pin.Free();
        }

        _tiles.Dispose();
        GC.KeepAlive(_inline);
    }

    private sealed class ColumnTile
    {
        public int FirstColumn { get; set; } = -1;

        public float[] Values { get; set; } = [];
    }
}

namespace Fp6.Runtime.Models.Checkpoints;

/// <summary>
/// A tensor inside a memory-mapped <see cref="SafetensorsFile"/>. Nothing is copied until asked: <see cref="Bytes"/>
/// is a view of the mapping, and the float32 readers convert only the rows requested, so a converter can stream a
/// large weight row block by row block. Valid while the file is open.
/// </summary>
public sealed class SafetensorsTensor
{
    private readonly SafetensorsFile _file;

    internal SafetensorsTensor(SafetensorsFile file, SafetensorsTensorInfo info)
    {
        _file = file;
        Info = info;
    }

    /// <summary>The header entry: name, dtype, shape and offsets.</summary>
    public SafetensorsTensorInfo Info { get; }

    /// <summary>The tensor's name.</summary>
    public string Name => Info.Name;

    /// <summary>The element type.</summary>
    public SafetensorsDType DType => Info.DType;

    /// <summary>The dimensions, outermost first.</summary>
    public IReadOnlyList<long> Shape => Info.Shape;

    /// <summary>Full path of the file that holds the data.</summary>
    public string FilePath => _file.FilePath;

    /// <summary>
    /// Number of rows when the tensor is seen as 2-D [rows, <see cref="RowLength"/>]: the first dimension
    /// (1 for a scalar). A linear layer's weight [out_features, in_features] has one row per output feature.
    /// </summary>
    public long RowCount => Shape.Count == 0 ? 1 : Shape[0];

    /// <summary>Elements per row: the product of all dimensions but the first (1 for scalars and vectors).</summary>
    public long RowLength
    {
        get
        {
            long length = 1;
            for (int i = 1; i < Shape.Count; i++)
            {
                length *= Shape[i];
            }
            return length;
        }
    }

    /// <summary>The raw little-endian bytes, straight from the mapping (no copy).</summary>
    /// <exception cref="NotSupportedException">The tensor is larger than a span can address (2 GiB); read it by rows instead.</exception>
    public ReadOnlySpan<byte> Bytes
    {
        get
        {
            if (Info.ByteLength > int.MaxValue)
            {
                throw new NotSupportedException($"{FilePath}: tensor '{Name}' is {Info.ByteLength} bytes, too large for one span; read it with ReadRowsAsFloat32");
            }
            return _file.GetSpan(_file.DataSectionStart + Info.DataBegin, (int)Info.ByteLength);
        }
    }

    /// <summary>
    /// Converts elements [<paramref name="firstElement"/>, <paramref name="firstElement"/> + destination length) to float32.
    /// </summary>
    /// <exception cref="NotSupportedException">The dtype is not F32, F16 or BF16.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the tensor.</exception>
    public void CopyToFloat32(long firstElement, Span<float> destination)
    {
        if (!DType.IsConvertibleToFloat32())
        {
            throw new NotSupportedException($"{FilePath}: tensor '{Name}' has dtype {DType}, which cannot be read as float32");
        }
        long elementCount = Info.ElementCount;
        if (firstElement < 0 || firstElement + destination.Length > elementCount)
        {
            throw new ArgumentOutOfRangeException(nameof(firstElement),
                $"{FilePath}: tensor '{Name}': elements [{firstElement}, {firstElement + destination.Length}) are outside its {elementCount} elements");
        }
        int elementSize = DType.SizeInBytes();
        // Convert in slices so a span over the source never exceeds int.MaxValue bytes.
        const int sliceElements = 1 << 24;
        for (int done = 0; done < destination.Length; done += sliceElements)
        {
            int count = Math.Min(sliceElements, destination.Length - done);
            ReadOnlySpan<byte> source = _file.GetSpan(
                _file.DataSectionStart + Info.DataBegin + ((firstElement + done) * elementSize), count * elementSize);
            Float32Conversion.Convert(DType, source, destination.Slice(done, count));
        }
    }

    /// <summary>Converts <paramref name="rowCount"/> rows starting at <paramref name="firstRow"/> to a new float32 array (row-major).</summary>
    public float[] ReadRowsAsFloat32(long firstRow, int rowCount)
    {
        if (firstRow < 0 || rowCount < 0 || firstRow + rowCount > RowCount)
        {
            throw new ArgumentOutOfRangeException(nameof(firstRow),
                $"{FilePath}: tensor '{Name}': rows [{firstRow}, {firstRow + rowCount}) are outside its {RowCount} rows");
        }
        long elements = rowCount * RowLength;
        if (elements > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(rowCount), $"{FilePath}: tensor '{Name}': {rowCount} rows do not fit one array; read fewer");
        }
        var rows = new float[elements];
        CopyToFloat32(firstRow * RowLength, rows);
        return rows;
    }

    /// <summary>
    /// Yields the tensor as consecutive float32 blocks of up to <paramref name="rowsPerBlock"/> rows, so a caller can
    /// process a large weight without holding it whole. Each block is a fresh array.
    /// </summary>
    public IEnumerable<(long FirstRow, float[] Values)> EnumerateRowBlocksAsFloat32(int rowsPerBlock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerBlock, 1);
        for (long row = 0; row < RowCount; row += rowsPerBlock)
        {
            int count = (int)Math.Min(rowsPerBlock, RowCount - row);
            yield return (row, ReadRowsAsFloat32(row, count));
        }
    }

    /// <summary>The whole tensor as float32 (for small tensors: norms, biases, tests).</summary>
    public float[] ToFloat32Array()
    {
        long elements = Info.ElementCount;
        if (elements > Array.MaxLength)
        {
            throw new NotSupportedException($"{FilePath}: tensor '{Name}' has {elements} elements, too many for one array; read it by rows");
        }
        var values = new float[elements];
        CopyToFloat32(0, values);
        return values;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {DType}[{string.Join(", ", Shape)}]";
}

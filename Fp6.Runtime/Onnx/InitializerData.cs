using Fp6.Runtime.Onnx.Proto;

namespace Fp6.Runtime.Onnx;

/// <summary>
/// The contents of one initializer, produced only when the model is written (or quantized), so a large model is never
/// held in memory twice: data may come from a memory-mapped checkpoint, an external-data file or a managed array.
/// </summary>
public abstract class InitializerData
{
    /// <summary>The ONNX element type.</summary>
    public abstract TensorProto.Types.DataType ElementType { get; }

    /// <summary>The tensor shape.</summary>
    public abstract IReadOnlyList<long> Dims { get; }

    /// <summary>The size of the raw little-endian data in bytes.</summary>
    public long ByteCount => ElementCount * ElementSize(ElementType);

    /// <summary>The number of elements.</summary>
    public long ElementCount => Dims.Aggregate(1L, (a, b) => a * b);

    /// <summary>Writes the raw little-endian data to <paramref name="destination"/>.</summary>
    public abstract void WriteTo(Stream destination);

    /// <summary>
    /// For a 2-D [K, N] float tensor used as MatMul's B: fills <paramref name="destination"/> (K floats) with
    /// column <paramref name="column"/>, i.e. row <paramref name="column"/> of the weight matrix Bᵀ = W [N, K].
    /// Called concurrently for different columns.
    /// </summary>
    public abstract void ReadColumn(int column, Span<float> destination);

    /// <summary>The whole tensor as an inline (raw_data) TensorProto named <paramref name="name"/>.</summary>
    public TensorProto ToInlineTensor(string name)
    {
        using var buffer = new MemoryStream();
        WriteTo(buffer);
        return OnnxTensors.Create(name, ElementType, buffer.GetBuffer().AsSpan(0, (int)buffer.Length), [.. Dims]);
    }

    /// <summary>Bytes per element of an ONNX element type.</summary>
    public static int ElementSize(TensorProto.Types.DataType type) => type switch
    {
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Uint32 => 4,
        TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 or TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Uint16 => 2,
        TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Uint64 => 8,
        TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Bool => 1,
        _ => throw new NotSupportedException($"Element type {type} is not supported in initializers."),
    };
}

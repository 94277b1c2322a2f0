using System.Runtime.InteropServices;
using Fp6.Runtime.Onnx.Proto;

namespace Fp6.Runtime.Onnx;

/// <summary>Initializer data held in a managed array (small tensors, packed FP6 weights, test data).</summary>
public sealed class ArrayInitializerData : InitializerData
{
    private readonly Array _data;
    private readonly long[] _dims;

    private ArrayInitializerData(Array data, TensorProto.Types.DataType type, long[] dims)
    {
        _data = data;
        _dims = dims;
        ElementType = type;
        if (ElementCount != data.LongLength)
        {
            throw new ArgumentException($"Shape [{string.Join(", ", dims)}] needs {ElementCount} elements, the array has {data.LongLength}.");
        }
    }

    /// <inheritdoc />
    public override TensorProto.Types.DataType ElementType { get; }

    /// <inheritdoc />
    public override IReadOnlyList<long> Dims => _dims;

    /// <summary>Float data.</summary>
    public static ArrayInitializerData Create(float[] data, params long[] dims) => new(data, TensorProto.Types.DataType.Float, dims);

    /// <summary>fp16 data.</summary>
    public static ArrayInitializerData Create(Half[] data, params long[] dims) => new(data, TensorProto.Types.DataType.Float16, dims);

    /// <summary>uint8 data.</summary>
    public static ArrayInitializerData Create(byte[] data, params long[] dims) => new(data, TensorProto.Types.DataType.Uint8, dims);

    /// <summary>int64 data.</summary>
    public static ArrayInitializerData Create(long[] data, params long[] dims) => new(data, TensorProto.Types.DataType.Int64, dims);

    /// <summary>int32 data.</summary>
    public static ArrayInitializerData Create(int[] data, params long[] dims) => new(data, TensorProto.Types.DataType.Int32, dims);

    /// <inheritdoc />
    public override void WriteTo(Stream destination)
    {
        ReadOnlySpan<byte> bytes = _data switch
        {
            float[] f => MemoryMarshal.AsBytes(f.AsSpan()),
            Half[] h => MemoryMarshal.AsBytes(h.AsSpan()),
            byte[] b => b,
            long[] l => MemoryMarshal.AsBytes(l.AsSpan()),
            int[] i => MemoryMarshal.AsBytes(i.AsSpan()),
            _ => throw new InvalidOperationException("Unsupported array type."),
        };
        destination.Write(bytes);
    }

    /// <inheritdoc />
    public override void ReadColumn(int column, Span<float> destination)
    {
        if (_data is not float[] values || _dims.Length != 2)
        {
            throw new InvalidOperationException("Columns can be read only from a 2-D float tensor.");
        }

        long rows = _dims[0], cols = _dims[1];
        for (long k = 0; k < rows; k++)
        {
            destination[(int)k] = values[(k * cols) + column];
        }
    }
}

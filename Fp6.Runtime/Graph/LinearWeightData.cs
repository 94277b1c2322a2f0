using System.Runtime.InteropServices;
using Fp6.Runtime.Onnx;
using Fp6.Runtime.Onnx.Proto;

namespace Fp6.Runtime.Graph;

/// <summary>
/// MatMul's B for one or more linear layers stacked along their outputs: B = [W1; W2; ...]ᵀ with shape [K, ΣN].
/// Columns of B are rows of the checkpoint tensors, so the Fp6 pass quantizes straight from the source without
/// ever transposing; only writing the unquantized graph materialises the transpose.
/// </summary>
public sealed class LinearWeightData : InitializerData
{
    private readonly IWeightMatrix[] _parts;
    private readonly int[] _firstColumn;
    private readonly long[] _dims;
    private readonly TensorProto.Types.DataType _type;

    /// <summary>Stacks <paramref name="parts"/> (all with the same input width) into one B, stored as <paramref name="type"/>.</summary>
    public LinearWeightData(TensorProto.Types.DataType type, params IWeightMatrix[] parts)
    {
        if (parts.Length == 0 || parts.Any(p => p.Cols != parts[0].Cols))
        {
            throw new ArgumentException("Stacked linear weights need at least one part and equal input widths.", nameof(parts));
        }

        _type = type is TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Float16
            ? type
            : throw new ArgumentException($"Linear weights are stored as float or float16, not {type}.", nameof(type));
        _parts = parts;
        _firstColumn = new int[parts.Length];
        int columns = 0;
        for (int i = 0; i < parts.Length; i++)
        {
            _firstColumn[i] = columns;
            columns += parts[i].Rows;
        }

        _dims = [parts[0].Cols, columns];
    }

    /// <inheritdoc />
    public override TensorProto.Types.DataType ElementType => _type;

    /// <inheritdoc />
    public override IReadOnlyList<long> Dims => _dims;

    /// <inheritdoc />
    public override void ReadColumn(int column, Span<float> destination)
    {
        int part = Array.BinarySearch(_firstColumn, column);
        if (part < 0)
        {
            part = ~part - 1;
        }

        _parts[part].ReadRow(column - _firstColumn[part], destination);
    }

    /// <inheritdoc />
    public override void WriteTo(Stream destination)
    {
        int k = (int)_dims[0], n = (int)_dims[1];
        var transposed = new float[(long)k * n];
        var row = new float[k];
        for (int column = 0; column < n; column++)
        {
            ReadColumn(column, row);
            for (int i = 0; i < k; i++)
            {
                transposed[((long)i * n) + column] = row[i];
            }
        }

        if (_type == TensorProto.Types.DataType.Float)
        {
            destination.Write(MemoryMarshal.AsBytes(transposed.AsSpan()));
        }
        else
        {
            var halves = new Half[transposed.Length];
            System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(transposed, halves);
            destination.Write(MemoryMarshal.AsBytes(halves.AsSpan()));
        }
    }
}

/// <summary>A tensor copied from the checkpoint row by row, converted to float or float16 (embeddings, norms, biases).</summary>
public sealed class DenseWeightData : InitializerData
{
    private readonly IWeightMatrix _source;
    private readonly long[] _dims;
    private readonly TensorProto.Types.DataType _type;

    /// <summary>Wraps <paramref name="source"/> with the ONNX shape <paramref name="dims"/>.</summary>
    public DenseWeightData(IWeightMatrix source, TensorProto.Types.DataType type, params long[] dims)
    {
        _source = source;
        _type = type;
        _dims = dims;
        if (ElementCount != (long)source.Rows * source.Cols)
        {
            throw new ArgumentException($"Tensor '{source.Name}' has {(long)source.Rows * source.Cols} values, shape [{string.Join(", ", dims)}] needs {ElementCount}.");
        }
    }

    /// <inheritdoc />
    public override TensorProto.Types.DataType ElementType => _type;

    /// <inheritdoc />
    public override IReadOnlyList<long> Dims => _dims;

    /// <inheritdoc />
    public override void ReadColumn(int column, Span<float> destination) =>
        throw new NotSupportedException($"'{_source.Name}' is not a linear weight.");

    /// <inheritdoc />
    public override void WriteTo(Stream destination)
    {
        var row = new float[_source.Cols];
        var halves = new Half[_source.Cols];
        for (int r = 0; r < _source.Rows; r++)
        {
            _source.ReadRow(r, row);
            if (_type == TensorProto.Types.DataType.Float)
            {
                destination.Write(MemoryMarshal.AsBytes(row.AsSpan()));
            }
            else
            {
                System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(row, halves);
                destination.Write(MemoryMarshal.AsBytes(halves.AsSpan()));
            }
        }
    }
}

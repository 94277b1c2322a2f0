using System.Numerics.Tensors;

namespace Fp6.Runtime.Quantization;

/// <summary>Fills <paramref name="destination"/> with row <paramref name="row"/> of a matrix, as float.</summary>
public delegate void WeightRowReader(int row, Span<float> destination);

/// <summary>
/// Quantizes a whole weight matrix to FP6 and packs it for a kernel layout, in parallel over rows (RowBlock32) or
/// 64-row bands (TcFpx). Rows are pulled through a <see cref="WeightRowReader"/>, so a memory-mapped checkpoint is
/// never copied whole into memory as float.
/// </summary>
public static class Fp6MatrixQuantizer
{
    private const int RowsPerTask = 64;

    /// <summary>Quantizes and packs a matrix whose rows come from <paramref name="readRow"/>.</summary>
    /// <param name="rows">Output features (N).</param>
    /// <param name="cols">Input features (K).</param>
    /// <param name="readRow">Supplies each row as float; called concurrently for different rows.</param>
    /// <param name="layout">The kernel layout to pack for.</param>
    /// <param name="tensorName">Named in errors.</param>
    /// <param name="maxDegreeOfParallelism">Threads to use; -1 for all cores.</param>
    public static Fp6PackedWeight Quantize(
        int rows, int cols, WeightRowReader readRow, Fp6WeightLayout layout, string tensorName, int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        ArgumentNullException.ThrowIfNull(readRow);
        long byteCount = layout.PackedByteCount(rows, cols);
        if (byteCount > Array.MaxLength)
        {
            throw new ArgumentException($"Tensor '{tensorName}' ({rows}x{cols}) packs to {byteCount} bytes, more than one array holds.");
        }

        var packed = new byte[byteCount];
        var scales = new Half[rows];
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        if (layout == Fp6WeightLayout.RowBlock32)
        {
            int rowBytes = RowBlock32Packer.RowByteCount(cols);
            int tasks = (rows + RowsPerTask - 1) / RowsPerTask;
            Parallel.For(0, tasks, options, () => new RowBuffers(cols), (task, _, buffers) =>
            {
                int end = Math.Min(rows, (task + 1) * RowsPerTask);
                for (int row = task * RowsPerTask; row < end; row++)
                {
                    readRow(row, buffers.Values);
                    scales[row] = Fp6RowQuantizer.QuantizeRow(buffers.Values, buffers.Codes, tensorName, row);
                    RowBlock32Packer.PackRow(buffers.Codes, packed.AsSpan((int)((long)row * rowBytes), rowBytes));
                }

                return buffers;
            }, _ => { });
        }
        else
        {
            int paddedRows = TcFpxPacker.PaddedRows(rows);
            int paddedCols = TcFpxPacker.PaddedCols(cols);
            Parallel.For(0, paddedRows / TcFpxPacker.BandRows, options, () => new BandBuffers(cols, paddedCols), (band, _, buffers) =>
            {
                Array.Clear(buffers.BandCodes);
                for (int r = 0; r < TcFpxPacker.BandRows; r++)
                {
                    int row = (band * TcFpxPacker.BandRows) + r;
                    if (row >= rows)
                    {
                        break;
                    }

                    readRow(row, buffers.Values);
                    Span<byte> codes = buffers.BandCodes.AsSpan(r * paddedCols, cols);
                    scales[row] = Fp6RowQuantizer.QuantizeRow(buffers.Values, codes, tensorName, row);
                }

                TcFpxPacker.PackBand(buffers.BandCodes, band, paddedRows, paddedCols, packed);
                return buffers;
            }, _ => { });
        }

        return new Fp6PackedWeight(layout, rows, cols, packed, scales);
    }

    /// <summary>Quantizes and packs a row-major float matrix.</summary>
    public static Fp6PackedWeight Quantize(float[] weights, int rows, int cols, Fp6WeightLayout layout, string tensorName, int maxDegreeOfParallelism = -1)
    {
        CheckLength(weights.Length, rows, cols, tensorName);
        return Quantize(rows, cols, (row, destination) => weights.AsSpan(row * cols, cols).CopyTo(destination), layout, tensorName, maxDegreeOfParallelism);
    }

    /// <summary>Quantizes and packs a row-major fp16 matrix.</summary>
    public static Fp6PackedWeight Quantize(Half[] weights, int rows, int cols, Fp6WeightLayout layout, string tensorName, int maxDegreeOfParallelism = -1)
    {
        CheckLength(weights.Length, rows, cols, tensorName);
        return Quantize(rows, cols, (row, destination) => TensorPrimitives.ConvertToSingle(weights.AsSpan(row * cols, cols), destination), layout, tensorName, maxDegreeOfParallelism);
    }

    private static void CheckLength(long length, int rows, int cols, string tensorName)
    {
        if (length != (long)rows * cols)
        {
            throw new ArgumentException($"Tensor '{tensorName}' has {length} elements, not {rows}x{cols}.");
        }
    }

    private sealed class RowBuffers(int cols)
    {
        public float[] Values { get; } = new float[cols];

        public byte[] Codes { get; } = new byte[cols];
    }

    private sealed class BandBuffers(int cols, int paddedCols)
    {
        public float[] Values { get; } = new float[cols];

        public byte[] BandCodes { get; } = new byte[TcFpxPacker.BandRows * paddedCols];
    }
}

using Fp6.Runtime.Graph;
using Fp6.Runtime.Models.Checkpoints;

namespace Fp6.Runtime.Conversion;

/// <summary>A memory-mapped safetensors checkpoint seen as <see cref="ILlamaWeights"/>: rows are converted to float on demand.</summary>
public sealed class CheckpointWeights(SafetensorsCheckpoint checkpoint) : ILlamaWeights
{
    /// <inheritdoc />
    public IWeightMatrix GetTensor(string name) =>
        checkpoint.TryGetTensor(name, out SafetensorsTensor? tensor)
            ? new TensorMatrix(tensor)
            : throw new KeyNotFoundException($"The checkpoint {checkpoint.Source} has no tensor '{name}'.");

    /// <inheritdoc />
    public bool Contains(string name) => checkpoint.Contains(name);

    private sealed class TensorMatrix(SafetensorsTensor tensor) : IWeightMatrix
    {
        public string Name => tensor.Name;

        public int Rows { get; } = checked((int)tensor.RowCount);

        public int Cols { get; } = checked((int)tensor.RowLength);

        public void ReadRow(int row, Span<float> destination) => tensor.CopyToFloat32((long)row * Cols, destination[..Cols]);
    }
}

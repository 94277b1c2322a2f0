namespace Fp6.Runtime.Graph;

/// <summary>
/// A 2-D weight as the checkpoint stores it, [rows, cols] (for a linear layer [out_features, in_features]), read
/// one row at a time as float, so a memory-mapped bf16/fp16 tensor is never copied whole.
/// </summary>
public interface IWeightMatrix
{
    /// <summary>The checkpoint's name for the tensor (used in errors).</summary>
    string Name { get; }

    /// <summary>Rows.</summary>
    int Rows { get; }

    /// <summary>Columns.</summary>
    int Cols { get; }

    /// <summary>Fills <paramref name="destination"/> (Cols floats) with row <paramref name="row"/>; thread-safe.</summary>
    void ReadRow(int row, Span<float> destination);
}

/// <summary>A weight held in a managed float array (tests, small tensors).</summary>
public sealed class ArrayWeightMatrix(string name, float[] values, int rows, int cols) : IWeightMatrix
{
    /// <inheritdoc />
    public string Name { get; } = name;

    /// <inheritdoc />
    public int Rows { get; } = rows;

    /// <inheritdoc />
    public int Cols { get; } = cols;

    /// <summary>The values, row-major.</summary>
    public float[] Values { get; } = values.Length == (long)rows * cols
        ? values
        : throw new ArgumentException($"Weight '{name}' has {values.Length} values, not {rows}x{cols}.");

    /// <inheritdoc />
    public void ReadRow(int row, Span<float> destination) => Values.AsSpan(row * Cols, Cols).CopyTo(destination);
}

/// <summary>Where the graph builder gets its weights, by Hugging Face Llama tensor name.</summary>
public interface ILlamaWeights
{
    /// <summary>The tensor with that name; 1-D tensors are returned as one row.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor (the message names it).</exception>
    IWeightMatrix GetTensor(string name);

    /// <summary>Whether the checkpoint has the tensor.</summary>
    bool Contains(string name);
}

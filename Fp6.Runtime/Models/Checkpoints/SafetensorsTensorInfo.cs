namespace Fp6.Runtime.Models.Checkpoints;

/// <summary>One tensor's entry in a safetensors header, already validated against the file.</summary>
/// <param name="Name">The tensor's name (e.g. "model.layers.0.self_attn.q_proj.weight").</param>
/// <param name="DType">Its element type.</param>
/// <param name="Shape">Its dimensions, outermost first; empty for a scalar.</param>
/// <param name="DataBegin">Offset of its first byte, relative to the start of the data section.</param>
/// <param name="DataEnd">Offset one past its last byte, relative to the start of the data section.</param>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, long DataBegin, long DataEnd)
{
    /// <summary>Number of elements (the product of the shape; 1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long dimension in Shape)
            {
                count *= dimension;
            }
            return count;
        }
    }

    /// <summary>Size of the data in bytes.</summary>
    public long ByteLength => DataEnd - DataBegin;
}

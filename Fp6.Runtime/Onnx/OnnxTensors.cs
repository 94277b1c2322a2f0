using System.Runtime.InteropServices;
using Google.Protobuf;
using Fp6.Runtime.Onnx.Proto;

namespace Fp6.Runtime.Onnx;

/// <summary>Creates initializer tensors from managed arrays (raw little-endian data).</summary>
public static class OnnxTensors
{
    /// <summary>A float tensor.</summary>
    public static TensorProto Create(string name, ReadOnlySpan<float> data, params long[] dims) =>
        Create(name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(data), dims);

    /// <summary>An fp16 tensor.</summary>
    public static TensorProto Create(string name, ReadOnlySpan<Half> data, params long[] dims) =>
        Create(name, TensorProto.Types.DataType.Float16, MemoryMarshal.AsBytes(data), dims);

    /// <summary>An int64 tensor.</summary>
    public static TensorProto Create(string name, ReadOnlySpan<long> data, params long[] dims) =>
        Create(name, TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(data), dims);

    /// <summary>An int32 tensor.</summary>
    public static TensorProto Create(string name, ReadOnlySpan<int> data, params long[] dims) =>
        Create(name, TensorProto.Types.DataType.Int32, MemoryMarshal.AsBytes(data), dims);

    /// <summary>A uint8 tensor.</summary>
    public static TensorProto Create(string name, ReadOnlySpan<byte> data, params long[] dims) =>
        Create(name, TensorProto.Types.DataType.Uint8, data, dims);

    /// <summary>A tensor of any element type from its raw bytes.</summary>
    public static TensorProto Create(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> raw, params long[] dims)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian; big-endian hosts are not supported.");
        }

        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }
}

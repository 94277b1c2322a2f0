using Google.Protobuf;
using Fp6.Runtime.Onnx.Proto;

namespace Fp6.Runtime.Onnx;

/// <summary>
/// Writes an <see cref="OnnxModel"/> as <c>model.onnx</c> plus one external-data file: every out-of-message
/// initializer is streamed into the data file at a 64-byte aligned offset and referenced from the message, so neither
/// the protobuf 2 GB limit nor memory bounds the model size. Tensors under <see cref="InlineLimit"/> bytes stay inline:
/// shape inference needs to read small constants (Slice starts, Reshape shapes) from the message itself.
/// </summary>
public static class OnnxModelWriter
{
    private const int Alignment = 64;

    /// <summary>Initializers smaller than this many bytes are stored inline in the message.</summary>
    public const int InlineLimit = 1024;

    /// <summary>Saves the model; the data file is <c>{file name}.data</c> next to it. Returns the bytes written to it.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The .onnx path.</param>
    /// <param name="progress">Called after each initializer with (done, total) counts.</param>
    public static long Save(OnnxModel model, string path, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        string dataName = Path.GetFileName(path) + ".data";
        string dataPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, dataName);
        ModelProto proto = model.Proto.Clone();
        long offset = 0;
        int done = 0;
        using (var data = new FileStream(dataPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            foreach ((string name, InitializerData tensorData) in model.Initializers.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (tensorData.ByteCount < InlineLimit)
                {
                    proto.Graph.Initializer.Add(tensorData.ToInlineTensor(name));
                    progress?.Invoke(++done, model.Initializers.Count);
                    continue;
                }

                long padding = (Alignment - (offset % Alignment)) % Alignment;
                data.Write(new byte[padding]);
                offset += padding;
                tensorData.WriteTo(data);
                long length = data.Position - offset;
                if (length != tensorData.ByteCount)
                {
                    throw new InvalidDataException($"Initializer '{name}' wrote {length} bytes, expected {tensorData.ByteCount}.");
                }

                var tensor = new TensorProto { Name = name, DataType = (int)tensorData.ElementType, DataLocation = TensorProto.Types.DataLocation.External };
                tensor.Dims.AddRange(tensorData.Dims);
                tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = dataName });
                tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                proto.Graph.Initializer.Add(tensor);
                offset += length;
                progress?.Invoke(++done, model.Initializers.Count);
            }
        }

        using (FileStream stream = File.Create(path))
        {
            proto.WriteTo(stream);
        }

        return offset;
    }
}

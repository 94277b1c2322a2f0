using Google.Protobuf;
using Fp6.Runtime.Onnx.Proto;

namespace Fp6.Runtime.Onnx;

/// <summary>
/// An ONNX model whose large initializers live outside the protobuf message as <see cref="InitializerData"/>, so that
/// building, rewriting and saving stream the weights instead of holding them twice. The graph's initializer list
/// keeps only small tensors; <see cref="Initializers"/> holds the rest by name.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    /// <summary>Wraps a model message and its out-of-message initializers.</summary>
    public OnnxModel(ModelProto proto, IDictionary<string, InitializerData>? initializers = null)
    {
        Proto = proto ?? throw new ArgumentNullException(nameof(proto));
        Initializers = new Dictionary<string, InitializerData>(initializers ?? new Dictionary<string, InitializerData>(), StringComparer.Ordinal);
    }

    /// <summary>The model message (graph, opsets, small initializers).</summary>
    public ModelProto Proto { get; }

    /// <summary>Large initializers by name, written to external data on save.</summary>
    public Dictionary<string, InitializerData> Initializers { get; }

    /// <summary>The graph.</summary>
    public GraphProto Graph => Proto.Graph;

    /// <summary>
    /// Reads an .onnx file. Initializers with external data or more than <paramref name="inlineLimit"/> raw bytes are
    /// moved out of the message as memory-mapped or array data. Unknown fields are kept.
    /// </summary>
    public static OnnxModel Load(string path, int inlineLimit = 1024)
    {
        ModelProto proto;
        using (FileStream stream = File.OpenRead(path))
        {
            proto = ModelProto.Parser.ParseFrom(stream);
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var model = new OnnxModel(proto);
        foreach (TensorProto tensor in proto.Graph.Initializer.ToList())
        {
            bool external = tensor.DataLocation == TensorProto.Types.DataLocation.External;
            if (external || tensor.RawData.Length > inlineLimit || tensor.FloatData.Count * 4 > inlineLimit)
            {
                model.Initializers[tensor.Name] = RawInitializerData.FromTensor(tensor, directory);
                proto.Graph.Initializer.Remove(tensor);
            }
        }

        return model;
    }

    /// <summary>The data of an initializer, wherever it is kept; null when no initializer has that name.</summary>
    public InitializerData? FindInitializer(string name)
    {
        if (Initializers.TryGetValue(name, out InitializerData? data))
        {
            return data;
        }

        TensorProto? tensor = Graph.Initializer.FirstOrDefault(t => t.Name == name);
        return tensor is null ? null : RawInitializerData.FromTensor(tensor, null);
    }

    /// <summary>Removes an initializer wherever it is kept.</summary>
    public void RemoveInitializer(string name)
    {
        if (Initializers.Remove(name, out InitializerData? data))
        {
            (data as IDisposable)?.Dispose();
        }

        TensorProto? tensor = Graph.Initializer.FirstOrDefault(t => t.Name == name);
        if (tensor is not null)
        {
            Graph.Initializer.Remove(tensor);
        }
    }

    /// <summary>The model with every initializer inline, for in-memory sessions of small models (tests).</summary>
    public byte[] ToByteArray()
    {
        ModelProto copy = Proto.Clone();
        foreach ((string name, InitializerData data) in Initializers)
        {
            copy.Graph.Initializer.Add(data.ToInlineTensor(name));
        }

        return copy.ToByteArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (InitializerData data in Initializers.Values)
        {
            (data as IDisposable)?.Dispose();
        }

        Initializers.Clear();
    }
}

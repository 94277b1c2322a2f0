using Google.Protobuf;
using Fp6.Runtime.Onnx.Proto;

namespace Fp6.Runtime.Onnx;

/// <summary>
/// Builds an ONNX graph node by node: inputs and outputs with element types and (possibly symbolic) shapes,
/// initializers, nodes with attributes, opset imports. Small and explicit on purpose: the graphs Fp6 builds are
/// written by code, and a reader should see each node.
/// </summary>
public sealed class OnnxGraphBuilder
{
    /// <summary>The ai.onnx opset the graphs target (supported by ONNX Runtime 1.29).</summary>
    public const int DefaultOpset = 21;

    private readonly GraphProto _graph;
    private readonly Dictionary<string, long> _opsets = new(StringComparer.Ordinal) { [string.Empty] = DefaultOpset };
    private int _nodeCounter;

    /// <summary>Starts an empty graph.</summary>
    public OnnxGraphBuilder(string name)
    {
        _graph = new GraphProto { Name = name };
    }

    /// <summary>Declares that the graph uses <paramref name="domain"/> at <paramref name="version"/>.</summary>
    public OnnxGraphBuilder UseOpset(string domain, long version)
    {
        _opsets[domain] = version;
        return this;
    }

    /// <summary>Adds a graph input. A dimension is an int (fixed) or a string (symbolic).</summary>
    public OnnxGraphBuilder AddInput(string name, TensorProto.Types.DataType type, params object[] shape)
    {
        _graph.Input.Add(ValueInfo(name, type, shape));
        return this;
    }

    /// <summary>Adds a graph output. A dimension is an int (fixed) or a string (symbolic).</summary>
    public OnnxGraphBuilder AddOutput(string name, TensorProto.Types.DataType type, params object[] shape)
    {
        _graph.Output.Add(ValueInfo(name, type, shape));
        return this;
    }

    /// <summary>Adds an initializer (a constant tensor).</summary>
    public OnnxGraphBuilder AddInitializer(TensorProto tensor)
    {
        _graph.Initializer.Add(tensor);
        return this;
    }

    /// <summary>Adds a node and returns it so attributes can be added.</summary>
    public NodeProto AddNode(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string domain = "", string? name = null)
    {
        var node = new NodeProto { OpType = opType, Domain = domain, Name = name ?? $"{opType}_{_nodeCounter++}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        _graph.Node.Add(node);
        return node;
    }

    /// <summary>The finished model.</summary>
    public ModelProto Build(string producer = "fp6")
    {
        var model = new ModelProto
        {
            IrVersion = 10,
            ProducerName = producer,
            Graph = _graph,
        };
        foreach ((string domain, long version) in _opsets)
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        }

        return model;
    }

    /// <summary>A value description with an element type and a shape of ints and strings.</summary>
    public static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, params object[] shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (object dim in shape)
        {
            tensorShape.Dim.Add(dim switch
            {
                int value => new TensorShapeProto.Types.Dimension { DimValue = value },
                long value => new TensorShapeProto.Types.Dimension { DimValue = value },
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                _ => throw new ArgumentException($"Dimension '{dim}' of '{name}' is neither an integer nor a name."),
            });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = tensorShape } },
        };
    }
}

/// <summary>Adds typed attributes to nodes.</summary>
public static class NodeAttributes
{
    /// <summary>Adds an int attribute.</summary>
    public static NodeProto WithAttribute(this NodeProto node, string name, long value)
    {
        node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });
        return node;
    }

    /// <summary>Adds a float attribute.</summary>
    public static NodeProto WithAttribute(this NodeProto node, string name, float value)
    {
        node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value });
        return node;
    }

    /// <summary>Adds a string attribute.</summary>
    public static NodeProto WithAttribute(this NodeProto node, string name, string value)
    {
        node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) });
        return node;
    }

    /// <summary>Adds an ints attribute.</summary>
    public static NodeProto WithAttribute(this NodeProto node, string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        node.Attribute.Add(attribute);
        return node;
    }
}

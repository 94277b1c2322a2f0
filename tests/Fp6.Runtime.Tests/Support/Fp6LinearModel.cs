using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Fp6.Runtime.Engine;
using Fp6.Runtime.Onnx;
using Fp6.Runtime.Onnx.Proto;
using Fp6.Runtime.Quantization;

namespace Fp6.Runtime.Tests.Support;

/// <summary>A one-node graph X -> Fp6Linear -> Y run through ONNX Runtime on the CPU.</summary>
internal sealed class Fp6LinearModel : IDisposable
{
    private readonly InferenceSession _session;

    public Fp6LinearModel(Fp6PackedWeight weight, float[]? bias = null, int inputRank = 2, Action<NodeProto>? editNode = null)
    {
        _session = new InferenceSession(BuildModel(weight, bias, inputRank, editNode).ToByteArray(), Fp6SessionOptions.CreateForCpu());
    }

    public static ModelProto BuildModel(Fp6PackedWeight weight, float[]? bias, int inputRank, Action<NodeProto>? editNode = null)
    {
        object[] shape = inputRank == 3 ? ["batch", "seq", "K"] : ["M", "K"];
        var graph = new OnnxGraphBuilder("fp6_linear_test")
            .AddInput("X", TensorProto.Types.DataType.Float, shape)
            .AddOutput("Y", TensorProto.Types.DataType.Float, shape[..^1].Append("N").ToArray());
        if (bias is not null)
        {
            graph.AddInitializer(OnnxTensors.Create("bias", bias, bias.Length));
        }

        NodeProto node = Fp6LinearNode.Add(graph, "linear", "X", "Y", weight, bias is null ? null : "bias");
        editNode?.Invoke(node);
        return graph.Build();
    }

    public float[] Run(float[] x, params long[] shape)
    {
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(x, shape);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(runOptions, ["X"], [input], ["Y"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose() => _session.Dispose();
}

using Fp6.Runtime.Quantization;
using Fp6.Runtime.Onnx.Proto;

namespace Fp6.Runtime.Onnx;

/// <summary>
/// The <c>fp6llm.Fp6Linear</c> custom op: Y[..., N] = X[..., K] · Wᵀ with W in FP6 (one fp16 scale per row),
/// plus an optional bias. Inputs: X, W (packed uint8), scales (fp16 [N]), bias (optional, [N]).
/// Attributes: in_features, out_features, layout, exponent_bits, mantissa_bits. See docs/architecture.md.
/// </summary>
public static class Fp6LinearNode
{
    /// <summary>The custom op domain.</summary>
    public const string Domain = "fp6llm";

    /// <summary>The op type.</summary>
    public const string OpType = "Fp6Linear";

    /// <summary>The domain's opset version.</summary>
    public const int OpsetVersion = 1;

    /// <summary>
    /// Adds an Fp6Linear node with its weight and scale initializers (named <c>{prefix}.fp6_weight</c> and
    /// <c>{prefix}.fp6_scales</c>) and returns the node.
    /// </summary>
    public static NodeProto Add(OnnxGraphBuilder graph, string prefix, string input, string output, Fp6PackedWeight weight, string? biasName = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(weight);
        string weightName = prefix + ".fp6_weight";
        string scalesName = prefix + ".fp6_scales";
        graph.UseOpset(Domain, OpsetVersion)
            .AddInitializer(OnnxTensors.Create(weightName, weight.Packed, weight.Packed.LongLength))
            .AddInitializer(OnnxTensors.Create(scalesName, weight.Scales, weight.Scales.LongLength));
        var inputs = new List<string> { input, weightName, scalesName };
        if (biasName is not null)
        {
            inputs.Add(biasName);
        }

        return graph.AddNode(OpType, inputs, [output], Domain, prefix)
            .WithAttribute("in_features", (long)weight.Cols)
            .WithAttribute("out_features", (long)weight.Rows)
            .WithAttribute("layout", weight.Layout.AttributeName())
            .WithAttribute("exponent_bits", 3L)
            .WithAttribute("mantissa_bits", 2L);
    }
}

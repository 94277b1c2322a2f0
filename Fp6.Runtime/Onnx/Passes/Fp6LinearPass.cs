using Fp6.Runtime.Onnx.Proto;
using Fp6.Runtime.Quantization;

namespace Fp6.Runtime.Onnx.Passes;

/// <summary>One MatMul the pass replaced.</summary>
/// <param name="NodeName">The node, now an Fp6Linear.</param>
/// <param name="WeightName">The initializer that held B.</param>
/// <param name="OutFeatures">N.</param>
/// <param name="InFeatures">K.</param>
/// <param name="BytesBefore">Bytes of B.</param>
/// <param name="BytesAfter">Bytes of the packed codes and scales.</param>
public sealed record Fp6Replacement(string NodeName, string WeightName, int OutFeatures, int InFeatures, long BytesBefore, long BytesAfter);

/// <summary>What <see cref="Fp6LinearPass.Apply"/> did.</summary>
public sealed record Fp6PassReport(IReadOnlyList<Fp6Replacement> Replacements)
{
    /// <summary>Bytes of all replaced weights before.</summary>
    public long BytesBefore => Replacements.Sum(r => r.BytesBefore);

    /// <summary>Bytes of their FP6 form.</summary>
    public long BytesAfter => Replacements.Sum(r => r.BytesAfter);

    /// <summary>Bytes saved.</summary>
    public long BytesSaved => BytesBefore - BytesAfter;
}

/// <summary>
/// Replaces every <c>MatMul(X, B)</c> whose B is a constant 2-D float, fp16 or bf16 initializer [K, N] by
/// <c>fp6llm.Fp6Linear(X, W, scales)</c> with W = Bᵀ quantized to FP6 and packed for the target kernel's layout.
/// Works on any ONNX graph (ours or exported elsewhere); the replaced B is dropped unless another node still uses it.
/// </summary>
public static class Fp6LinearPass
{
    /// <summary>Applies the pass in place.</summary>
    /// <param name="model">The model to rewrite.</param>
    /// <param name="layout">The packed layout of the kernel that will run the model.</param>
    /// <param name="progress">Called before each replacement with (index, total, node name).</param>
    /// <param name="deferQuantization">
    /// Quantize each weight only when the model is written (streaming: one matrix in memory at a time) instead of now.
    /// </param>
    public static Fp6PassReport Apply(OnnxModel model, Fp6WeightLayout layout, Action<int, int, string>? progress = null, bool deferQuantization = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        var candidates = new List<(NodeProto Node, InitializerData Weight)>();
        foreach (NodeProto node in model.Graph.Node)
        {
            if (node.OpType == "MatMul" && (node.Domain is "" or "ai.onnx") && node.Input.Count == 2 &&
                model.FindInitializer(node.Input[1]) is { } weight && weight.Dims.Count == 2 && IsFloatLike(weight.ElementType))
            {
                candidates.Add((node, weight));
            }
        }

        var replacements = new List<Fp6Replacement>();
        for (int i = 0; i < candidates.Count; i++)
        {
            (NodeProto node, InitializerData weight) = candidates[i];
            string name = string.IsNullOrEmpty(node.Name) ? $"fp6_linear_{i}" : node.Name;
            progress?.Invoke(i, candidates.Count, name);
            int inFeatures = checked((int)weight.Dims[0]);
            int outFeatures = checked((int)weight.Dims[1]);
            string weightName = node.Input[1];
            string packedName = weightName + ".fp6";
            string scalesName = weightName + ".fp6_scales";
            long packedBytes = layout.PackedByteCount(outFeatures, inFeatures);
            if (deferQuantization)
            {
                var deferred = new DeferredFp6Weight(weight, layout, outFeatures, inFeatures, weightName);
                model.Initializers[packedName] = deferred.PackedData;
                model.Initializers[scalesName] = deferred.ScalesData;
            }
            else
            {
                Fp6PackedWeight packed = Fp6MatrixQuantizer.Quantize(outFeatures, inFeatures, weight.ReadColumn, layout, weightName);
                model.Initializers[packedName] = ArrayInitializerData.Create(packed.Packed, packed.Packed.LongLength);
                model.Initializers[scalesName] = ArrayInitializerData.Create(packed.Scales, packed.Scales.LongLength);
            }

            string input = node.Input[0];
            node.OpType = Fp6LinearNode.OpType;
            node.Domain = Fp6LinearNode.Domain;
            node.Name = name;
            node.Input.Clear();
            node.Input.Add([input, packedName, scalesName]);
            node.Attribute.Clear();
            node.WithAttribute("in_features", (long)inFeatures)
                .WithAttribute("out_features", (long)outFeatures)
                .WithAttribute("layout", layout.AttributeName())
                .WithAttribute("exponent_bits", 3L)
                .WithAttribute("mantissa_bits", 2L);

            replacements.Add(new Fp6Replacement(name, weightName, outFeatures, inFeatures, weight.ByteCount, packedBytes + (2L * outFeatures)));
            if (!model.Graph.Node.Any(n => n.Input.Contains(weightName)))
            {
                // A deferred weight still reads its source when written: only drop the reference, don't dispose it.
                if (deferQuantization)
                {
                    model.Initializers.Remove(weightName);
                }
                else
                {
                    model.RemoveInitializer(weightName);
                }
            }
        }

        if (replacements.Count > 0 && !model.Proto.OpsetImport.Any(o => o.Domain == Fp6LinearNode.Domain))
        {
            model.Proto.OpsetImport.Add(new OperatorSetIdProto { Domain = Fp6LinearNode.Domain, Version = Fp6LinearNode.OpsetVersion });
        }

        return new Fp6PassReport(replacements);
    }

    private static bool IsFloatLike(TensorProto.Types.DataType type) =>
        type is TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16;
}

using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Fp6.Runtime.Engine;
using Fp6.Runtime.Onnx.Proto;
using Fp6.Runtime.Quantization;
using Fp6.Runtime.Tests.Support;

namespace Fp6.Runtime.Tests.Onnx;

[TestClass]
public sealed class Fp6LinearErrorTests
{
    private static Fp6PackedWeight Weight(int rows = 8, int cols = 40) =>
        Fp6MatrixQuantizer.Quantize(Enumerable.Range(0, rows * cols).Select(i => (float)Math.Sin(i)).ToArray(), rows, cols, Fp6WeightLayout.RowBlock32, "w");

    [TestMethod]
    public void A_layout_the_CPU_kernel_cannot_read_is_named_in_the_error()
    {
        var error = Assert.ThrowsExactly<OnnxRuntimeException>(() => CreateSession(Weight(), node => SetLayout(node, "tcfpx")));
        StringAssert.Contains(error.Message, "'tcfpx'");
        StringAssert.Contains(error.Message, "'rowblock32'");
        StringAssert.Contains(error.Message, "linear", "the node is named");
    }

    [TestMethod]
    public void An_unknown_layout_is_an_error()
    {
        var error = Assert.ThrowsExactly<OnnxRuntimeException>(() => CreateSession(Weight(), node => SetLayout(node, "columnmajor9")));
        StringAssert.Contains(error.Message, "'columnmajor9'");
    }

    [TestMethod]
    public void A_wrong_weight_byte_count_is_an_error()
    {
        Fp6PackedWeight weight = Weight();
        var truncated = weight with { Packed = weight.Packed[..^24] };
        var error = Assert.ThrowsExactly<OnnxRuntimeException>(() => CreateSession(truncated));
        StringAssert.Contains(error.Message, $"{truncated.Packed.Length} bytes");
        StringAssert.Contains(error.Message, $"needs {weight.Packed.Length}");
    }

    [TestMethod]
    public void Activations_whose_width_is_not_in_features_are_an_error_at_run_time()
    {
        using var model = new Fp6LinearModel(Weight(cols: 40));
        var error = Assert.ThrowsExactly<OnnxRuntimeException>(() => model.Run(new float[2 * 41], 2, 41));
        StringAssert.Contains(error.Message, "last dimension 41");
        StringAssert.Contains(error.Message, "in_features is 40");

        // The session is still usable afterwards.
        Assert.HasCount(2 * 8, model.Run(new float[2 * 40], 2, 40));
    }

    [TestMethod]
    public void Missing_feature_attributes_are_an_error()
    {
        var error = Assert.ThrowsExactly<OnnxRuntimeException>(() => CreateSession(Weight(), node =>
        {
            AttributeProto attribute = node.Attribute.Single(a => a.Name == "in_features");
            node.Attribute.Remove(attribute);
        }));
        StringAssert.Contains(error.Message, "in_features");
    }

    private static void CreateSession(Fp6PackedWeight weight, Action<NodeProto>? edit = null)
    {
        using var session = new InferenceSession(Fp6LinearModel.BuildModel(weight, null, 2, edit).ToByteArray(), Fp6SessionOptions.CreateForCpu());
    }

    private static void SetLayout(NodeProto node, string layout) =>
        node.Attribute.Single(a => a.Name == "layout").S = ByteString.CopyFromUtf8(layout);
}

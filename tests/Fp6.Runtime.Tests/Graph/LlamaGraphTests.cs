using Fp6.Runtime.Engine;
using Fp6.Runtime.Graph;
using Fp6.Runtime.Onnx;
using Fp6.Runtime.Onnx.Passes;
using Fp6.Runtime.Quantization;

namespace Fp6.Runtime.Tests.Graph;

[TestClass]
public sealed class LlamaGraphTests
{
    private const int BlockSize = 4;
    private const int BlockCount = 32;
    private static readonly int[] s_prompt = [3, 17, 42, 8, 8, 29, 1, 33, 12, 40];

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void Prefill_then_chunks_then_decode_match_the_reference_forward_pass(bool qwenStyle)
    {
        var model = new TinyLlama(TinyLlama.SmallSpec(qwenStyle), seed: qwenStyle ? 2 : 1);
        using var runner = new CpuPagedModel(Unquantized(model), model.Spec, BlockCount, BlockSize);
        var blocks = new List<int>();
        int past = 0;
        // A 3-token prefill, a 4-token chunk, then single-token decodes: every step's last logits vs the reference.
        foreach (int count in new[] { 3, 4, 1, 1, 1 })
        {
            int[] chunk = s_prompt[past..(past + count)];
            runner.Allocator.EnsureCapacity(blocks, past + count);
            float[] logits = runner.Step([new PagedStep(chunk, past, blocks)])[0];
            past += count;
            AssertCloseToReference(ReferenceLlama.LastLogits(model, s_prompt[..past]), logits, 1e-4, $"after {past} tokens");
        }
    }

    [TestMethod]
    public void A_ragged_step_gives_each_sequence_the_logits_it_gets_alone()
    {
        var model = new TinyLlama(TinyLlama.SmallSpec(), seed: 3);
        byte[] onnx = Unquantized(model);
        int[][] histories = [[5, 6, 7, 8, 9], [10, 11, 12], [20, 21, 22, 23, 24, 25]];
        int[][] next = [[30], [31, 32, 33, 34], [35]];

        using var batched = new CpuPagedModel(onnx, model.Spec, BlockCount, BlockSize);
        var blocks = histories.Select(_ => new List<int>()).ToArray();
        for (int s = 0; s < 3; s++)
        {
            batched.Allocator.EnsureCapacity(blocks[s], histories[s].Length + next[s].Length);
        }

        batched.Step([.. histories.Select((h, s) => new PagedStep(h, 0, blocks[s]))]);
        float[][] together = batched.Step([.. next.Select((n, s) => new PagedStep(n, histories[s].Length, blocks[s]))]);

        for (int s = 0; s < 3; s++)
        {
            using var alone = new CpuPagedModel(onnx, model.Spec, BlockCount, BlockSize);
            var own = new List<int>();
            alone.Allocator.EnsureCapacity(own, histories[s].Length + next[s].Length);
            alone.Step([new PagedStep(histories[s], 0, own)]);
            float[] single = alone.Step([new PagedStep(next[s], histories[s].Length, own)])[0];
            for (int v = 0; v < single.Length; v++)
            {
                Assert.AreEqual(single[v], together[s][v], 1e-5f, $"sequence {s}, logit {v}");
            }

            AssertCloseToReference(ReferenceLlama.LastLogits(model, [.. histories[s], .. next[s]]), together[s], 1e-4, $"sequence {s}");
        }
    }

    [TestMethod]
    public void The_fp6_graph_stays_close_to_the_unquantized_graph()
    {
        var model = new TinyLlama(TinyLlama.SmallSpec(), seed: 4);
        using OnnxModel graph = LlamaGraphBuilder.Build(model.Spec, model, GraphTarget.Cpu);
        byte[] unquantized = graph.ToByteArray();
        Fp6PassReport report = Fp6LinearPass.Apply(graph, Fp6WeightLayout.RowBlock32);
        Assert.HasCount((model.Spec.LayerCount * 4) + 1, report.Replacements, "qkv, o, gate_up and down per layer, plus lm_head");
        byte[] fp6 = graph.ToByteArray();

        using var reference = new CpuPagedModel(unquantized, model.Spec, BlockCount, BlockSize);
        using var quantized = new CpuPagedModel(fp6, model.Spec, BlockCount, BlockSize);
        double squaredError = 0, squaredValue = 0;
        int agree = 0;
        var blocksA = new List<int>();
        var blocksB = new List<int>();
        for (int past = 0; past < s_prompt.Length; past++)
        {
            reference.Allocator.EnsureCapacity(blocksA, past + 1);
            quantized.Allocator.EnsureCapacity(blocksB, past + 1);
            float[] a = reference.Step([new PagedStep([s_prompt[past]], past, blocksA)])[0];
            float[] b = quantized.Step([new PagedStep([s_prompt[past]], past, blocksB)])[0];
            for (int v = 0; v < a.Length; v++)
            {
                squaredError += Math.Pow(a[v] - b[v], 2);
                squaredValue += Math.Pow(a[v], 2);
            }

            agree += Array.IndexOf(a, a.Max()) == Array.IndexOf(b, b.Max()) ? 1 : 0;
        }

        double relativeRms = Math.Sqrt(squaredError / squaredValue);
        TestContext.WriteLine($"FP6 vs unquantized logits: relative RMS {relativeRms:P2}, top-1 agreement {agree}/{s_prompt.Length}; weights {report.BytesBefore} -> {report.BytesAfter} bytes");
        Assert.IsLessThan(0.15, relativeRms);
        Assert.IsGreaterThan(0.0, relativeRms);
    }

    private static byte[] Unquantized(TinyLlama model)
    {
        using OnnxModel graph = LlamaGraphBuilder.Build(model.Spec, model, GraphTarget.Cpu);
        return graph.ToByteArray();
    }

    private static void AssertCloseToReference(double[] expected, float[] actual, double tolerance, string what)
    {
        double scale = expected.Max(Math.Abs);
        for (int v = 0; v < expected.Length; v++)
        {
            Assert.IsLessThanOrEqualTo(tolerance * scale, Math.Abs(expected[v] - actual[v]), $"{what}: logit {v} is {actual[v]}, reference {expected[v]}");
        }
    }
}

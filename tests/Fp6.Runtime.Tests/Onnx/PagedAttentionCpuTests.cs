using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Fp6.Runtime.Engine;
using Fp6.Runtime.Onnx;
using Fp6.Runtime.Onnx.Proto;
using Fp6.Runtime.Tests.Quantization;

namespace Fp6.Runtime.Tests.Onnx;

[TestClass]
public sealed class PagedAttentionCpuTests
{
    private const int MaxPositions = 4096;

    [TestMethod]
    [DataRow(4, 2, 16, 4, true, false)]
    [DataRow(8, 2, 64, 16, true, true)]
    [DataRow(6, 6, 32, 8, false, false)]
    public void Ragged_step_matches_the_reference_algorithm(int numHeads, int kvHeads, int headSize, int blockSize, bool rotary, bool interleaved)
    {
        var random = new Random(numHeads + (kvHeads * 10) + headSize);
        // Three sequences with cached history, plus one that contributes no token: a prefill chunk of 5 tokens after
        // 3 cached, a decode after 9 cached, an empty one, and a first-token decode.
        int[] past = [3, 9, 4, 0];
        int[] newTokens = [5, 1, 0, 1];
        int[] cu = [0, 5, 6, 6, 7];
        int tokens = cu[^1];
        const int maxBlocks = 4, numBlocks = 20;
        int[] blockTable = Enumerable.Range(0, numBlocks).OrderBy(_ => random.Next()).Take(4 * maxBlocks).ToArray();

        int width = kvHeads * headSize;
        float[] query = Fp6RowQuantizerTests.Gaussian(random, tokens * numHeads * headSize, 1f);
        float[] key = Fp6RowQuantizerTests.Gaussian(random, tokens * width, 1f);
        float[] value = Fp6RowQuantizerTests.Gaussian(random, tokens * width, 1f);
        float[] keyCache = Fp6RowQuantizerTests.Gaussian(random, numBlocks * blockSize * width, 1f);
        float[] valueCache = Fp6RowQuantizerTests.Gaussian(random, numBlocks * blockSize * width, 1f);
        (float[]? cos, float[]? sin) = rotary ? RotaryTables(headSize / 2, 10000f) : (null, null);

        float[] expectedKeyCache = (float[])keyCache.Clone();
        float[] expectedValueCache = (float[])valueCache.Clone();
        float[] expected = PagedAttentionReference.Run(query, key, value, expectedKeyCache, expectedValueCache, cu, past,
            blockTable, maxBlocks, cos, sin, numHeads, kvHeads, headSize, blockSize, interleaved);

        using var session = new InferenceSession(BuildModel(numHeads, kvHeads, rotary, interleaved).ToByteArray(), Fp6SessionOptions.CreateForCpu());
        var inputs = new List<(string Name, OrtValue Value)>
        {
            ("query", OrtValue.CreateTensorValueFromMemory(query, [tokens, numHeads * headSize])),
            ("key", OrtValue.CreateTensorValueFromMemory(key, [tokens, width])),
            ("value", OrtValue.CreateTensorValueFromMemory(value, [tokens, width])),
            ("key_cache", OrtValue.CreateTensorValueFromMemory(keyCache, [numBlocks, blockSize, kvHeads, headSize])),
            ("value_cache", OrtValue.CreateTensorValueFromMemory(valueCache, [numBlocks, blockSize, kvHeads, headSize])),
            ("cumulative_sequence_length", OrtValue.CreateTensorValueFromMemory(cu, [cu.Length])),
            ("past_seqlens", OrtValue.CreateTensorValueFromMemory(past, [past.Length])),
            ("block_table", OrtValue.CreateTensorValueFromMemory(blockTable, [4, maxBlocks])),
        };
        if (rotary)
        {
            inputs.Add(("cos_cache", OrtValue.CreateTensorValueFromMemory(cos!, [MaxPositions, headSize / 4])));
            inputs.Add(("sin_cache", OrtValue.CreateTensorValueFromMemory(sin!, [MaxPositions, headSize / 4])));
        }

        try
        {
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), inputs.Select(i => i.Value).ToArray(), ["output"]);
            float[] actual = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            AssertClose(expected, actual, 2e-5f, "attention output");
            AssertClose(expectedKeyCache, keyCache, 1e-6f, "key cache after the step (updated in place)");
            AssertClose(expectedValueCache, valueCache, 0f, "value cache after the step (updated in place)");
        }
        finally
        {
            foreach ((_, OrtValue v) in inputs)
            {
                v.Dispose();
            }
        }
    }

    [TestMethod]
    public void Declaring_cache_outputs_is_a_clear_error()
    {
        ModelProto model = BuildModel(2, 1, false, false);
        model.Graph.Node[0].Output.Add("key_cache_out");
        model.Graph.Output.Add(OnnxGraphBuilder.ValueInfo("key_cache_out", TensorProto.Types.DataType.Float, "blocks", "block_size", 1, "D"));
        using var session = new InferenceSession(model.ToByteArray(), Fp6SessionOptions.CreateForCpu());
        float[] q = new float[2 * 2 * 8], kv = new float[2 * 8], cache = new float[2 * 4 * 8];
        using var runOptions = new RunOptions();
        OrtValue[] values =
        [
            OrtValue.CreateTensorValueFromMemory(q, [2, 16]), OrtValue.CreateTensorValueFromMemory(kv, [2, 8]),
            OrtValue.CreateTensorValueFromMemory((float[])kv.Clone(), [2, 8]), OrtValue.CreateTensorValueFromMemory(cache, [2, 4, 1, 8]),
            OrtValue.CreateTensorValueFromMemory((float[])cache.Clone(), [2, 4, 1, 8]), OrtValue.CreateTensorValueFromMemory(new[] { 0, 2 }, [2]),
            OrtValue.CreateTensorValueFromMemory(new[] { 0 }, [1]), OrtValue.CreateTensorValueFromMemory(new[] { 0, 1 }, [1, 2]),
        ];
        string[] names = ["query", "key", "value", "key_cache", "value_cache", "cumulative_sequence_length", "past_seqlens", "block_table"];
        var error = Assert.ThrowsExactly<OnnxRuntimeException>(() => session.Run(runOptions, names, values, ["output", "key_cache_out"]));
        StringAssert.Contains(error.Message, "key_cache_out");
        foreach (OrtValue v in values)
        {
            v.Dispose();
        }
    }

    internal static (float[] Cos, float[] Sin) RotaryTables(int rotaryDim, float theta)
    {
        int half = rotaryDim / 2;
        var cos = new float[MaxPositions * half];
        var sin = new float[MaxPositions * half];
        for (int p = 0; p < MaxPositions; p++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = p / Math.Pow(theta, 2.0 * i / rotaryDim);
                cos[(p * half) + i] = (float)Math.Cos(angle);
                sin[(p * half) + i] = (float)Math.Sin(angle);
            }
        }

        return (cos, sin);
    }

    private static ModelProto BuildModel(int numHeads, int kvHeads, bool rotary, bool interleaved)
    {
        var graph = new OnnxGraphBuilder("paged_attention")
            .UseOpset("fp6llm", 1)
            .AddInput("query", TensorProto.Types.DataType.Float, "T", "Q")
            .AddInput("key", TensorProto.Types.DataType.Float, "T", "KV")
            .AddInput("value", TensorProto.Types.DataType.Float, "T", "KV")
            .AddInput("key_cache", TensorProto.Types.DataType.Float, "blocks", "block_size", kvHeads, "D")
            .AddInput("value_cache", TensorProto.Types.DataType.Float, "blocks", "block_size", kvHeads, "D")
            .AddInput("cumulative_sequence_length", TensorProto.Types.DataType.Int32, "B1")
            .AddInput("past_seqlens", TensorProto.Types.DataType.Int32, "B")
            .AddInput("block_table", TensorProto.Types.DataType.Int32, "B", "M")
            .AddOutput("output", TensorProto.Types.DataType.Float, "T", "Q");
        var inputs = new List<string> { "query", "key", "value", "key_cache", "value_cache", "cumulative_sequence_length", "past_seqlens", "block_table" };
        if (rotary)
        {
            graph.AddInput("cos_cache", TensorProto.Types.DataType.Float, "P", "R")
                .AddInput("sin_cache", TensorProto.Types.DataType.Float, "P", "R");
            inputs.AddRange(["cos_cache", "sin_cache"]);
        }

        graph.AddNode("PagedAttention", inputs, ["output"], "fp6llm", "attention")
            .WithAttribute("num_heads", (long)numHeads)
            .WithAttribute("kv_num_heads", (long)kvHeads)
            .WithAttribute("do_rotary", rotary ? 1L : 0L)
            .WithAttribute("rotary_interleaved", interleaved ? 1L : 0L);
        return graph.Build();
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.IsLessThanOrEqualTo(tolerance * (1 + Math.Abs(expected[i])), Math.Abs(expected[i] - actual[i]), $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
        }
    }
}

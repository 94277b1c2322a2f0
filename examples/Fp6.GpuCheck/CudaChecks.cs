using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Fp6.Runtime.Engine;
using Fp6.Runtime.Graph;
using Fp6.Runtime.Onnx;
using Fp6.Runtime.Onnx.Passes;
using Fp6.Runtime.Onnx.Proto;
using Fp6.Runtime.Quantization;
using DataType = Fp6.Runtime.Onnx.Proto.TensorProto.Types.DataType;

namespace Fp6.GpuCheck;

/// <summary>CUDA EP vs CPU EP on identical inputs; each check prints its measured error and returns pass/fail.</summary>
internal sealed class CudaChecks(string cudaProviderLibrary)
{
    private readonly Random _random = new(2026);

    public bool Fp6Linear()
    {
        bool ok = true;
        foreach ((int n, int k) in new[] { (256, 512), (320, 4160), (128, 4096), (4096, 4096), (6144, 4096) })
        {
            float[] weights = Gaussian(n * k, 0.02f);
            Fp6PackedWeight cpuWeight = Fp6MatrixQuantizer.Quantize(weights, n, k, Fp6WeightLayout.RowBlock32, "w");
            Fp6PackedWeight gpuWeight = Fp6MatrixQuantizer.Quantize(weights, n, k, Fp6WeightLayout.TcFpx, "w");
            using var cpu = new InferenceSession(LinearModel(cpuWeight, DataType.Float).ToByteArray(), Fp6SessionOptions.CreateForCpu());
            using var gpu = new InferenceSession(LinearModel(gpuWeight, DataType.Float16).ToByteArray(), Fp6SessionOptions.CreateForCuda(cudaProviderLibrary));
            foreach (int m in new[] { 1, 3, 16, 64, 300, 1024 })
            {
                Half[] xHalf = Gaussian(m * k, 1f).Select(v => (Half)v).ToArray();
                float[] x = xHalf.Select(v => (float)v).ToArray();
                float[] expected = RunSingle(cpu, "X", OrtValue.CreateTensorValueFromMemory(x, [m, k]), "Y").GetTensorDataAsSpan<float>().ToArray();
                using OrtValue actualValue = RunSingle(gpu, "X", OrtValue.CreateTensorValueFromMemory(ToOrt(xHalf), [m, k]), "Y");
                float[] actual = FromOrt(actualValue.GetTensorDataAsSpan<Float16>());
                double scale = expected.Max(Math.Abs);
                double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a) / (scale + 1e-30)).Max();
                bool pass = worst <= 2e-3 && actual.All(float.IsFinite);
                ok &= pass;
                Console.WriteLine($"Fp6Linear N={n,5} K={k,5} M={m,5}: max |cuda - cpu| / max|y| = {worst:E2} {(pass ? "ok" : "FAIL")}");
            }
        }

        return ok;
    }

    public bool PagedAttention()
    {
        bool ok = true;
        foreach (int blockSize in new[] { 16, 256 })
        {
            const int heads = 8, kvHeads = 2, headSize = 64, maxPositions = 2048;
            int[] past = [37, 0, 300];
            int[] cu = [0, 1, 17, 18];
            int tokens = cu[^1], batch = past.Length, numBlocks = 64;
            int maxBlocks = (past.Max() + 17 + blockSize - 1) / blockSize;
            int[] table = Enumerable.Range(0, numBlocks).OrderBy(_ => _random.Next()).Take(batch * maxBlocks).ToArray();
            Half[] query = GaussianHalf(tokens * (heads + (2 * kvHeads)) * headSize);
            Half[] keyCache = GaussianHalf(numBlocks * blockSize * kvHeads * headSize);
            Half[] valueCache = GaussianHalf(keyCache.Length);
            (float[] cos, float[] sin) = Rotary(maxPositions, headSize);

            using var cpu = new InferenceSession(AttentionModel("fp6llm", DataType.Float, heads, kvHeads, headSize).ToByteArray(), Fp6SessionOptions.CreateForCpu());
            using var gpu = new InferenceSession(AttentionModel("com.microsoft", DataType.Float16, heads, kvHeads, headSize).ToByteArray(), Fp6SessionOptions.CreateForCuda(cudaProviderLibrary));
            float[] expected = RunAttention(cpu, false, query, keyCache, valueCache, cu, past, table, maxBlocks, cos, sin, blockSize, kvHeads, headSize);
            float[] actual = RunAttention(gpu, true, query, keyCache, valueCache, cu, past, table, maxBlocks, cos, sin, blockSize, kvHeads, headSize);
            double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            bool pass = worst <= 5e-3;
            ok &= pass;
            Console.WriteLine($"PagedAttention block_size={blockSize,3}: max |cuda - cpu| = {worst:E2} {(pass ? "ok" : "FAIL")}");
        }

        return ok;
    }

    public bool TinyLlama(bool quantizeGpuGraph = true, bool unembedAllTokens = false)
    {
        var spec = new LlamaGraphSpec(256, 512, 2, 4, 2, 64, 512, 1e-5f, LlamaGraphSpec.DefaultRopeFrequencies(64, 10000), 512, false, false);
        var weights = new RandomWeights(spec, _random);
        using OnnxModel cpuGraph = LlamaGraphBuilder.Build(spec, weights, GraphTarget.Cpu, unembedAllTokens);
        Fp6LinearPass.Apply(cpuGraph, Fp6WeightLayout.RowBlock32);
        using OnnxModel gpuGraph = LlamaGraphBuilder.Build(spec, weights, GraphTarget.Cuda, unembedAllTokens);
        if (quantizeGpuGraph)
        {
            Fp6LinearPass.Apply(gpuGraph, Fp6WeightLayout.TcFpx);
        }

        int[][] prompts = [[1, 2, 3, 4, 5], [100, 200, 300], [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]];
        Console.WriteLine("tiny llama: CPU graph ...");
        float[] expected = RunLlama(new InferenceSession(cpuGraph.ToByteArray(), Fp6SessionOptions.CreateForCpu()), spec, prompts, DataType.Float);
        Console.WriteLine("tiny llama: CUDA session ...");
        using SessionOptions gpuOptions = Fp6SessionOptions.CreateForCuda(cudaProviderLibrary);
        if (Environment.GetEnvironmentVariable("FP6_VERBOSE") == "1")
        {
            gpuOptions.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE;
            gpuOptions.LogVerbosityLevel = 1000;
        }

        var gpuSession = new InferenceSession(gpuGraph.ToByteArray(), gpuOptions);
        Console.WriteLine("tiny llama: CUDA run ...");
        float[] actual = RunLlama(gpuSession, spec, prompts, DataType.Float16);
        double error = Math.Sqrt(expected.Zip(actual, (e, a) => (e - a) * (e - a)).Sum() / expected.Sum(e => e * e));
        int agree = 0;
        for (int b = 0; b < expected.Length / spec.VocabSize; b++)
        {
            var e = expected.AsSpan(b * spec.VocabSize, spec.VocabSize).ToArray();
            var a = actual.AsSpan(b * spec.VocabSize, spec.VocabSize).ToArray();
            agree += Array.IndexOf(e, e.Max()) == Array.IndexOf(a, a.Max()) ? 1 : 0;
        }

        bool pass = error < 2e-2 && actual.All(float.IsFinite);
        Console.WriteLine($"Tiny Llama (FP6={quantizeGpuGraph}, all tokens={unembedAllTokens}) CUDA fp16 graph vs CPU float graph: relative RMS of logits {error:E2}, top-1 agreement {agree}/{expected.Length / spec.VocabSize} {(pass ? "ok" : "FAIL")}");
        return pass;
    }

    private static float[] RunLlama(InferenceSession session, LlamaGraphSpec spec, int[][] prompts, DataType cacheType)
    {
        using (session)
        {
            const int blockSize = 256, numBlocks = 8;
            long[] ids = prompts.SelectMany(p => p.Select(t => (long)t)).ToArray();
            int[] cu = [0, .. prompts.Select((_, i) => prompts.Take(i + 1).Sum(p => p.Length))];
            int[] past = new int[prompts.Length];
            int[] table = Enumerable.Range(0, prompts.Length).ToArray();
            var names = new List<string> { GraphNames.InputIds, GraphNames.CumulativeSequenceLength, GraphNames.PastSequenceLengths, GraphNames.BlockTable };
            var values = new List<OrtValue>
            {
                OrtValue.CreateTensorValueFromMemory(ids, [ids.Length]), OrtValue.CreateTensorValueFromMemory(cu, [cu.Length]),
                OrtValue.CreateTensorValueFromMemory(past, [past.Length]), OrtValue.CreateTensorValueFromMemory(table, [prompts.Length, 1]),
            };
            if (session.InputMetadata.ContainsKey(GraphNames.LastTokenIndices))
            {
                names.Add(GraphNames.LastTokenIndices);
                values.Add(OrtValue.CreateTensorValueFromMemory(cu.Skip(1).Select(end => (long)end - 1).ToArray(), [prompts.Length]));
            }

            if (cacheType == DataType.Float16)
            {
                names.Add(GraphNames.AttentionMetadata);
                values.Add(OrtValue.CreateTensorValueFromMemory(new[] { prompts.Max(p => p.Length), prompts.Max(p => p.Length) }, [2]));
            }

            long[] cacheShape = [numBlocks, blockSize, spec.KvHeadCount, spec.HeadSize];
            int cacheElements = numBlocks * blockSize * spec.KvHeadCount * spec.HeadSize;
            for (int layer = 0; layer < spec.LayerCount; layer++)
            {
                foreach (string name in new[] { GraphNames.KeyCache(layer), GraphNames.ValueCache(layer) })
                {
                    names.Add(name);
                    values.Add(cacheType == DataType.Float
                        ? OrtValue.CreateTensorValueFromMemory(new float[cacheElements], cacheShape)
                        : OrtValue.CreateTensorValueFromMemory(new Float16[cacheElements], cacheShape));
                }
            }

            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, names, values, [GraphNames.Logits]);
            float[] logits = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            values.ForEach(v => v.Dispose());
            return logits;
        }
    }

    private static float[] RunAttention(InferenceSession session, bool fp16, Half[] query, Half[] keyCache, Half[] valueCache, int[] cu, int[] past, int[] table, int maxBlocks, float[] cos, float[] sin, int blockSize, int kvHeads, int headSize)
    {
        int tokens = cu[^1];
        long[] cacheShape = [keyCache.Length / (blockSize * kvHeads * headSize), blockSize, kvHeads, headSize];
        var names = new List<string> { "query", "key_cache", "value_cache", "cumulative_sequence_length", "past_seqlens", "block_table", "cos", "sin" };
        var values = new List<OrtValue>
        {
            fp16 ? OrtValue.CreateTensorValueFromMemory(ToOrt(query), [tokens, query.Length / tokens]) : OrtValue.CreateTensorValueFromMemory(ToFloat(query), [tokens, query.Length / tokens]),
            fp16 ? OrtValue.CreateTensorValueFromMemory(ToOrt(keyCache), cacheShape) : OrtValue.CreateTensorValueFromMemory(ToFloat(keyCache), cacheShape),
            fp16 ? OrtValue.CreateTensorValueFromMemory(ToOrt(valueCache), cacheShape) : OrtValue.CreateTensorValueFromMemory(ToFloat(valueCache), cacheShape),
            OrtValue.CreateTensorValueFromMemory(cu, [cu.Length]),
            OrtValue.CreateTensorValueFromMemory(past, [past.Length]),
            OrtValue.CreateTensorValueFromMemory(table, [past.Length, maxBlocks]),
            fp16 ? OrtValue.CreateTensorValueFromMemory(ToOrt(cos.Select(v => (Half)v).ToArray()), [cos.Length / (headSize / 2), headSize / 2]) : OrtValue.CreateTensorValueFromMemory(cos, [cos.Length / (headSize / 2), headSize / 2]),
            fp16 ? OrtValue.CreateTensorValueFromMemory(ToOrt(sin.Select(v => (Half)v).ToArray()), [sin.Length / (headSize / 2), headSize / 2]) : OrtValue.CreateTensorValueFromMemory(sin, [sin.Length / (headSize / 2), headSize / 2]),
        };
        if (fp16)
        {
            names.Add("attention_metadata");
            int maxQuery = Enumerable.Range(0, past.Length).Max(b => cu[b + 1] - cu[b]);
            int maxKv = Enumerable.Range(0, past.Length).Max(b => past[b] + cu[b + 1] - cu[b]);
            values.Add(OrtValue.CreateTensorValueFromMemory(new[] { maxQuery, maxKv }, [2]));
        }

        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, names, values, ["output"]);
        float[] result = fp16 ? FromOrt(outputs[0].GetTensorDataAsSpan<Float16>()) : outputs[0].GetTensorDataAsSpan<float>().ToArray();
        values.ForEach(v => v.Dispose());
        return result;
    }

    // PagedAttention's shape inference needs the query width and head size statically.
    private static ModelProto AttentionModel(string domain, DataType type, int heads, int kvHeads, int headSize)
    {
        var graph = new OnnxGraphBuilder("attention").UseOpset(domain, 1)
            .AddInput("query", type, "T", (heads + (2 * kvHeads)) * headSize).AddInput("key_cache", type, "NB", "BS", kvHeads, headSize).AddInput("value_cache", type, "NB", "BS", kvHeads, headSize)
            .AddInput("cumulative_sequence_length", DataType.Int32, "B1").AddInput("past_seqlens", DataType.Int32, "B").AddInput("block_table", DataType.Int32, "B", "M")
            .AddInput("cos", type, "P", "R").AddInput("sin", type, "P", "R")
            .AddOutput("output", type, "T", heads * headSize);
        var inputs = new List<string> { "query", "", "", "key_cache", "value_cache", "cumulative_sequence_length", "past_seqlens", "block_table", "cos", "sin" };
        if (domain == "com.microsoft")
        {
            graph.AddInput("attention_metadata", DataType.Int32, 2);
            inputs.AddRange(Enumerable.Repeat(string.Empty, 6));
            inputs.Add("attention_metadata");
        }

        graph.AddNode("PagedAttention", inputs, ["output"], domain, "attention")
            .WithAttribute("num_heads", (long)heads).WithAttribute("kv_num_heads", (long)kvHeads).WithAttribute("do_rotary", 1L);
        return graph.Build();
    }

    private static ModelProto LinearModel(Fp6PackedWeight weight, DataType type)
    {
        var graph = new OnnxGraphBuilder("linear").AddInput("X", type, "M", weight.Cols).AddOutput("Y", type, "M", weight.Rows);
        Fp6LinearNode.Add(graph, "linear", "X", "Y", weight);
        return graph.Build();
    }

    private static OrtValue RunSingle(InferenceSession session, string inputName, OrtValue input, string outputName)
    {
        using (input)
        {
            using var runOptions = new RunOptions();
            IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, [inputName], [input], [outputName]);
            return outputs[0];
        }
    }

    private static (float[] Cos, float[] Sin) Rotary(int positions, int headSize)
    {
        float[] frequencies = LlamaGraphSpec.DefaultRopeFrequencies(headSize, 10000);
        var cos = new float[positions * frequencies.Length];
        var sin = new float[cos.Length];
        for (int p = 0; p < positions; p++)
        {
            for (int i = 0; i < frequencies.Length; i++)
            {
                cos[(p * frequencies.Length) + i] = (float)(Half)MathF.Cos(p * frequencies[i]);
                sin[(p * frequencies.Length) + i] = (float)(Half)MathF.Sin(p * frequencies[i]);
            }
        }

        return (cos, sin);
    }

    // ONNX Runtime's C# API has its own fp16 struct; System.Half arrays are not accepted.
    private static Float16[] ToOrt(Half[] values) => values.Select(v => new Float16(BitConverter.HalfToUInt16Bits(v))).ToArray();

    private static float[] FromOrt(ReadOnlySpan<Float16> values)
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = (float)BitConverter.UInt16BitsToHalf(values[i].value);
        }

        return result;
    }

    private static float[] ToFloat(Half[] values) => values.Select(v => (float)v).ToArray();

    private Half[] GaussianHalf(int count) => Gaussian(count, 1f).Select(v => (Half)v).ToArray();

    private float[] Gaussian(int count, float sigma)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(sigma * Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble()));
        }

        return values;
    }

    private sealed class RandomWeights : ILlamaWeights
    {
        private readonly Dictionary<string, ArrayWeightMatrix> _tensors = [];

        public RandomWeights(LlamaGraphSpec s, Random random)
        {
            void Add(string name, int rows, int cols, float sigma, float mean = 0) =>
                _tensors[name] = new ArrayWeightMatrix(name, Enumerable.Range(0, rows * cols).Select(_ => mean + (sigma * (float)((random.NextDouble() * 2) - 1))).ToArray(), rows, cols);
            float w = 1.7f / MathF.Sqrt(s.HiddenSize);
            Add("model.embed_tokens.weight", s.VocabSize, s.HiddenSize, 1f);
            Add("lm_head.weight", s.VocabSize, s.HiddenSize, w);
            Add("model.norm.weight", 1, s.HiddenSize, 0.1f, 1f);
            for (int l = 0; l < s.LayerCount; l++)
            {
                string p = $"model.layers.{l}.";
                Add(p + "self_attn.q_proj.weight", s.HeadCount * s.HeadSize, s.HiddenSize, w);
                Add(p + "self_attn.k_proj.weight", s.KvHeadCount * s.HeadSize, s.HiddenSize, w);
                Add(p + "self_attn.v_proj.weight", s.KvHeadCount * s.HeadSize, s.HiddenSize, w);
                Add(p + "self_attn.o_proj.weight", s.HiddenSize, s.HeadCount * s.HeadSize, w);
                Add(p + "mlp.gate_proj.weight", s.IntermediateSize, s.HiddenSize, w);
                Add(p + "mlp.up_proj.weight", s.IntermediateSize, s.HiddenSize, w);
                Add(p + "mlp.down_proj.weight", s.HiddenSize, s.IntermediateSize, 1.7f / MathF.Sqrt(s.IntermediateSize));
                Add(p + "input_layernorm.weight", 1, s.HiddenSize, 0.1f, 1f);
                Add(p + "post_attention_layernorm.weight", 1, s.HiddenSize, 0.1f, 1f);
            }
        }

        public IWeightMatrix GetTensor(string name) => _tensors[name];

        public bool Contains(string name) => _tensors.ContainsKey(name);
    }
}

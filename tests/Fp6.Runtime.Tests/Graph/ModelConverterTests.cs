using System.Text.Json;
using Fp6.Runtime.Conversion;
using Fp6.Runtime.Engine;
using Fp6.Runtime.Graph;
using Fp6.Runtime.Onnx;
using Fp6.Runtime.Onnx.Passes;
using Fp6.Runtime.Quantization;
using Fp6.Runtime.Tests.Support;

namespace Fp6.Runtime.Tests.Graph;

[TestClass]
public sealed class ModelConverterTests
{
    private static readonly int[] s_tokens = [4, 9, 16, 25, 36, 49, 1, 0];

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void A_bf16_checkpoint_converts_to_a_model_folder_that_matches_the_in_memory_fp6_graph(bool sharded)
    {
        var model = new TinyLlama(TinyLlama.SmallSpec(), seed: 11);
        string root = Directory.CreateTempSubdirectory("fp6-convert").FullName;
        try
        {
            string checkpoint = Path.Combine(root, "checkpoint");
            WriteCheckpoint(model, checkpoint, sharded);
            string output = Path.Combine(root, "fp6");
            var reports = new List<ConversionProgress>();
            ConversionResult result = ModelConverter.Convert(checkpoint, output, GraphTarget.Cpu, progress: new SynchronousProgress(reports));

            ModelManifest manifest = ModelManifest.Load(output);
            Assert.AreEqual("cpu", manifest.Target);
            Assert.AreEqual("rowblock32", manifest.WeightLayout);
            Assert.AreEqual(2 * 4 + 1, manifest.Fp6LinearCount);
            Assert.AreEqual(128, manifest.MaxPositions, "max_position_embeddings from config.json");
            Assert.IsTrue(File.Exists(Path.Combine(output, "config.json")), "config.json is copied");
            Assert.AreEqual(new FileInfo(Path.Combine(output, "model.onnx.data")).Length, result.DataBytes);
            Assert.IsNotEmpty(reports);
            Assert.AreEqual(reports[^1].Total, reports[^1].Done, "progress reaches the end");

            // The same FP6 graph built in memory from the same (bf16-exact) weights gives the same logits bit for bit.
            using OnnxModel inMemory = LlamaGraphBuilder.Build(model.Spec, model, GraphTarget.Cpu);
            Fp6LinearPass.Apply(inMemory, Fp6WeightLayout.RowBlock32);
            using var converted = new CpuPagedModel(Path.Combine(output, "model.onnx"), model.Spec, 8, 4);
            using var expected = new CpuPagedModel(inMemory.ToByteArray(), model.Spec, 8, 4);
            var blocksA = new List<int>();
            var blocksB = new List<int>();
            converted.Allocator.EnsureCapacity(blocksA, s_tokens.Length);
            expected.Allocator.EnsureCapacity(blocksB, s_tokens.Length);
            float[] a = converted.Step([new PagedStep(s_tokens, 0, blocksA)])[0];
            float[] b = expected.Step([new PagedStep(s_tokens, 0, blocksB)])[0];
            CollectionAssert.AreEqual(b, a);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void A_folder_converted_in_another_format_version_is_a_clear_error()
    {
        string root = Directory.CreateTempSubdirectory("fp6-manifest").FullName;
        try
        {
            var manifest = new ModelManifest
            {
                FormatVersion = ModelManifest.CurrentFormatVersion - 1,
                Target = "cpu",
                WeightLayout = "rowblock32",
                Source = "x",
                ModelType = "llama",
                LayerCount = 1,
                KvHeadCount = 1,
                HeadSize = 16,
                VocabSize = 10,
                MaxPositions = 8,
                Fp6LinearCount = 1,
                LinearBytesBefore = 1,
                LinearBytesAfter = 1,
            };
            manifest.Save(root);
            var error = Assert.ThrowsExactly<InvalidDataException>(() => ModelManifest.Load(root));
            StringAssert.Contains(error.Message, "fp6 convert");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void A_folder_without_config_is_a_clear_error()
    {
        string root = Directory.CreateTempSubdirectory("fp6-convert").FullName;
        try
        {
            var error = Assert.ThrowsExactly<FileNotFoundException>(() => ModelConverter.Convert(root, Path.Combine(root, "out"), GraphTarget.Cpu));
            StringAssert.Contains(error.Message, "config.json");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    internal static void WriteCheckpoint(TinyLlama model, string directory, bool sharded)
    {
        Directory.CreateDirectory(directory);
        LlamaGraphSpec s = model.Spec;
        var config = new Dictionary<string, object>
        {
            ["model_type"] = "llama",
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["hidden_size"] = s.HiddenSize,
            ["intermediate_size"] = s.IntermediateSize,
            ["num_hidden_layers"] = s.LayerCount,
            ["num_attention_heads"] = s.HeadCount,
            ["num_key_value_heads"] = s.KvHeadCount,
            ["vocab_size"] = s.VocabSize,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0,
            ["max_position_embeddings"] = 128,
            ["tie_word_embeddings"] = s.TieWordEmbeddings,
            ["hidden_act"] = "silu",
            ["torch_dtype"] = "bfloat16",
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(config));

        var tensors = model.TensorNames.Select(name =>
        {
            IWeightMatrix m = model.GetTensor(name);
            float[] values = model.Values(name);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = SafetensorsWriter.RoundToBfloat16(values[i]);
            }

            long[] shape = m.Rows == 1 && !name.EndsWith("weight", StringComparison.Ordinal) || name.Contains("norm", StringComparison.Ordinal) || name.EndsWith(".bias", StringComparison.Ordinal)
                ? [values.Length]
                : [m.Rows, m.Cols];
            return (name, values, shape);
        }).ToList();

        if (!sharded)
        {
            SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), tensors, bf16: true);
            return;
        }

        int half = tensors.Count / 2;
        SafetensorsWriter.Write(Path.Combine(directory, "model-00001-of-00002.safetensors"), tensors[..half], bf16: true);
        SafetensorsWriter.Write(Path.Combine(directory, "model-00002-of-00002.safetensors"), tensors[half..], bf16: true);
        var weightMap = tensors.Select((t, i) => (t.name, file: i < half ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors"))
            .ToDictionary(p => p.name, p => p.file);
        File.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"), JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = weightMap }));
    }

    private sealed class SynchronousProgress(List<ConversionProgress> reports) : IProgress<ConversionProgress>
    {
        public void Report(ConversionProgress value) => reports.Add(value);
    }
}

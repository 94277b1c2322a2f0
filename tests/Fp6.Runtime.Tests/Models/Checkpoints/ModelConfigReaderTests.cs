using Fp6.Runtime.Models.Checkpoints;

namespace Fp6.Runtime.Tests.Models.Checkpoints;

/// <summary>config.json of published Llama, Mistral and Qwen2 models (TestData/ModelConfigs) read into <see cref="ModelConfig"/>.</summary>
[TestClass]
public sealed class ModelConfigReaderTests
{
    private static readonly int[] Llama31EosIds = [128001, 128008, 128009];

    private static ModelConfig Load(string name) => ModelConfigReader.Load(TestPaths.TestData("ModelConfigs", name));

    [TestMethod]
    public void Llama2_7b()
    {
        ModelConfig config = Load("llama2-7b.json");

        Assert.AreEqual("llama", config.ModelType);
        Assert.AreEqual("LlamaForCausalLM", config.Architectures[0]);
        Assert.AreEqual(4096, config.HiddenSize);
        Assert.AreEqual(11008, config.IntermediateSize);
        Assert.AreEqual(32, config.NumHiddenLayers);
        Assert.AreEqual(32, config.NumAttentionHeads);
        Assert.AreEqual(32, config.NumKeyValueHeads);
        Assert.AreEqual(128, config.HeadDim);
        Assert.AreEqual(32000, config.VocabSize);
        Assert.AreEqual(10000.0, config.RopeTheta);
        Assert.IsNull(config.RopeScaling);
        Assert.AreEqual(4096, config.MaxPositionEmbeddings);
        Assert.AreEqual(1e-5, config.RmsNormEps);
        Assert.IsFalse(config.TieWordEmbeddings);
        Assert.IsFalse(config.QkvBias);
        Assert.IsFalse(config.OutputProjectionBias);
        Assert.AreEqual(1, config.BosTokenId);
        Assert.AreEqual(2, config.EosTokenIds.Single());
        Assert.AreEqual("float16", config.TorchDtype);
        Assert.IsNull(config.SlidingWindow);
        Assert.AreEqual("silu", config.HiddenAct);
    }

    [TestMethod]
    public void Llama31_has_grouped_query_attention_several_eos_ids_and_llama3_rope_scaling()
    {
        ModelConfig config = Load("llama3.1-8b.json");

        Assert.AreEqual(8, config.NumKeyValueHeads);
        Assert.AreEqual(4, config.QueriesPerKeyValueHead);
        CollectionAssert.AreEqual(Llama31EosIds, config.EosTokenIds.ToArray());
        Assert.AreEqual(500000.0, config.RopeTheta);
        Assert.AreEqual(new RopeScaling(RopeScaling.Llama3, 8.0) { LowFreqFactor = 1.0, HighFreqFactor = 4.0, OriginalMaxPositionEmbeddings = 8192 }, config.RopeScaling);
        Assert.AreEqual("bfloat16", config.TorchDtype);
        Assert.AreEqual(128256, config.VocabSize);
    }

    [TestMethod]
    public void Transformers5_rope_parameters_and_dtype_are_read()
    {
        ModelConfig config = Load("llama3.2-1b-transformers5.json");

        Assert.AreEqual(500000.0, config.RopeTheta);
        Assert.AreEqual(RopeScaling.Llama3, config.RopeScaling!.Type);
        Assert.AreEqual(32.0, config.RopeScaling.Factor);
        Assert.AreEqual(64, config.HeadDim);
        Assert.IsTrue(config.TieWordEmbeddings);
        Assert.AreEqual("bfloat16", config.TorchDtype);
        Assert.AreEqual(128001, config.EosTokenIds.Single());
    }

    [TestMethod]
    public void Linear_and_dynamic_scalings_are_stored_and_attention_bias_applies_to_all_projections()
    {
        Assert.AreEqual(new RopeScaling(RopeScaling.Linear, 4.0), Load("llama-linear-scaling.json").RopeScaling);

        ModelConfig dynamic = Load("llama-dynamic-scaling.json");
        Assert.AreEqual(new RopeScaling(RopeScaling.Dynamic, 2.0), dynamic.RopeScaling);
        Assert.AreEqual(8, dynamic.NumKeyValueHeads, "num_key_value_heads defaults to the query heads");
        Assert.IsTrue(dynamic.QkvBias);
        Assert.IsTrue(dynamic.OutputProjectionBias);
        Assert.IsEmpty(dynamic.EosTokenIds);
        Assert.IsNull(dynamic.BosTokenId);
    }

    [TestMethod]
    public void Mistral_uses_its_sliding_window_and_an_explicit_head_dim_wins()
    {
        ModelConfig mistral = Load("mistral-7b-v0.1.json");
        Assert.AreEqual("mistral", mistral.ModelType);
        Assert.AreEqual(4096, mistral.SlidingWindow);
        Assert.AreEqual(128, mistral.HeadDim);

        ModelConfig nemo = Load("mistral-nemo.json");
        Assert.AreEqual(128, nemo.HeadDim, "5120 / 32 would be 160; head_dim says 128");
        Assert.IsNull(nemo.SlidingWindow);
        Assert.AreEqual(1_000_000.0, nemo.RopeTheta);
    }

    [TestMethod]
    public void Qwen2_has_qkv_biases_and_no_sliding_window_unless_enabled()
    {
        ModelConfig qwen = Load("qwen2-7b.json");
        Assert.AreEqual("qwen2", qwen.ModelType);
        Assert.IsTrue(qwen.QkvBias);
        Assert.IsFalse(qwen.OutputProjectionBias);
        Assert.IsNull(qwen.SlidingWindow, "use_sliding_window is false");
        Assert.AreEqual(28, qwen.MaxWindowLayers);
        Assert.AreEqual(1e-6, qwen.RmsNormEps);
        Assert.AreEqual(28, qwen.NumAttentionHeads);
        Assert.AreEqual(4, qwen.NumKeyValueHeads);
        Assert.AreEqual(128, qwen.HeadDim);

        ModelConfig small = Load("qwen2-0.5b.json");
        Assert.IsTrue(small.TieWordEmbeddings);
        Assert.AreEqual(64, small.HeadDim);

        ModelConfig withWindow = ModelConfigReader.Parse(File.ReadAllText(TestPaths.TestData("ModelConfigs", "qwen2-7b.json"))
            .Replace("\"use_sliding_window\": false", "\"use_sliding_window\": true", StringComparison.Ordinal));
        Assert.AreEqual(131072, withWindow.SlidingWindow);
    }

    [TestMethod]
    public void A_directory_path_reads_its_config_json()
    {
        string directory = Path.Combine(Path.GetTempPath(), "fp6-config-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            File.Copy(TestPaths.TestData("ModelConfigs", "qwen2-0.5b.json"), Path.Combine(directory, "config.json"));
            Assert.AreEqual(896, ModelConfigReader.Load(directory).HiddenSize);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void Model_type_is_inferred_from_the_architecture_and_integral_floats_are_accepted()
    {
        ModelConfig config = ModelConfigReader.Parse(
            """{"architectures":["MistralForCausalLM"],"hidden_size":256.0,"intermediate_size":512,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"rope_scaling":{"rope_type":"default"}}""");

        Assert.AreEqual("mistral", config.ModelType);
        Assert.AreEqual(256, config.HiddenSize);
        Assert.AreEqual(64, config.HeadDim);
        Assert.IsNull(config.RopeScaling, "\"default\" means no scaling");
    }

    [TestMethod]
    [DataRow("""{"model_type":"gemma","hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":1,"vocab_size":8}""", "model_type 'gemma' is not supported")]
    [DataRow("""{"model_type":"llama","intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":1,"vocab_size":8}""", "'hidden_size' is missing")]
    [DataRow("""{"model_type":"llama","hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":6,"num_key_value_heads":4,"vocab_size":8}""", "multiple of num_key_value_heads")]
    [DataRow("""{"model_type":"llama","hidden_size":10,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,"vocab_size":8}""", "not divisible")]
    [DataRow("""{"model_type":"llama","hidden_size":"big","intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":1,"vocab_size":8}""", "'hidden_size' must be an integer")]
    [DataRow("""{"model_type":"llama","hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":1,"vocab_size":8,"rope_scaling":{"type":"linear"}}""", "has no 'factor'")]
    [DataRow("""{"model_type": """, "malformed JSON")]
    [DataRow("""{"hidden_size":8}""", "no model_type")]
    public void Invalid_configs_fail_with_the_file_and_the_reason(string json, string reason)
    {
        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => ModelConfigReader.Parse(json, "some/config.json"));

        StringAssert.Contains(error.Message, "some/config.json");
        StringAssert.Contains(error.Message, reason);
    }
}

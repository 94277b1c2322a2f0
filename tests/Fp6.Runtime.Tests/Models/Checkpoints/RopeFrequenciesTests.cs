using System.Text.Json;
using Fp6.Runtime.Models.Checkpoints;

namespace Fp6.Runtime.Tests.Models.Checkpoints;

/// <summary>
/// RoPE inverse frequencies against transformers 5.17's rotary embedding modules, which computed them from the same
/// config.json files on the GPU machine (ModelConfigs/rope-expected.json).
/// </summary>
[TestClass]
public sealed class RopeFrequenciesTests
{
    private static readonly Lazy<JsonElement> Expected = new(() =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.TestData("ModelConfigs", "rope-expected.json"))).RootElement.GetProperty("configs").Clone());

    [TestMethod]
    [DataRow("llama2-7b.json")]
    [DataRow("llama3.1-8b.json")]
    [DataRow("llama3.2-1b-transformers5.json")]
    [DataRow("llama-linear-scaling.json")]
    [DataRow("llama-dynamic-scaling.json")]
    [DataRow("mistral-7b-v0.1.json")]
    [DataRow("mistral-nemo.json")]
    [DataRow("qwen2-7b.json")]
    [DataRow("qwen2-0.5b.json")]
    public void Inverse_frequencies_match_transformers(string configFile)
    {
        ModelConfig config = ModelConfigReader.Load(TestPaths.TestData("ModelConfigs", configFile));
        JsonElement expected = Expected.Value.GetProperty(configFile);

        AssertClose(Floats(expected.GetProperty("inv_freq")), config.ComputeRopeInverseFrequencies(), configFile);
        if (expected.TryGetProperty("after_sequence_length", out JsonElement length))
        {
            // Dynamic NTK scaling: past the trained length the base grows.
            AssertClose(Floats(expected.GetProperty("inv_freq_after_long_sequence")), config.ComputeRopeInverseFrequencies(length.GetInt32()), configFile + " (long)");
        }
    }

    [TestMethod]
    public void Llama3_scaling_keeps_high_frequencies_and_divides_low_ones()
    {
        ModelConfig config = ModelConfigReader.Load(TestPaths.TestData("ModelConfigs", "llama3.1-8b.json"));
        float[] plain = RopeFrequencies.Compute(config.HeadDim, config.RopeTheta, null, config.MaxPositionEmbeddings);
        float[] scaled = config.ComputeRopeInverseFrequencies();

        Assert.AreEqual(plain[0], scaled[0], "the highest frequency is untouched");
        Assert.AreEqual(plain[^1] / 8, scaled[^1], plain[^1] * 1e-6f, "the lowest is divided by the factor");
    }

    [TestMethod]
    public void Unknown_scaling_types_are_stored_but_not_computed()
    {
        ModelConfig config = ModelConfigReader.Parse(
            """{"model_type":"qwen2","hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":1,"vocab_size":8,"rope_scaling":{"type":"yarn","factor":4.0,"original_max_position_embeddings":32768}}""");

        Assert.AreEqual("yarn", config.RopeScaling!.Type);
        Assert.AreEqual(32768, config.RopeScaling.OriginalMaxPositionEmbeddings);
        var error = Assert.ThrowsExactly<NotSupportedException>(() => config.ComputeRopeInverseFrequencies());
        StringAssert.Contains(error.Message, "yarn");
    }

    [TestMethod]
    public void Odd_rotary_dimensions_are_rejected() =>
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => RopeFrequencies.Compute(63, 10000, null, 2048));

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    private static void AssertClose(float[] expected, float[] actual, string label)
    {
        Assert.HasCount(expected.Length, actual, label);
        for (int i = 0; i < expected.Length; i++)
        {
            // transformers computes in float32; we compute in double and round once, so a few ulps apart at most.
            Assert.AreEqual(expected[i], actual[i], Math.Abs(expected[i]) * 2e-6f, $"{label}: inv_freq[{i}]");
        }
    }
}

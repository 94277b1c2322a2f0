using System.Security.Cryptography;
using System.Text.Json;
using Fp6.Runtime.Evaluation;
using Fp6.Runtime.Models.Tokenization;
using Fp6.Runtime.Tests.Support;

namespace Fp6.Runtime.Tests.Quality;

/// <summary>
/// The embedded model on the held-out quality set: the C# CPU path must reproduce the perplexity PyTorch measured
/// (tests/data/quality/pytorch_perplexity.json) and FP6 is measured against it. These run the whole 86 k-token slice.
/// </summary>
[TestClass]
[TestCategory("Quality")]
public sealed class EmbeddedModelQualityTests
{
    private const int Context = 1024;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void The_tokenizer_encodes_the_held_out_text_exactly_as_the_tokenizers_library()
    {
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(RepositoryPaths.Quality("heldout.tokens.json")));
        Tokenizer tokenizer = Tokenizer.FromDirectory(RepositoryPaths.EmbeddedModel);
        int[] ids = tokenizer.Encode(File.ReadAllText(RepositoryPaths.Quality("heldout.txt")), addSpecialTokens: false, parseSpecialTokens: false);

        Assert.AreEqual(expected.RootElement.GetProperty("count").GetInt32(), ids.Length);
        int[] first = [.. expected.RootElement.GetProperty("first_1024_ids").EnumerateArray().Select(e => e.GetInt32())];
        CollectionAssert.AreEqual(first, ids[..first.Length]);
        byte[] asUInt16 = ids.SelectMany(id => BitConverter.GetBytes((ushort)id)).ToArray();
        Assert.AreEqual(expected.RootElement.GetProperty("sha256_of_ids_as_uint16_le").GetString(), Convert.ToHexString(SHA256.HashData(asUInt16)).ToLowerInvariant());
    }

    [TestMethod]
    public void The_cpu_path_reproduces_the_pytorch_perplexity_and_fp6_stays_close()
    {
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(RepositoryPaths.Quality("pytorch_perplexity.json")));
        JsonElement pytorch = reference.RootElement.GetProperty("pytorch").GetProperty("exported_fp16_weights");
        double pytorchPerplexity = pytorch.GetProperty("perplexity").GetDouble();
        string text = File.ReadAllText(RepositoryPaths.Quality("heldout.txt"));

        PerplexityResult unquantized = CheckpointPerplexity.Evaluate(RepositoryPaths.EmbeddedModel, text, Context, fp6: false);
        PerplexityResult fp6 = CheckpointPerplexity.Evaluate(RepositoryPaths.EmbeddedModel, text, Context, fp6: true);
        TestContext.WriteLine($"held-out perplexity over {unquantized.PredictedTokens} tokens: PyTorch {pytorchPerplexity:F4}, C# CPU float32 {unquantized.Perplexity:F4} ({(unquantized.Perplexity / pytorchPerplexity) - 1:+0.000%;-0.000%}), C# CPU FP6 {fp6.Perplexity:F4} ({(fp6.Perplexity / unquantized.Perplexity) - 1:+0.00%;-0.00%} vs float32)");

        Assert.AreEqual(pytorch.GetProperty("tokens").GetInt64(), unquantized.PredictedTokens, "the same tokens are scored");
        Assert.AreEqual(pytorchPerplexity, unquantized.Perplexity, 0.01 * pytorchPerplexity, "within 1% of PyTorch");
        // FP6 (per-row e3m2) costs this model well under 5% perplexity.
        Assert.IsLessThan(1.05 * unquantized.Perplexity, fp6.Perplexity);
        Assert.AreNotEqual(unquantized.Perplexity, fp6.Perplexity, "the FP6 run really is quantized");
    }
}

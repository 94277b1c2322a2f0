using System.Diagnostics;
using Fp6.Runtime.Models.Tokenization;

namespace Fp6.Runtime.Tests.Models.Tokenization;

/// <summary>
/// Encoding speed on 190 KB of English prose (the text the reference measurement used: Hugging Face tokenizers 0.23.2
/// took 59 ms for Llama 2 and 45 ms for GPT-2 on the GPU machine). The bound is loose, for slow CI machines; the
/// measured figure is written to the test output.
/// </summary>
[TestClass]
public sealed class TokenizerSpeedTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("llama2")]
    [DataRow("gpt2")]
    [DataRow("llama3-style")]
    public void Encodes_prose_at_a_useful_speed(string variant)
    {
        Tokenizer tokenizer = TokenizerFixtures.Load(variant);
        string prose = TokenizerFixtures.Cases(variant).Select(c => c.Text).Single(t => t.StartsWith("It is a truth", StringComparison.Ordinal));
        string text = string.Concat(Enumerable.Repeat(prose + "\n", 400));

        var cold = Stopwatch.StartNew();
        int tokenCount = tokenizer.Encode(text, addSpecialTokens: false).Length;
        cold.Stop();
        var warm = Stopwatch.StartNew();
        const int repeats = 3;
        for (int i = 0; i < repeats; i++)
        {
            tokenizer.Encode(text, addSpecialTokens: false);
        }
        warm.Stop();

        double warmMs = warm.Elapsed.TotalMilliseconds / repeats;
        double megabytesPerSecond = text.Length / 1e6 / (warmMs / 1000);
        TestContext.WriteLine($"{variant}: {text.Length} chars -> {tokenCount} tokens; first {cold.Elapsed.TotalMilliseconds:F1} ms, then {warmMs:F1} ms ({megabytesPerSecond:F2} M chars/s, {tokenCount / (warmMs / 1000) / 1e6:F2} M tokens/s)");
        Assert.IsGreaterThan(0.3, megabytesPerSecond, "encoding slower than 0.3 M chars/s");
    }
}

using Fp6.Runtime.Models.Tokenization;

namespace Fp6.Runtime.Tests.Models.Tokenization;

/// <summary>
/// Every tokenizer variant against Hugging Face tokenizers 0.23.2 on about 300 varied strings: ids with and without
/// special tokens, special-token text encoded as plain text, and decoding with and without special tokens.
/// </summary>
[TestClass]
public sealed class TokenizerParityTests
{
    [TestMethod]
    [DataRow("llama2")]
    [DataRow("llama2-added")]
    [DataRow("llama2-metaspace-split")]
    [DataRow("mistral-style")]
    [DataRow("metaspace-always")]
    [DataRow("gpt2")]
    [DataRow("llama3-style")]
    [DataRow("qwen2-style")]
    [DataRow("cl100k-possessive")]
    [DataRow("o200k-style")]
    public void Encode_and_decode_match_the_reference(string variant)
    {
        Tokenizer tokenizer = TokenizerFixtures.Load(variant);
        var failures = new List<string>();
        IReadOnlyList<TokenizerFixtures.Case> cases = TokenizerFixtures.Cases(variant);
        foreach (TokenizerFixtures.Case c in cases)
        {
            Check(failures, c, "ids", c.Ids, tokenizer.Encode(c.Text, addSpecialTokens: true));
            Check(failures, c, "ids without special tokens", c.IdsNoSpecial, tokenizer.Encode(c.Text, addSpecialTokens: false));
            if (c.IdsSpecialAsText is not null)
            {
                Check(failures, c, "special tokens as text", c.IdsSpecialAsText, tokenizer.Encode(c.Text, addSpecialTokens: false, parseSpecialTokens: false));
            }
            string decoded = tokenizer.Decode(c.Ids);
            if (decoded != c.Decoded)
            {
                failures.Add($"{TokenizerFixtures.Show(c.Text)} decode: expected {TokenizerFixtures.Show(c.Decoded)} got {TokenizerFixtures.Show(decoded)}");
            }
            string decodedSkip = tokenizer.Decode(c.Ids, skipSpecialTokens: true);
            if (decodedSkip != c.DecodedSkipSpecial)
            {
                failures.Add($"{TokenizerFixtures.Show(c.Text)} decode skipping special: expected {TokenizerFixtures.Show(c.DecodedSkipSpecial)} got {TokenizerFixtures.Show(decodedSkip)}");
            }
        }
        Assert.IsGreaterThan(250, cases.Count, "the fixture should hold a few hundred strings");
        Assert.IsEmpty(failures, $"{failures.Count} mismatches of {cases.Count} cases:\n" + string.Join("\n", failures.Take(15)));
    }

    [TestMethod]
    [DataRow("llama2")]
    [DataRow("mistral-style")]
    [DataRow("llama2-metaspace-split")]
    [DataRow("metaspace-always")]
    [DataRow("gpt2")]
    [DataRow("qwen2-style")]
    public void Broken_byte_sequences_decode_like_the_reference(string variant)
    {
        Tokenizer tokenizer = TokenizerFixtures.Load(variant);
        IReadOnlyList<TokenizerFixtures.DecodeCase> cases = TokenizerFixtures.DecodeCases(variant);
        Assert.IsGreaterThan(5, cases.Count);
        foreach (TokenizerFixtures.DecodeCase c in cases)
        {
            Assert.AreEqual(c.Decoded, tokenizer.Decode(c.Ids), $"ids [{string.Join(", ", c.Ids)}]");
        }
    }

    private static void Check(List<string> failures, TokenizerFixtures.Case c, string what, int[] expected, int[] actual)
    {
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            failures.Add($"{TokenizerFixtures.Show(c.Text)} {what}: expected [{string.Join(",", expected)}] got [{string.Join(",", actual)}]");
        }
    }
}

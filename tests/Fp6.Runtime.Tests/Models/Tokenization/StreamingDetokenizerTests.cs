using Fp6.Runtime.Models.Tokenization;

namespace Fp6.Runtime.Tests.Models.Tokenization;

/// <summary>Incremental decoding: the pieces add up to the full decode, and no piece ever holds half a character.</summary>
[TestClass]
public sealed class StreamingDetokenizerTests
{
    private static readonly string[] CjkPieces = ["", "\u4F60", "", "\u597D", "", "", "\uFF0C", "", "\u4E16", "", "\u754C"];
    private static readonly string[] ByteFallbackCandidates = ["\U0001F999", "\U00013000", "\uA66E", "\U0001FAE0", "\u2E3B"];

    [TestMethod]
    [DataRow("llama2", false)]
    [DataRow("llama2", true)]
    [DataRow("mistral-style", false)]
    [DataRow("gpt2", false)]
    [DataRow("qwen2-style", true)]
    [DataRow("llama3-style", false)]
    public void Streamed_pieces_concatenate_to_the_full_decode_of_every_fixture(string variant, bool skipSpecialTokens)
    {
        Tokenizer tokenizer = TokenizerFixtures.Load(variant);
        foreach (TokenizerFixtures.Case c in TokenizerFixtures.Cases(variant))
        {
            StreamingDetokenizer stream = tokenizer.CreateStreamingDetokenizer(skipSpecialTokens);
            var pieces = c.Ids.Select(stream.Append).ToList();
            pieces.Add(stream.Flush());
            string full = tokenizer.Decode(c.Ids, skipSpecialTokens);

            Assert.AreEqual(full, string.Concat(pieces), $"{TokenizerFixtures.Show(c.Text)} streamed");
            if (!full.Contains('\uFFFD', StringComparison.Ordinal))
            {
                Assert.IsFalse(pieces.Any(p => p.Contains('\uFFFD', StringComparison.Ordinal)), $"{TokenizerFixtures.Show(c.Text)}: a piece held a replacement character");
            }
        }
    }

    [TestMethod]
    public void An_emoji_split_over_byte_level_tokens_arrives_whole()
    {
        Tokenizer gpt2 = TokenizerFixtures.Gpt2();
        int[] ids = gpt2.Encode("\U0001F600 ok", addSpecialTokens: false);
        Assert.AreEqual("\u00F0\u0141\u013A", gpt2.IdToToken(ids[0]), "the first token holds three of the emoji's four bytes");

        StreamingDetokenizer stream = gpt2.CreateStreamingDetokenizer();
        Assert.AreEqual("", stream.Append(ids[0]));
        Assert.AreEqual("\U0001F600", stream.Append(ids[1]));
        Assert.AreEqual(" ok", stream.Append(ids[2]));
        Assert.AreEqual("", stream.Flush());
    }

    [TestMethod]
    public void Cjk_characters_split_over_byte_level_tokens_arrive_whole()
    {
        Tokenizer gpt2 = TokenizerFixtures.Gpt2();
        int[] ids = gpt2.Encode("\u4F60\u597D\uFF0C\u4E16\u754C", addSpecialTokens: false);
        StreamingDetokenizer stream = gpt2.CreateStreamingDetokenizer();

        var pieces = ids.Select(stream.Append).ToList();

        CollectionAssert.AreEqual(CjkPieces, pieces);
    }

    [TestMethod]
    public void A_character_spelled_in_sentencepiece_byte_tokens_arrives_whole()
    {
        Tokenizer llama = TokenizerFixtures.Llama2();
        // Find a character this vocabulary spells with <0xNN> byte tokens.
        (string text, int[] ids) = ByteFallbackCandidates
            .Select(t => (t, llama.Encode(t, addSpecialTokens: false).Where(id => llama.IdToToken(id)!.StartsWith("<0x", StringComparison.Ordinal)).ToArray()))
            .First(candidate => candidate.Item2.Length >= 3);

        StreamingDetokenizer stream = llama.CreateStreamingDetokenizer();
        var pieces = ids.Select(stream.Append).ToList();

        Assert.IsTrue(pieces.Take(ids.Length - 1).All(p => p.Length == 0), "nothing before the last byte");
        Assert.AreEqual(text, pieces[^1]);
    }

    [TestMethod]
    public void Flush_releases_an_incomplete_character_as_the_full_decode_would()
    {
        Tokenizer llama = TokenizerFixtures.Llama2();
        int e4 = llama.TokenToId("<0xE4>")!.Value;
        int b8 = llama.TokenToId("<0xB8>")!.Value;
        StreamingDetokenizer stream = llama.CreateStreamingDetokenizer();

        Assert.AreEqual("", stream.Append(e4));
        Assert.AreEqual("", stream.Append(b8));
        Assert.AreEqual(llama.Decode([e4, b8]), stream.Flush());
        Assert.AreEqual("\uFFFD\uFFFD", llama.Decode([e4, b8]), "byte fallback: one replacement per byte");
    }

    [TestMethod]
    public void Invalid_bytes_are_not_held_forever()
    {
        Tokenizer llama = TokenizerFixtures.Llama2();
        int ff = llama.TokenToId("<0xFF>")!.Value;
        StreamingDetokenizer stream = llama.CreateStreamingDetokenizer();

        var pieces = Enumerable.Range(0, 4).Select(_ => stream.Append(ff)).ToList();

        Assert.AreEqual("\uFFFD\uFFFD\uFFFD\uFFFD", pieces[3], "four bad bytes cannot be the start of one character, so they are released");
        Assert.IsTrue(pieces.Take(3).All(p => p.Length == 0));
    }

    [TestMethod]
    public void Leading_space_handling_matches_full_decode_and_reset_starts_over()
    {
        Tokenizer llama = TokenizerFixtures.Llama2();
        int[] ids = llama.Encode("Hello world, again", addSpecialTokens: true);
        StreamingDetokenizer stream = llama.CreateStreamingDetokenizer(skipSpecialTokens: true);

        string first = string.Concat(ids.Select(stream.Append));
        stream.Reset();
        string second = string.Concat(ids.Select(stream.Append));

        Assert.AreEqual("Hello world, again", first);
        Assert.AreEqual(first, second);
        Assert.HasCount(ids.Length, stream.Ids);
    }
}

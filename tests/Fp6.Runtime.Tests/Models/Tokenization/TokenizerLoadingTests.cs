using System.Text.Json.Nodes;
using Fp6.Runtime.Models.Tokenization;

namespace Fp6.Runtime.Tests.Models.Tokenization;

/// <summary>Loading tokenizers: special-token metadata, tokenizer_config.json overrides, file layouts and clear errors.</summary>
[TestClass]
public sealed class TokenizerLoadingTests
{
    private static readonly int[] FusedUnknown = [2, 3, 0];
    private static readonly int[] SeparateUnknowns = [2, 3, 3, 0];

    private const string TinyVocabulary = """{"a":0,"b":1,"ab":2,"<unk>":3}""";

    [TestMethod]
    public void Llama2_special_tokens_come_from_the_files()
    {
        Tokenizer llama = TokenizerFixtures.Llama2();

        Assert.AreEqual(32000, llama.VocabSize);
        Assert.AreEqual("<s>", llama.BosToken);
        Assert.AreEqual(1, llama.BosTokenId);
        Assert.AreEqual(2, llama.EosTokenId);
        Assert.AreEqual(1, llama.PrefixTokenIds.Single());
        Assert.IsEmpty(llama.SuffixTokenIds);
        Assert.IsTrue(llama.IsSpecialToken(1));
        Assert.IsFalse(llama.IsSpecialToken(100));
        Assert.AreEqual("<0x0A>", llama.IdToToken(llama.TokenToId("<0x0A>")!.Value));
        Assert.IsNull(llama.IdToToken(-1));
        Assert.IsNull(llama.TokenToId("no such token"));
    }

    [TestMethod]
    public void Gpt2_from_its_original_files_uses_endoftext()
    {
        Tokenizer gpt2 = TokenizerFixtures.Gpt2();

        Assert.AreEqual(50257, gpt2.VocabSize);
        Assert.AreEqual("<|endoftext|>", gpt2.EosToken);
        Assert.AreEqual(50256, gpt2.EosTokenId);
        Assert.IsEmpty(gpt2.PrefixTokenIds);
        Assert.AreEqual("Hello world", gpt2.Decode(gpt2.Encode("Hello world")));
    }

    [TestMethod]
    public void Add_bos_and_add_eos_in_tokenizer_config_override_the_template()
    {
        string json = File.ReadAllText(TestPaths.Fixture("llama2", "tokenizer.json"));
        var config = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("llama2", "tokenizer_config.json")))!.AsObject();
        config["add_bos_token"] = false;
        config["add_eos_token"] = true;

        Tokenizer tokenizer = Tokenizer.FromJson(json, config.ToJsonString());
        int[] ids = tokenizer.Encode("Hi");

        Assert.AreNotEqual(1, ids[0], "no BOS");
        Assert.AreEqual(2, ids[^1], "EOS appended");
        CollectionAssert.AreEqual(tokenizer.Encode("Hi", addSpecialTokens: false), ids[..^1]);
    }

    [TestMethod]
    public void A_folder_with_vocab_json_and_merges_txt_loads_as_gpt2()
    {
        string directory = Path.Combine(Path.GetTempPath(), "fp6-tokenizer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            File.Copy(TestPaths.Fixture("gpt2", "encoder.json"), Path.Combine(directory, "vocab.json"));
            File.Copy(TestPaths.Fixture("gpt2", "vocab.bpe"), Path.Combine(directory, "merges.txt"));

            Tokenizer tokenizer = Tokenizer.FromDirectory(directory);

            const string text = "Tokenizers split text into pieces, don't they?";
            CollectionAssert.AreEqual(TokenizerFixtures.Gpt2().Encode(text), tokenizer.Encode(text));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void A_folder_with_tokenizer_json_uses_its_config_too()
    {
        string directory = Path.Combine(Path.GetTempPath(), "fp6-tokenizer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            File.Copy(TestPaths.Fixture("llama2", "tokenizer.json"), Path.Combine(directory, "tokenizer.json"));
            File.Copy(TestPaths.Fixture("llama2", "tokenizer_config.json"), Path.Combine(directory, "tokenizer_config.json"));

            Tokenizer tokenizer = Tokenizer.FromDirectory(directory);

            Assert.AreEqual(2, tokenizer.EosTokenId);
            Assert.AreEqual(1, tokenizer.Encode("x")[0]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void Unknown_characters_become_unk_and_runs_fuse_when_asked()
    {
        string Json(bool fuse) => "{\"model\":{\"type\":\"BPE\",\"vocab\":" + TinyVocabulary
            + ",\"merges\":[\"a b\"],\"unk_token\":\"<unk>\",\"fuse_unk\":" + (fuse ? "true" : "false") + "}}";

        CollectionAssert.AreEqual(FusedUnknown, Tokenizer.FromJson(Json(fuse: true)).Encode("abxya"));
        CollectionAssert.AreEqual(SeparateUnknowns, Tokenizer.FromJson(Json(fuse: false)).Encode("abxya"));
        Assert.AreEqual("ab <unk> a", Tokenizer.FromJson(Json(fuse: true)).Decode([2, 3, 0]), "without a decoder, tokens are joined with spaces");
    }

    [TestMethod]
    [DataRow("""{"model":{"type":"WordPiece","vocab":{}}}""", "model type 'WordPiece' is not supported")]
    [DataRow("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"BertPreTokenizer"}}""", "pre_tokenizer type 'BertPreTokenizer' is not supported")]
    [DataRow("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"normalizer":{"type":"BertNormalizer"}}""", "normalizer type 'BertNormalizer' is not supported")]
    [DataRow("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"decoder":{"type":"CTC"}}""", "decoder type 'CTC' is not supported")]
    [DataRow("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"post_processor":{"type":"Weird"}}""", "post_processor type 'Weird' is not supported")]
    [DataRow("""{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"]}}""", "merge 0 'a b'")]
    [DataRow("""{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b c"]}}""", "merge 0 must be")]
    [DataRow("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[],"unk_token":"<unk>"}}""", "unk_token '<unk>' is not in the vocabulary")]
    [DataRow("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[],"continuing_subword_prefix":"##"}}""", "continuing_subword_prefix")]
    [DataRow("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[],"dropout":0.1}}""", "dropout")]
    [DataRow("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(a"},"behavior":"Isolated"}}""", "cannot be used")]
    [DataRow("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"a"},"behavior":"Sideways"}}""", "Split behavior type 'Sideways'")]
    [DataRow("""{"model":""", "malformed JSON")]
    [DataRow("""{"normalizer":null}""", "missing 'model'")]
    public void Unsupported_or_broken_files_are_rejected_by_name(string json, string reason)
    {
        var error = Assert.ThrowsExactly<TokenizerFormatException>(() => Tokenizer.FromJson(json));

        StringAssert.Contains(error.Message, reason);
        StringAssert.StartsWith(error.Message, "tokenizer.json: ");
    }

    [TestMethod]
    public void Concurrent_encoding_gives_the_same_ids_as_sequential()
    {
        Tokenizer tokenizer = TokenizerFixtures.Load("qwen2-style");
        IReadOnlyList<TokenizerFixtures.Case> cases = TokenizerFixtures.Cases("qwen2-style");
        var results = new int[cases.Count][];

        Parallel.For(0, cases.Count * 4, i => results[i % cases.Count] = tokenizer.Encode(cases[i % cases.Count].Text));

        for (int i = 0; i < cases.Count; i++)
        {
            CollectionAssert.AreEqual(cases[i].Ids, results[i], TokenizerFixtures.Show(cases[i].Text));
        }
    }
}

using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fp6.Runtime.Models.Tokenization;

namespace Fp6.Runtime.Tests.Models.Tokenization;

/// <summary>
/// The reference data of tools/tokenizer-fixtures/make_fixtures.py (Hugging Face tokenizers 0.23.2) and the tokenizers
/// it describes. Variants are tokenizer.json files without vocabulary and merges; those come from the npm fixtures
/// (the Llama 2 tokenizer.json, or GPT-2's encoder.json + vocab.bpe), so no large vocabulary is committed.
/// </summary>
internal static class TokenizerFixtures
{
    private static readonly Lazy<JsonObject> Expected = new(() =>
        JsonNode.Parse(File.ReadAllText(TestPaths.TestData("Tokenizers", "tokenizer-expected.json")))!.AsObject());

    private static readonly ConcurrentDictionary<string, Tokenizer> Cache = new();

    /// <summary>One reference case: the text and what the reference tokenizer made of it.</summary>
    internal sealed record Case(string Text, int[] Ids, int[] IdsNoSpecial, string Decoded, string DecodedSkipSpecial, int[]? IdsSpecialAsText);

    /// <summary>A decode-only case (byte tokens cut inside UTF-8 characters).</summary>
    internal sealed record DecodeCase(int[] Ids, string Decoded);

    public static IEnumerable<string> VariantNames => Variants().Select(v => v["name"]!.GetValue<string>());

    public static IReadOnlyList<Case> Cases(string variant) =>
        Variant(variant)["cases"]!.AsArray().Select(c => new Case(
            c!["text"]!.GetValue<string>(),
            Ints(c["ids"]!),
            Ints(c["ids_no_special"]!),
            c["decoded"]!.GetValue<string>(),
            c["decoded_skip_special"]!.GetValue<string>(),
            c["ids_special_as_text"] is JsonNode asText ? Ints(asText) : null)).ToArray();

    public static IReadOnlyList<DecodeCase> DecodeCases(string variant) =>
        Variant(variant)["decode_cases"]!.AsArray().Select(c => new DecodeCase(Ints(c!["ids"]!), c["decoded"]!.GetValue<string>())).ToArray();

    /// <summary>The tokenizer of a variant, built the way a user would load it.</summary>
    public static Tokenizer Load(string variant) => Cache.GetOrAdd(variant, Build);

    public static Tokenizer Llama2() => Load("llama2");

    public static Tokenizer Gpt2() => Load("gpt2");

    private static Tokenizer Build(string variant)
    {
        switch (variant)
        {
            case "llama2":
                // The npm package as is: tokenizer.json with its tokenizer_config.json.
                return Tokenizer.FromFile(TestPaths.Fixture("llama2", "tokenizer.json"), TestPaths.Fixture("llama2", "tokenizer_config.json"));
            case "gpt2":
                // GPT-2's original pair of files.
                return Tokenizer.FromGpt2Files(TestPaths.Fixture("gpt2", "encoder.json"), TestPaths.Fixture("gpt2", "vocab.bpe"));
        }

        JsonObject entry = Variant(variant);
        var config = entry["config"]!.DeepClone().AsObject();
        var model = config["model"]!.AsObject();
        if (entry["base"]!.GetValue<string>() == "llama2")
        {
            JsonNode llama = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("llama2", "tokenizer.json")))!;
            model["vocab"] = llama["model"]!["vocab"]!.DeepClone();
            model["merges"] = llama["model"]!["merges"]!.DeepClone();
        }
        else
        {
            model["vocab"] = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("gpt2", "encoder.json")));
            var merges = new JsonArray();
            foreach (string line in File.ReadLines(TestPaths.Fixture("gpt2", "vocab.bpe")))
            {
                if (line.Length > 0 && !line.StartsWith("#version", StringComparison.Ordinal))
                {
                    string[] pair = line.Split(' ');
                    merges.Add(new JsonArray(pair[0], pair[1]));
                }
            }
            model["merges"] = merges;
        }
        return Tokenizer.FromJson(config.ToJsonString());
    }

    private static JsonObject Variant(string name) =>
        Variants().Single(v => v["name"]!.GetValue<string>() == name);

    private static IEnumerable<JsonObject> Variants() => Expected.Value["variants"]!.AsArray().Select(v => v!.AsObject());

    private static int[] Ints(JsonNode node) => node.AsArray().Select(n => n!.GetValue<int>()).ToArray();

    /// <summary>Shows a string with its control and non-ASCII characters visible, for failure messages.</summary>
    public static string Show(string text) => JsonSerializer.Serialize(text);
}

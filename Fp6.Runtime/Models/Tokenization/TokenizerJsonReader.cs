using System.Text;
using System.Text.Json;

namespace Fp6.Runtime.Models.Tokenization;

/// <summary>
/// Builds a <see cref="Tokenizer"/> from tokenizer.json (and tokenizer_config.json), or from GPT-2's original
/// vocab/merges pair. Each component type is read by name; a type this library does not implement is an error that
/// names it, never a silent approximation.
/// </summary>
internal static class TokenizerJsonReader
{
    internal static Tokenizer FromDirectory(string directory)
    {
        string tokenizerJson = Path.Combine(directory, "tokenizer.json");
        string tokenizerConfig = Path.Combine(directory, "tokenizer_config.json");
        if (File.Exists(tokenizerJson))
        {
            return FromFile(tokenizerJson, File.Exists(tokenizerConfig) ? tokenizerConfig : null);
        }
        foreach ((string vocab, string merges) in new[] { ("vocab.json", "merges.txt"), ("encoder.json", "vocab.bpe") })
        {
            if (File.Exists(Path.Combine(directory, vocab)) && File.Exists(Path.Combine(directory, merges)))
            {
                return FromGpt2Files(Path.Combine(directory, vocab), Path.Combine(directory, merges));
            }
        }
        throw new FileNotFoundException($"{directory}: no tokenizer.json, vocab.json + merges.txt, or encoder.json + vocab.bpe", tokenizerJson);
    }

    internal static Tokenizer FromFile(string tokenizerJsonPath, string? tokenizerConfigPath) =>
        FromJson(File.ReadAllText(tokenizerJsonPath), tokenizerConfigPath is null ? null : File.ReadAllText(tokenizerConfigPath), tokenizerJsonPath);

    internal static Tokenizer FromJson(string tokenizerJson, string? tokenizerConfigJson, string source)
    {
        using JsonDocument document = ParseJson(tokenizerJson, source);
        using JsonDocument? config = tokenizerConfigJson is null ? null : ParseJson(tokenizerConfigJson, "tokenizer_config.json");
        JsonElement root = document.RootElement;

        var reader = new ComponentReader(source);
        BpeModel model = reader.Model(Required(root, "model", source));
        INormalizer? normalizer = reader.Normalizer(Optional(root, "normalizer"));
        IPreTokenizer? preTokenizer = reader.PreTokenizer(Optional(root, "pre_tokenizer"));
        IDecoder? decoder = reader.Decoder(Optional(root, "decoder"));
        PostProcessor postProcessor = reader.PostProcessor(Optional(root, "post_processor"));

        var addedTokens = new List<AddedToken>();
        if (Optional(root, "added_tokens") is JsonElement added)
        {
            foreach (JsonElement entry in added.EnumerateArray())
            {
                addedTokens.Add(ReadAddedToken(entry, entry.GetProperty("id").GetInt32(), source));
            }
        }

        string? bosToken = null;
        string? eosToken = null;
        if (config?.RootElement is JsonElement configRoot)
        {
            MergeConfigAddedTokens(configRoot, addedTokens);
            bosToken = TokenName(Optional(configRoot, "bos_token"));
            eosToken = TokenName(Optional(configRoot, "eos_token"));
            postProcessor = ApplyAddBosEos(configRoot, postProcessor, bosToken, eosToken, model, addedTokens);
        }
        else
        {
            // Without a config, a template's first special token is the best guess for BOS (Llama's "<s>").
            bosToken = postProcessor.Prefix.Length > 0 ? IdToContent(postProcessor.Prefix[0], model, addedTokens) : null;
        }

        return new Tokenizer(model, normalizer, preTokenizer, decoder, postProcessor, addedTokens, bosToken, eosToken);
    }

    internal static Tokenizer FromGpt2Files(string vocabJsonPath, string mergesPath)
    {
        Dictionary<string, int> vocabulary;
        try
        {
            vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabJsonPath))
                ?? throw new TokenizerFormatException(vocabJsonPath, "empty vocabulary");
        }
        catch (JsonException ex)
        {
            throw new TokenizerFormatException(vocabJsonPath, $"expected a JSON object of token → id: {ex.Message}", ex);
        }

        var merges = new List<(string, string)>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(mergesPath))
        {
            lineNumber++;
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Length == 0)
            {
                continue;
            }
            string[] parts = line.Split(' ');
            if (parts.Length != 2)
            {
                throw new TokenizerFormatException(mergesPath, $"line {lineNumber} must be two tokens separated by one space: '{line}'");
            }
            merges.Add((parts[0], parts[1]));
        }

        var model = new BpeModel(vocabulary, merges, unknownToken: null, fuseUnknown: false, byteFallback: false, ignoreMerges: false, mergesPath);
        const string endOfText = "<|endoftext|>";
        List<AddedToken> addedTokens = vocabulary.TryGetValue(endOfText, out int endOfTextId)
            ? [new AddedToken(endOfTextId, endOfText, Special: true)]
            : [];
        string? special = addedTokens.Count > 0 ? endOfText : null;
        return new Tokenizer(model, null, new ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true), new ByteLevelDecoder(),
            PostProcessor.None, addedTokens, special, special);
    }

    private static JsonDocument ParseJson(string json, string source)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new TokenizerFormatException(source, $"malformed JSON: {ex.Message}", ex);
        }
    }

    private static AddedToken ReadAddedToken(JsonElement entry, int id, string source)
    {
        string content = Optional(entry, "content")?.GetString() ?? throw new TokenizerFormatException(source, $"added token {id} has no content");
        bool special = Flag(entry, "special", false);
        return new AddedToken(id, content, special,
            LStrip: Flag(entry, "lstrip", false),
            RStrip: Flag(entry, "rstrip", false),
            SingleWord: Flag(entry, "single_word", false),
            // Hugging Face's default: special tokens are matched on raw text, others on normalized text.
            Normalized: Flag(entry, "normalized", !special));
    }

    /// <summary>tokenizer_config.json may declare added tokens tokenizer.json lacks (rare); those are added.</summary>
    private static void MergeConfigAddedTokens(JsonElement config, List<AddedToken> addedTokens)
    {
        if (Optional(config, "added_tokens_decoder") is not JsonElement decoder || decoder.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        var known = addedTokens.Select(t => t.Id).ToHashSet();
        foreach (JsonProperty entry in decoder.EnumerateObject())
        {
            if (int.TryParse(entry.Name, out int id) && !known.Contains(id))
            {
                addedTokens.Add(ReadAddedToken(entry.Value, id, "tokenizer_config.json"));
            }
        }
    }

    /// <summary>
    /// tokenizer_config.json's add_bos_token / add_eos_token, where written, decide whether BOS / EOS are added
    /// (transformers rebuilds the post-processor from them); a flag not written leaves tokenizer.json's choice.
    /// </summary>
    private static PostProcessor ApplyAddBosEos(JsonElement config, PostProcessor processor, string? bos, string? eos, BpeModel model, List<AddedToken> addedTokens)
    {
        int[] prefix = processor.Prefix;
        int[] suffix = processor.Suffix;
        if (Optional(config, "add_bos_token") is JsonElement addBos)
        {
            prefix = addBos.ValueKind == JsonValueKind.True && ContentToId(bos, model, addedTokens) is int bosId ? [bosId] : [];
        }
        if (Optional(config, "add_eos_token") is JsonElement addEos)
        {
            suffix = addEos.ValueKind == JsonValueKind.True && ContentToId(eos, model, addedTokens) is int eosId ? [eosId] : [];
        }
        return new PostProcessor(prefix, suffix);
    }

    private static int? ContentToId(string? content, BpeModel model, List<AddedToken> addedTokens)
    {
        if (content is null)
        {
            return null;
        }
        AddedToken? added = addedTokens.Find(t => t.Content == content);
        return added?.Id ?? (model.Vocabulary.TryGetValue(content, out int id) ? id : null);
    }

    private static string? IdToContent(int id, BpeModel model, List<AddedToken> addedTokens) =>
        addedTokens.Find(t => t.Id == id)?.Content ?? ((uint)id < (uint)model.IdToToken.Length ? model.IdToToken[id] : null);

    /// <summary>A token named in tokenizer_config.json: a string, or an AddedToken object with "content".</summary>
    private static string? TokenName(JsonElement? element) => element switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Object } o when Optional(o, "content") is JsonElement c => c.GetString(),
        _ => null,
    };

    internal static JsonElement? Optional(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : null;

    internal static JsonElement Required(JsonElement parent, string name, string source) =>
        Optional(parent, name) ?? throw new TokenizerFormatException(source, $"missing '{name}'");

    internal static bool Flag(JsonElement parent, string name, bool fallback) =>
        Optional(parent, name) is JsonElement value ? value.ValueKind == JsonValueKind.True : fallback;

    /// <summary>Reads the components of tokenizer.json, each by its "type".</summary>
    private sealed class ComponentReader(string source)
    {
        public BpeModel Model(JsonElement model)
        {
            string type = Optional(model, "type")?.GetString() ?? "BPE";
            if (type != "BPE")
            {
                throw Unsupported("model", type);
            }
            if (Optional(model, "dropout") is JsonElement dropout && dropout.GetDouble() > 0)
            {
                throw new TokenizerFormatException(source, "BPE dropout is not supported (it makes encoding random)");
            }
            foreach (string affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            {
                if (!string.IsNullOrEmpty(Optional(model, affix)?.GetString()))
                {
                    throw new TokenizerFormatException(source, $"BPE '{affix}' is not supported");
                }
            }

            var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (JsonProperty entry in Required(model, "vocab", source).EnumerateObject())
            {
                vocabulary[entry.Name] = entry.Value.GetInt32();
            }

            var merges = new List<(string, string)>();
            if (Optional(model, "merges") is JsonElement mergeList)
            {
                foreach (JsonElement merge in mergeList.EnumerateArray())
                {
                    merges.Add(ReadMerge(merge, merges.Count));
                }
            }

            return new BpeModel(vocabulary, merges,
                unknownToken: Optional(model, "unk_token")?.GetString(),
                fuseUnknown: Flag(model, "fuse_unk", false),
                byteFallback: Flag(model, "byte_fallback", false),
                ignoreMerges: Flag(model, "ignore_merges", false),
                source);
        }

        /// <summary>A merge is "left right" (older files) or ["left", "right"] (newer files, which allow spaces in tokens).</summary>
        private (string, string) ReadMerge(JsonElement merge, int rank)
        {
            if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
            {
                return (merge[0].GetString()!, merge[1].GetString()!);
            }
            if (merge.ValueKind == JsonValueKind.String)
            {
                string[] parts = merge.GetString()!.Split(' ');
                if (parts.Length == 2)
                {
                    return (parts[0], parts[1]);
                }
            }
            throw new TokenizerFormatException(source, $"merge {rank} must be \"left right\" or [left, right]: {merge.GetRawText()}");
        }

        public INormalizer? Normalizer(JsonElement? element)
        {
            if (element is not JsonElement normalizer)
            {
                return null;
            }
            string type = TypeOf(normalizer, "normalizer");
            return type switch
            {
                "Sequence" => new SequenceNormalizer(Required(normalizer, "normalizers", source).EnumerateArray().Select(n => Normalizer(n)!).ToArray()),
                "Prepend" => new PrependNormalizer(Required(normalizer, "prepend", source).GetString()!),
                "Replace" => ReadReplace(normalizer, (literal, regex, content) => new ReplaceNormalizer(literal, regex, content)),
                "NFC" => new UnicodeFormNormalizer(NormalizationForm.FormC),
                "NFD" => new UnicodeFormNormalizer(NormalizationForm.FormD),
                "NFKC" => new UnicodeFormNormalizer(NormalizationForm.FormKC),
                "NFKD" => new UnicodeFormNormalizer(NormalizationForm.FormKD),
                "Lowercase" => new LowercaseNormalizer(),
                "Strip" => new StripNormalizer(Flag(normalizer, "strip_left", true), Flag(normalizer, "strip_right", true)),
                _ => throw Unsupported("normalizer", type),
            };
        }

        public IPreTokenizer? PreTokenizer(JsonElement? element)
        {
            if (element is not JsonElement preTokenizer)
            {
                return null;
            }
            string type = TypeOf(preTokenizer, "pre_tokenizer");
            return type switch
            {
                "Sequence" => new SequencePreTokenizer(Required(preTokenizer, "pretokenizers", source).EnumerateArray().Select(p => PreTokenizer(p)!).ToArray()),
                "ByteLevel" => new ByteLevelPreTokenizer(Flag(preTokenizer, "add_prefix_space", true), Flag(preTokenizer, "use_regex", true)),
                "Split" => ReadSplit(preTokenizer),
                "Metaspace" => new MetaspacePreTokenizer(Replacement(preTokenizer), ReadPrependScheme(preTokenizer), Flag(preTokenizer, "split", true)),
                _ => throw Unsupported("pre_tokenizer", type),
            };
        }

        public IDecoder? Decoder(JsonElement? element)
        {
            if (element is not JsonElement decoder)
            {
                return null;
            }
            string type = TypeOf(decoder, "decoder");
            return type switch
            {
                "Sequence" => new SequenceDecoder(Required(decoder, "decoders", source).EnumerateArray().Select(d => Decoder(d)!).ToArray()),
                "ByteLevel" => new ByteLevelDecoder(),
                "Replace" => ReadReplace(decoder, (literal, regex, content) => new ReplaceDecoder(literal, regex, content)),
                "ByteFallback" => new ByteFallbackDecoder(),
                "Fuse" => new FuseDecoder(),
                "Strip" => new StripDecoder(SingleChar(Required(decoder, "content", source).GetString()!, "Strip decoder content"),
                    Optional(decoder, "start")?.GetInt32() ?? 0, Optional(decoder, "stop")?.GetInt32() ?? 0),
                "Metaspace" => new MetaspaceDecoder(Replacement(decoder), ReadPrependScheme(decoder)),
                _ => throw Unsupported("decoder", type),
            };
        }

        public PostProcessor PostProcessor(JsonElement? element)
        {
            if (element is not JsonElement processor)
            {
                return Tokenization.PostProcessor.None;
            }
            string type = TypeOf(processor, "post_processor");
            switch (type)
            {
                case "ByteLevel":
                    // Only adjusts offsets, which this tokenizer does not report.
                    return Tokenization.PostProcessor.None;
                case "TemplateProcessing":
                    return ReadTemplate(processor);
                case "BertProcessing" or "RobertaProcessing":
                    int cls = Required(processor, "cls", source)[1].GetInt32();
                    int sep = Required(processor, "sep", source)[1].GetInt32();
                    return new PostProcessor([cls], [sep]);
                case "Sequence":
                    PostProcessor combined = Tokenization.PostProcessor.None;
                    foreach (JsonElement step in Required(processor, "processors", source).EnumerateArray())
                    {
                        combined = PostProcessor(step).Wrap(combined);
                    }
                    return combined;
                default:
                    throw Unsupported("post_processor", type);
            }
        }

        /// <summary>The "single" template: special tokens before the sequence "A" go in front, those after it behind.</summary>
        private PostProcessor ReadTemplate(JsonElement processor)
        {
            JsonElement specialTokens = Required(processor, "special_tokens", source);
            var prefix = new List<int>();
            var suffix = new List<int>();
            bool seenSequence = false;
            foreach (JsonElement item in Required(processor, "single", source).EnumerateArray())
            {
                if (Optional(item, "Sequence") is not null)
                {
                    seenSequence = true;
                    continue;
                }
                string name = Required(Required(item, "SpecialToken", source), "id", source).GetString()!;
                JsonElement special = Optional(specialTokens, name)
                    ?? throw new TokenizerFormatException(source, $"TemplateProcessing uses special token '{name}' that special_tokens does not define");
                (seenSequence ? suffix : prefix).AddRange(Required(special, "ids", source).EnumerateArray().Select(id => id.GetInt32()));
            }
            return new PostProcessor(prefix.ToArray(), suffix.ToArray());
        }

        private SplitPreTokenizer ReadSplit(JsonElement split)
        {
            (string? literal, PatternRegex? regex) = ReadPattern(Required(split, "pattern", source));
            string behaviorName = Optional(split, "behavior")?.GetString() ?? "Isolated";
            if (!Enum.TryParse(behaviorName, ignoreCase: false, out SplitBehavior behavior))
            {
                throw Unsupported("Split behavior", behaviorName);
            }
            return new SplitPreTokenizer(regex, literal, behavior, Flag(split, "invert", false));
        }

        private T ReadReplace<T>(JsonElement element, Func<string?, PatternRegex?, string, T> create)
        {
            (string? literal, PatternRegex? regex) = ReadPattern(Required(element, "pattern", source));
            return create(literal, regex, Required(element, "content", source).GetString()!);
        }

        private (string? Literal, PatternRegex? Regex) ReadPattern(JsonElement pattern)
        {
            if (Optional(pattern, "String") is JsonElement literal)
            {
                return (literal.GetString(), null);
            }
            if (Optional(pattern, "Regex") is JsonElement regex)
            {
                try
                {
                    return (null, new PatternRegex(regex.GetString()!));
                }
                catch (ArgumentException ex)
                {
                    throw new TokenizerFormatException(source, $"regex {regex.GetRawText()} cannot be used: {ex.Message}", ex);
                }
            }
            throw new TokenizerFormatException(source, $"pattern must be {{\"String\": …}} or {{\"Regex\": …}}: {pattern.GetRawText()}");
        }

        private char Replacement(JsonElement element) =>
            SingleChar(Optional(element, "replacement")?.GetString() ?? "\u2581", "Metaspace replacement");

        private static PrependScheme ReadPrependScheme(JsonElement element) =>
            Optional(element, "prepend_scheme")?.GetString() switch
            {
                "always" => PrependScheme.Always,
                "first" => PrependScheme.First,
                "never" => PrependScheme.Never,
                // Older files only have add_prefix_space.
                _ => Flag(element, "add_prefix_space", true) ? PrependScheme.Always : PrependScheme.Never,
            };

        private char SingleChar(string value, string what) =>
            value.Length == 1 ? value[0] : throw new TokenizerFormatException(source, $"{what} must be one character, found '{value}'");

        private string TypeOf(JsonElement element, string component) =>
            Optional(element, "type")?.GetString() ?? throw new TokenizerFormatException(source, $"{component} without a 'type'");

        private TokenizerFormatException Unsupported(string component, string type) =>
            new(source, $"{component} type '{type}' is not supported by this tokenizer");
    }
}

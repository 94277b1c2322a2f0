namespace Fp6.Runtime.Models.Tokenization;

/// <summary>
/// A Hugging Face BPE tokenizer (tokenizer.json), byte-level (GPT-2, Llama 3, Qwen 2) or SentencePiece-style with
/// byte fallback (Llama 2, Mistral), producing the same ids as the <c>tokenizers</c> library.
/// Encoding runs Hugging Face's pipeline: added tokens are split out of the raw text, each remaining piece is
/// normalized (then normalized added tokens are split out), pre-tokenized into words, each word is BPE-merged, and
/// the post-processor adds BOS/EOS. Thread-safe: a tokenizer may be shared by concurrent requests.
/// </summary>
public sealed class Tokenizer
{
    private readonly BpeModel _model;
    private readonly INormalizer? _normalizer;
    private readonly IPreTokenizer? _preTokenizer;
    private readonly IDecoder? _decoder;
    private readonly PostProcessor _postProcessor;
    private readonly AddedTokenSplitter _rawSplitter;
    private readonly AddedTokenSplitter _normalizedSplitter;
    private readonly Dictionary<int, AddedToken> _addedById;
    private readonly Dictionary<int, string> _addedTokenDecodeText;
    private readonly Dictionary<string, AddedToken> _addedByContent;

    internal Tokenizer(
        BpeModel model,
        INormalizer? normalizer,
        IPreTokenizer? preTokenizer,
        IDecoder? decoder,
        PostProcessor postProcessor,
        IReadOnlyList<AddedToken> addedTokens,
        string? bosToken,
        string? eosToken)
    {
        _model = model;
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        _decoder = decoder;
        _postProcessor = postProcessor;
        AddedTokens = addedTokens;
        _addedById = new Dictionary<int, AddedToken>();
        _addedByContent = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        _addedTokenDecodeText = new Dictionary<int, string>();
        foreach (AddedToken token in addedTokens)
        {
            _addedById[token.Id] = token;
            _addedByContent[token.Content] = token;
            // A normalized token stands for its normalized text (what it matched), and decodes from that, as in
            // Hugging Face: with Llama 2's normalizer, "wxyz" matched "▁wxyz" and decodes with its space.
            _addedTokenDecodeText[token.Id] = token.Normalized && normalizer is not null ? normalizer.Normalize(token.Content) : token.Content;
        }

        // Non-normalized tokens are found in the raw text; normalized ones in the normalized text, by their
        // normalized spelling (Hugging Face normalizes the token's content with the same normalizer).
        _rawSplitter = new AddedTokenSplitter(addedTokens.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        _normalizedSplitter = new AddedTokenSplitter(addedTokens.Where(t => t.Normalized)
            .Select(t => (normalizer?.Normalize(t.Content) ?? t.Content, t)));

        int largestId = Math.Max(model.IdToToken.Length - 1, addedTokens.Count == 0 ? -1 : addedTokens.Max(t => t.Id));
        VocabSize = largestId + 1;
        BosToken = bosToken;
        EosToken = eosToken;
        BosTokenId = bosToken is null ? null : TokenToId(bosToken);
        EosTokenId = eosToken is null ? null : TokenToId(eosToken);
    }

    /// <summary>
    /// Loads <c>tokenizer.json</c> (with <c>tokenizer_config.json</c> beside it when present) from a model directory,
    /// or, failing that, a GPT-2 style pair (<c>vocab.json</c> + <c>merges.txt</c>, or <c>encoder.json</c> + <c>vocab.bpe</c>).
    /// </summary>
    /// <exception cref="TokenizerFormatException">A file is malformed or uses an unsupported component.</exception>
    public static Tokenizer FromDirectory(string directory) => TokenizerJsonReader.FromDirectory(directory);

    /// <summary>Loads a tokenizer.json file, optionally with a tokenizer_config.json (BOS/EOS names, add_bos_token/add_eos_token).</summary>
    public static Tokenizer FromFile(string tokenizerJsonPath, string? tokenizerConfigPath = null) =>
        TokenizerJsonReader.FromFile(tokenizerJsonPath, tokenizerConfigPath);

    /// <summary>Loads tokenizer.json text (and optionally tokenizer_config.json text).</summary>
    public static Tokenizer FromJson(string tokenizerJson, string? tokenizerConfigJson = null) =>
        TokenizerJsonReader.FromJson(tokenizerJson, tokenizerConfigJson, "tokenizer.json");

    /// <summary>
    /// Builds a GPT-2 tokenizer from its original files: <paramref name="vocabJsonPath"/> (vocab.json or encoder.json:
    /// token → id) and <paramref name="mergesPath"/> (merges.txt or vocab.bpe: one "left right" pair per line).
    /// Byte-level pre-tokenizer with the GPT-2 regex, byte-level decoder, "&lt;|endoftext|&gt;" as special token.
    /// </summary>
    public static Tokenizer FromGpt2Files(string vocabJsonPath, string mergesPath) => TokenizerJsonReader.FromGpt2Files(vocabJsonPath, mergesPath);

    /// <summary>Number of ids (one more than the largest id of the vocabulary and the added tokens).</summary>
    public int VocabSize { get; }

    /// <summary>The added tokens (special or not), as declared.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>The beginning-of-sequence token text, or null.</summary>
    public string? BosToken { get; }

    /// <summary>The end-of-sequence token text, or null.</summary>
    public string? EosToken { get; }

    /// <summary>The id of <see cref="BosToken"/>, or null.</summary>
    public int? BosTokenId { get; }

    /// <summary>The id of <see cref="EosToken"/>, or null.</summary>
    public int? EosTokenId { get; }

    /// <summary>The ids encoding adds in front of the text when special tokens are requested (e.g. BOS).</summary>
    public IReadOnlyList<int> PrefixTokenIds => _postProcessor.Prefix;

    /// <summary>The ids encoding adds after the text when special tokens are requested (e.g. EOS).</summary>
    public IReadOnlyList<int> SuffixTokenIds => _postProcessor.Suffix;

    /// <summary>
    /// Encodes <paramref name="text"/>. With <paramref name="addSpecialTokens"/> the post-processor's ids (BOS …) are
    /// added. Added tokens written in the text (e.g. "&lt;|im_start|&gt;" from a chat template) become their ids unless
    /// <paramref name="parseSpecialTokens"/> is false, in which case special tokens are encoded as plain text (use this
    /// for untrusted user content).
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens = true, bool parseSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens)
        {
            ids.AddRange(_postProcessor.Prefix);
        }

        var words = new List<Piece>();
        foreach ((int start, int end, AddedToken? token) in _rawSplitter.Split(text, skipSpecial: !parseSpecialTokens))
        {
            if (token is not null)
            {
                ids.Add(token.Id);
                continue;
            }
            if (end == start)
            {
                continue;
            }
            string normalized = _normalizer?.Normalize(text[start..end]) ?? text[start..end];
            foreach ((int innerStart, int innerEnd, AddedToken? innerToken) in _normalizedSplitter.Split(normalized, skipSpecial: !parseSpecialTokens))
            {
                if (innerToken is not null)
                {
                    ids.Add(innerToken.Id);
                    continue;
                }
                if (innerEnd == innerStart)
                {
                    continue;
                }
                var piece = new Piece(normalized[innerStart..innerEnd], AtInputStart: start == 0 && innerStart == 0);
                words.Clear();
                if (_preTokenizer is null)
                {
                    words.Add(piece);
                }
                else
                {
                    _preTokenizer.PreTokenize(piece, words);
                }
                foreach (Piece word in words)
                {
                    _model.Tokenize(word.Text, ids);
                }
            }
        }

        if (addSpecialTokens)
        {
            ids.AddRange(_postProcessor.Suffix);
        }
        return ids.ToArray();
    }

    /// <summary>
    /// Decodes <paramref name="ids"/> to text. With <paramref name="skipSpecialTokens"/>, special added tokens
    /// (BOS, EOS, chat markers) are left out. Ids outside the vocabulary are ignored.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            if (_addedById.TryGetValue(id, out AddedToken? added))
            {
                if (!(skipSpecialTokens && added.Special))
                {
                    tokens.Add(_addedTokenDecodeText[id]);
                }
                continue;
            }
            if ((uint)id < (uint)_model.IdToToken.Length && _model.IdToToken[id] is string token)
            {
                tokens.Add(token);
            }
        }
        if (_decoder is null)
        {
            return string.Join(' ', tokens);
        }
        return string.Concat(_decoder.DecodeChain(tokens));
    }

    /// <summary>Starts incremental decoding of one generated sequence.</summary>
    public StreamingDetokenizer CreateStreamingDetokenizer(bool skipSpecialTokens = false) => new(this, skipSpecialTokens);

    /// <summary>The id of a token string (added tokens first, then the vocabulary), or null.</summary>
    public int? TokenToId(string token) =>
        _addedByContent.TryGetValue(token, out AddedToken? added) ? added.Id
        : _model.Vocabulary.TryGetValue(token, out int id) ? id
        : null;

    /// <summary>The token string of an id (as stored in the vocabulary, e.g. "▁the" or "Ġthe"), or null.</summary>
    public string? IdToToken(int id) =>
        _addedById.TryGetValue(id, out AddedToken? added) ? added.Content
        : (uint)id < (uint)_model.IdToToken.Length ? _model.IdToToken[id]
        : null;

    /// <summary>True when <paramref name="id"/> is a special added token.</summary>
    public bool IsSpecialToken(int id) => _addedById.TryGetValue(id, out AddedToken? added) && added.Special;
}

namespace Fp6.Runtime.Models.Tokenization;

/// <summary>
/// Turns generated token ids into text as they arrive. Each <see cref="Append"/> returns only the new text, and
/// never half a character: while the tokens so far end inside a UTF-8 sequence (an emoji or CJK character spread
/// over byte tokens), the text is held back until the sequence completes.
/// </summary>
/// <remarks>
/// The new text is the difference between decoding a short window of recent tokens with and without the newest
/// ones, so decoders that look at context (the leading-space strip of SentencePiece vocabularies) behave exactly as
/// in a full <see cref="Tokenizer.Decode"/>, and each step costs a few tokens' work, not the whole sequence.
/// Not thread-safe: one instance per generated sequence.
/// </remarks>
public sealed class StreamingDetokenizer
{
    /// <summary>A UTF-8 character has at most 4 bytes, so it spans at most 4 tokens; beyond that a U+FFFD is real.</summary>
    private const int MaxHeldTokens = 4;

    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<int> _ids = [];
    private int _prefixOffset;
    private int _readOffset;

    internal StreamingDetokenizer(Tokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>All ids appended so far.</summary>
    public IReadOnlyList<int> Ids => _ids;

    /// <summary>Adds one generated id and returns the text it completes (possibly empty).</summary>
    public string Append(int id)
    {
        _ids.Add(id);
        return Emit(force: false);
    }

    /// <summary>Returns whatever is still held back (at the end of generation), incomplete characters as U+FFFD.</summary>
    public string Flush() => Emit(force: true);

    /// <summary>Forgets all ids, to reuse the instance for another sequence.</summary>
    public void Reset()
    {
        _ids.Clear();
        _prefixOffset = 0;
        _readOffset = 0;
    }

    private string Emit(bool force)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ids);
        string prefixText = _tokenizer.Decode(span[_prefixOffset.._readOffset], _skipSpecialTokens);
        string fullText = _tokenizer.Decode(span[_prefixOffset..], _skipSpecialTokens);

        bool endsInsideCharacter = fullText.EndsWith('\uFFFD') && _ids.Count - _readOffset < MaxHeldTokens;
        if (fullText.Length <= prefixText.Length || (endsInsideCharacter && !force))
        {
            return "";
        }
        _prefixOffset = _readOffset;
        _readOffset = _ids.Count;
        // The window's text starts with the text already emitted for its older tokens; only the rest is new.
        return fullText[prefixText.Length..];
    }
}

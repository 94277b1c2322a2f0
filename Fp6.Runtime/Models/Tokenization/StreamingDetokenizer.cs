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
    /// <summary>
    /// An unfinished UTF-8 character is at most 3 bytes, which decode to at most 3 replacement characters (one per
    /// byte with SentencePiece byte fallback, one in all with byte-level decoding). More than that at the end of the
    /// text are real invalid bytes, released rather than held.
    /// </summary>
    private const int MaxHeldReplacements = 3;

    /// <summary>However the text looks, nothing is held for more tokens than this (bounds the wait on invalid output).</summary>
    private const int MaxHeldTokens = 8;

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

        // Byte fallback replaces a whole run of byte tokens when any of it is invalid, so while a character is
        // unfinished even the already emitted one before it can read as U+FFFD: the window text then no longer
        // starts with the emitted text, which is also a sign to wait.
        bool consistent = fullText.StartsWith(prefixText, StringComparison.Ordinal);
        int trailingReplacements = 0;
        for (int i = fullText.Length - 1; i >= (consistent ? prefixText.Length : 0) && fullText[i] == '\uFFFD'; i--)
        {
            trailingReplacements++;
        }
        bool endsInsideCharacter = trailingReplacements > 0
            && (!consistent || trailingReplacements <= MaxHeldReplacements)
            && _ids.Count - _readOffset <= MaxHeldTokens;
        if (!force && (endsInsideCharacter || (consistent && fullText.Length <= prefixText.Length)))
        {
            return "";
        }

        _prefixOffset = _readOffset;
        _readOffset = _ids.Count;
        // The window's text starts with the text already emitted for its older tokens; only the rest is new.
        int common = consistent ? prefixText.Length : CommonPrefixLength(prefixText, fullText);
        return fullText[common..];
    }

    private static int CommonPrefixLength(string a, string b)
    {
        int length = 0;
        while (length < a.Length && length < b.Length && a[length] == b[length])
        {
            length++;
        }
        return length;
    }
}

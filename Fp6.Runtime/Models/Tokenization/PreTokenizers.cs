namespace Fp6.Runtime.Models.Tokenization;

/// <summary>A piece of input on its way to the BPE model; <see cref="AtInputStart"/> is true only for a piece that begins the whole input.</summary>
internal readonly record struct Piece(string Text, bool AtInputStart);

/// <summary>A tokenizer.json pre-tokenizer: splits a piece into the words the BPE model sees (and may rewrite them).</summary>
internal interface IPreTokenizer
{
    void PreTokenize(Piece piece, List<Piece> words);
}

/// <summary>How a <see cref="SplitPreTokenizer"/> treats the text its pattern matches.</summary>
internal enum SplitBehavior
{
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// <summary>Runs pre-tokenizers one after another; each splits every word the previous one produced.</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<IPreTokenizer> steps) : IPreTokenizer
{
    public void PreTokenize(Piece piece, List<Piece> words)
    {
        var current = new List<Piece> { piece };
        var next = new List<Piece>();
        foreach (IPreTokenizer step in steps)
        {
            next.Clear();
            foreach (Piece word in current)
            {
                step.PreTokenize(word, next);
            }
            (current, next) = (next, current);
        }
        words.AddRange(current);
    }
}

/// <summary>Splits on the matches of a pattern (Llama 3 and Qwen 2 use this with their own regexes).</summary>
internal sealed class SplitPreTokenizer(PatternRegex? regex, string? literal, SplitBehavior behavior, bool invert) : IPreTokenizer
{
    public void PreTokenize(Piece piece, List<Piece> words)
    {
        string text = piece.Text;
        List<(int Start, int Length)> matches = regex is not null ? regex.Matches(text) : LiteralMatches(text);

        // The text as alternating (span, isMatch) runs that cover it entirely.
        var runs = new List<(int Start, int End, bool IsMatch)>();
        int position = 0;
        foreach ((int start, int length) in matches)
        {
            if (start > position)
            {
                runs.Add((position, start, invert));
            }
            runs.Add((start, start + length, !invert));
            position = start + length;
        }
        if (position < text.Length)
        {
            runs.Add((position, text.Length, invert));
        }

        var spans = new List<(int Start, int End)>();
        switch (behavior)
        {
            case SplitBehavior.Removed:
                spans.AddRange(runs.Where(r => !r.IsMatch).Select(r => (r.Start, r.End)));
                break;
            case SplitBehavior.Isolated:
                spans.AddRange(runs.Select(r => (r.Start, r.End)));
                break;
            case SplitBehavior.MergedWithPrevious:
                // A match joins the piece before it, unless that piece is itself a match (Hugging Face's rule:
                // in "a▁▁" only the first "▁" joins "a").
                bool previousIsMatch = false;
                foreach (var run in runs)
                {
                    if (run.IsMatch && !previousIsMatch && spans.Count > 0)
                    {
                        spans[^1] = (spans[^1].Start, run.End);
                    }
                    else
                    {
                        spans.Add((run.Start, run.End));
                    }
                    previousIsMatch = run.IsMatch;
                }
                break;
            case SplitBehavior.MergedWithNext:
                // The mirror image: a match joins the piece after it unless that piece is a match ("▁▁a" → "▁", "▁a").
                bool nextIsMatch = false;
                for (int r = runs.Count - 1; r >= 0; r--)
                {
                    var run = runs[r];
                    if (run.IsMatch && !nextIsMatch && spans.Count > 0)
                    {
                        spans[^1] = (run.Start, spans[^1].End);
                    }
                    else
                    {
                        spans.Add((run.Start, run.End));
                    }
                    nextIsMatch = run.IsMatch;
                }
                spans.Reverse();
                break;
            case SplitBehavior.Contiguous:
                bool previousWasMatch = false;
                foreach (var run in runs)
                {
                    if (run.IsMatch && previousWasMatch)
                    {
                        spans[^1] = (spans[^1].Start, run.End);
                    }
                    else
                    {
                        spans.Add((run.Start, run.End));
                    }
                    previousWasMatch = run.IsMatch;
                }
                break;
        }

        foreach ((int start, int end) in spans)
        {
            if (end > start)
            {
                words.Add(new Piece(text[start..end], piece.AtInputStart && start == 0));
            }
        }
    }

    private List<(int Start, int Length)> LiteralMatches(string text)
    {
        var matches = new List<(int, int)>();
        if (string.IsNullOrEmpty(literal))
        {
            return matches;
        }
        for (int at = text.IndexOf(literal, StringComparison.Ordinal); at >= 0; at = text.IndexOf(literal, at + literal.Length, StringComparison.Ordinal))
        {
            matches.Add((at, literal.Length));
        }
        return matches;
    }
}

/// <summary>
/// GPT-2's byte-level pre-tokenizer: optionally splits with the GPT-2 regex, then spells each word's UTF-8 bytes
/// with <see cref="ByteLevelAlphabet"/> characters.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : IPreTokenizer
{
    /// <summary>GPT-2's pattern: contractions, letter runs, digit runs, other runs, each with one optional leading space.</summary>
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static readonly SplitPreTokenizer Gpt2Split = new(new PatternRegex(Gpt2Pattern), null, SplitBehavior.Isolated, invert: false);

    public void PreTokenize(Piece piece, List<Piece> words)
    {
        if (addPrefixSpace && !piece.Text.StartsWith(' '))
        {
            piece = piece with { Text = " " + piece.Text };
        }
        int first = words.Count;
        if (useRegex)
        {
            Gpt2Split.PreTokenize(piece, words);
        }
        else if (piece.Text.Length > 0)
        {
            words.Add(piece);
        }
        for (int i = first; i < words.Count; i++)
        {
            words[i] = words[i] with { Text = ByteLevelAlphabet.EncodeUtf8(words[i].Text) };
        }
    }
}

/// <summary>How Metaspace adds the replacement character in front of a piece.</summary>
internal enum PrependScheme
{
    Always,
    First,
    Never,
}

/// <summary>
/// SentencePiece-style spaces (Mistral, newer Llama 2 exports): spaces become "▁", a "▁" is prepended (to every
/// piece, or only to the one that begins the input), and optionally the text is split before each "▁".
/// </summary>
internal sealed class MetaspacePreTokenizer(char replacement, PrependScheme prependScheme, bool split) : IPreTokenizer
{
    private readonly SplitPreTokenizer _splitter = new(null, replacement.ToString(), SplitBehavior.MergedWithNext, invert: false);

    public void PreTokenize(Piece piece, List<Piece> words)
    {
        string text = piece.Text.Replace(' ', replacement);
        bool prepend = prependScheme == PrependScheme.Always || (prependScheme == PrependScheme.First && piece.AtInputStart);
        if (prepend && !text.StartsWith(replacement))
        {
            text = replacement + text;
        }
        if (split)
        {
            _splitter.PreTokenize(piece with { Text = text }, words);
        }
        else if (text.Length > 0)
        {
            words.Add(piece with { Text = text });
        }
    }
}

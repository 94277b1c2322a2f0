namespace Fp6.Runtime.Models.Tokenization;

/// <summary>
/// Finds added tokens in text, leftmost-longest and without overlaps (Hugging Face uses an Aho-Corasick automaton in
/// that mode; the same result comes from trying, at each position, the candidates that start with that character,
/// longest first). Applies the single_word, lstrip and rstrip flags to each match.
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly Dictionary<char, (string Pattern, AddedToken Token)[]> _byFirstChar;

    /// <summary>Builds a matcher for <paramref name="tokens"/>, each found by its <c>Pattern</c> (the content, normalized or not).</summary>
    internal AddedTokenSplitter(IEnumerable<(string Pattern, AddedToken Token)> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Pattern.Length > 0)
            .GroupBy(t => t.Pattern[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Pattern.Length).ToArray());
    }

    /// <summary>True when there is nothing to match.</summary>
    internal bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>
    /// Splits <paramref name="text"/> into (start, end, token) runs covering it; token is null for plain text.
    /// With <paramref name="skipSpecial"/>, special tokens are treated as plain text.
    /// </summary>
    internal List<(int Start, int End, AddedToken? Token)> Split(string text, bool skipSpecial)
    {
        var runs = new List<(int, int, AddedToken?)>();
        int plainStart = 0;
        int position = 0;
        while (position < text.Length)
        {
            if (!TryMatchAt(text, position, skipSpecial, out int matchEnd, out AddedToken? token))
            {
                position++;
                continue;
            }
            if (token is null)
            {
                position = matchEnd;
                continue;
            }

            int start = position;
            int end = matchEnd;
            if (token.LStrip)
            {
                // Swallow the whitespace before the token, but not text an earlier match already took.
                while (start > plainStart && char.IsWhiteSpace(text[start - 1]))
                {
                    start--;
                }
            }
            if (token.RStrip)
            {
                while (end < text.Length && char.IsWhiteSpace(text[end]))
                {
                    end++;
                }
            }
            if (start > plainStart)
            {
                runs.Add((plainStart, start, null));
            }
            runs.Add((start, end, token));
            plainStart = end;
            position = end;
        }
        if (plainStart < text.Length || runs.Count == 0)
        {
            runs.Add((plainStart, text.Length, null));
        }
        return runs;
    }

    /// <summary>True when some added token's text starts at <paramref name="position"/>; <paramref name="token"/> is null if that match is rejected.</summary>
    private bool TryMatchAt(string text, int position, bool skipSpecial, out int end, out AddedToken? token)
    {
        end = 0;
        token = null;
        if (!_byFirstChar.TryGetValue(text[position], out var candidates))
        {
            return false;
        }
        ReadOnlySpan<char> rest = text.AsSpan(position);
        foreach ((string pattern, AddedToken candidate) in candidates)
        {
            if (!rest.StartsWith(pattern, StringComparison.Ordinal))
            {
                continue;
            }
            // The longest match here is the one Hugging Face's leftmost-longest search reports. If it is then
            // rejected (a special token while special tokens are not parsed, or a single-word token glued to a word),
            // its text stays plain and the search resumes after it: shorter candidates are not tried.
            end = position + pattern.Length;
            bool rejected = (skipSpecial && candidate.Special)
                || (candidate.SingleWord && (IsWordCharBefore(text, position) || IsWordCharAt(text, end)));
            token = rejected ? null : candidate;
            return true;
        }
        return false;
    }

    private static bool IsWordCharBefore(string text, int position) =>
        position > 0 && IsWordChar(char.IsLowSurrogate(text[position - 1]) && position > 1
            ? char.ConvertToUtf32(text[position - 2], text[position - 1])
            : text[position - 1]);

    private static bool IsWordCharAt(string text, int position) =>
        position < text.Length && IsWordChar(char.IsHighSurrogate(text[position]) && position + 1 < text.Length
            ? char.ConvertToUtf32(text[position], text[position + 1])
            : text[position]);

    private static bool IsWordChar(int codePoint)
    {
        string s = char.ConvertFromUtf32(codePoint);
        return char.IsLetterOrDigit(s, 0) || codePoint == '_';
    }
}

using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Fp6.Runtime.Models.Tokenization;

/// <summary>
/// A pre-tokenizer pattern written for Oniguruma (what Hugging Face tokenizers uses), run with .NET's regex engine.
/// Two differences are bridged:
/// <list type="bullet">
/// <item>Possessive quantifiers (<c>?+</c>, <c>*+</c>, <c>++</c>, <c>{n,m}+</c>), which .NET lacks, become atomic
/// groups <c>(?&gt;X?)</c>: the same "match greedily, never give back".</item>
/// <item>.NET matches UTF-16 code units, so a letter outside the BMP (a surrogate pair) would not match <c>\p{L}</c>.
/// Before matching, each such pair is replaced by one BMP character of the same Unicode category, and match
/// positions are mapped back; the patterns only test categories, so the splits are the ones Oniguruma makes.</item>
/// </list>
/// </summary>
internal sealed class PatternRegex
{
    private static readonly SearchValues<char> RepetitionCountCharacters = SearchValues.Create("0123456789,");
    private static readonly Dictionary<UnicodeCategory, char> CategoryStandIns = BuildCategoryStandIns();
    private readonly Regex _regex;

    /// <summary>Compiles <paramref name="onigurumaPattern"/>.</summary>
    /// <exception cref="ArgumentException">The pattern is not valid after translation.</exception>
    internal PatternRegex(string onigurumaPattern)
    {
        Pattern = onigurumaPattern;
        TranslatedPattern = Translate(onigurumaPattern);
        _regex = new Regex(TranslatedPattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
    }

    /// <summary>The pattern as written in tokenizer.json.</summary>
    internal string Pattern { get; }

    /// <summary>The .NET pattern actually run.</summary>
    internal string TranslatedPattern { get; }

    /// <summary>The non-empty matches in <paramref name="text"/> as (start, length) in the original string.</summary>
    internal List<(int Start, int Length)> Matches(string text)
    {
        var matches = new List<(int, int)>();
        if (!HasSurrogates(text))
        {
            foreach (ValueMatch match in _regex.EnumerateMatches(text))
            {
                if (match.Length > 0)
                {
                    matches.Add((match.Index, match.Length));
                }
            }
            return matches;
        }

        (string mapped, int[] originalIndex) = ReplaceAstralCharacters(text);
        foreach (ValueMatch match in _regex.EnumerateMatches(mapped))
        {
            if (match.Length > 0)
            {
                int start = originalIndex[match.Index];
                matches.Add((start, originalIndex[match.Index + match.Length] - start));
            }
        }
        return matches;
    }

    /// <summary>Replaces every match of the pattern in <paramref name="text"/> (used by the Replace normalizer and decoder).</summary>
    internal string Replace(string text, string replacement)
    {
        List<(int Start, int Length)> matches = Matches(text);
        if (matches.Count == 0)
        {
            return text;
        }
        var builder = new StringBuilder(text.Length);
        int position = 0;
        foreach ((int start, int length) in matches)
        {
            builder.Append(text, position, start - position).Append(replacement);
            position = start + length;
        }
        return builder.Append(text, position, text.Length - position).ToString();
    }

    /// <summary>Rewrites Oniguruma-only syntax into .NET syntax (see the class summary).</summary>
    internal static string Translate(string pattern)
    {
        var output = new StringBuilder(pattern.Length + 16);
        var openGroups = new Stack<int>();
        int lastAtomStart = -1;
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            switch (c)
            {
                case '\\':
                    lastAtomStart = output.Length;
                    i = CopyEscape(pattern, i, output);
                    break;
                case '[':
                    lastAtomStart = output.Length;
                    i = CopyCharacterClass(pattern, i, output);
                    break;
                case '(':
                    openGroups.Push(output.Length);
                    output.Append(c);
                    i++;
                    lastAtomStart = -1;
                    break;
                case ')':
                    if (openGroups.Count == 0)
                    {
                        throw new ArgumentException($"unbalanced ')' at {i} in pattern {pattern}");
                    }
                    lastAtomStart = openGroups.Pop();
                    output.Append(c);
                    i++;
                    break;
                case '?' or '*' or '+' or '{' when IsQuantifierAt(pattern, i):
                    int quantifierEnd = QuantifierEnd(pattern, i);
                    bool possessive = quantifierEnd < pattern.Length && pattern[quantifierEnd] == '+';
                    if (possessive && lastAtomStart >= 0)
                    {
                        output.Insert(lastAtomStart, "(?>");
                        output.Append(pattern, i, quantifierEnd - i).Append(')');
                        i = quantifierEnd + 1;
                    }
                    else
                    {
                        output.Append(pattern, i, quantifierEnd - i);
                        i = quantifierEnd;
                    }
                    lastAtomStart = -1;
                    break;
                default:
                    lastAtomStart = output.Length;
                    output.Append(c);
                    i++;
                    break;
            }
        }
        return output.ToString();
    }

    private static bool IsQuantifierAt(string pattern, int i)
    {
        if (pattern[i] != '{')
        {
            // '?' right after '(' is a group modifier, not a quantifier; the caller sees '(' first, so here it quantifies.
            return i > 0 && pattern[i - 1] != '(';
        }
        int close = pattern.IndexOf('}', i);
        return close > i + 1 && pattern.AsSpan(i + 1, close - i - 1).IndexOfAnyExcept(RepetitionCountCharacters) < 0;
    }

    private static int QuantifierEnd(string pattern, int i)
    {
        int end = pattern[i] == '{' ? pattern.IndexOf('}', i) + 1 : i + 1;
        return end;
    }

    private static int CopyEscape(string pattern, int i, StringBuilder output)
    {
        if (i + 1 >= pattern.Length)
        {
            throw new ArgumentException($"pattern ends with a lone backslash: {pattern}");
        }
        char kind = pattern[i + 1];
        if ((kind is 'p' or 'P') && i + 2 < pattern.Length && pattern[i + 2] == '{')
        {
            int close = pattern.IndexOf('}', i + 2);
            output.Append(pattern, i, close - i + 1);
            return close + 1;
        }
        if (kind == 'x' && i + 2 < pattern.Length && pattern[i + 2] == '{')
        {
            // Oniguruma's \x{HHHH}; .NET spells a BMP code point \uHHHH.
            int close = pattern.IndexOf('}', i + 2);
            int codePoint = int.Parse(pattern.AsSpan(i + 3, close - i - 3), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (codePoint > 0xFFFF)
            {
                throw new ArgumentException($"\\x{{{codePoint:X}}} outside the BMP is not supported in pattern {pattern}");
            }
            output.Append(CultureInfo.InvariantCulture, $"\\u{codePoint:X4}");
            return close + 1;
        }
        output.Append(pattern, i, 2);
        return i + 2;
    }

    private static int CopyCharacterClass(string pattern, int i, StringBuilder output)
    {
        int j = i + 1;
        if (j < pattern.Length && pattern[j] == '^')
        {
            j++;
        }
        // A ']' first in the class is a literal in both dialects.
        if (j < pattern.Length && pattern[j] == ']')
        {
            j++;
        }
        while (j < pattern.Length && pattern[j] != ']')
        {
            if (pattern[j] == '[')
            {
                throw new ArgumentException($"nested character classes are not supported (at {j}) in pattern {pattern}");
            }
            j += pattern[j] == '\\' ? 2 : 1;
        }
        if (j >= pattern.Length)
        {
            throw new ArgumentException($"unterminated character class at {i} in pattern {pattern}");
        }
        output.Append(pattern, i, j - i + 1);
        return j + 1;
    }

    private static bool HasSurrogates(string text) => text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0;

    private static (string Mapped, int[] OriginalIndex) ReplaceAstralCharacters(string text)
    {
        var mapped = new StringBuilder(text.Length);
        var originalIndex = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            originalIndex.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                UnicodeCategory category = CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]));
                mapped.Append(CategoryStandIns.TryGetValue(category, out char standIn) ? standIn : '\uE000');
                i++;
            }
            else
            {
                mapped.Append(text[i]);
            }
        }
        originalIndex.Add(text.Length);
        return (mapped.ToString(), originalIndex.ToArray());
    }

    /// <summary>One BMP character per Unicode category, none of them ASCII (so no pattern literal can match them).</summary>
    private static Dictionary<UnicodeCategory, char> BuildCategoryStandIns()
    {
        var standIns = new Dictionary<UnicodeCategory, char>();
        for (int c = 0x80; c <= 0xFFFF; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }
            standIns.TryAdd(CharUnicodeInfo.GetUnicodeCategory((char)c), (char)c);
        }
        return standIns;
    }
}

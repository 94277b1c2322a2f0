using System.Globalization;
using System.Text;

namespace Fp6.Runtime.Models.Templates;

/// <summary>The three kinds of Jinja tag.</summary>
internal enum TagKind
{
    /// <summary><c>{{ expression }}</c></summary>
    Output,
    /// <summary><c>{% statement %}</c></summary>
    Statement,
    /// <summary><c>{# comment #}</c></summary>
    Comment,
}

/// <summary>A piece of template source: literal text, or a tag with its inner content.</summary>
/// <param name="Text">The literal text (already whitespace-trimmed), or null for a tag.</param>
/// <param name="Kind">The tag kind (meaningless for text).</param>
/// <param name="Content">The tag's content between the delimiters and whitespace markers.</param>
/// <param name="ContentOffset">Offset of <paramref name="Content"/> in the source, for error positions.</param>
internal sealed record Segment(string? Text, TagKind Kind, string Content, int ContentOffset);

/// <summary>
/// Splits template source into text and tags, applying whitespace control the way transformers configures Jinja:
/// <c>trim_blocks</c> (the newline after a block or comment tag is dropped), <c>lstrip_blocks</c> (spaces and tabs
/// before a block or comment tag at the start of a line are dropped), <c>-</c> markers (all whitespace on that side is
/// dropped) and <c>+</c> markers (the automatic trimming is turned off on that side). As Jinja does, line endings are
/// normalised to "\n" and one trailing newline of the template is removed.
/// </summary>
internal static class TemplateLexer
{
    private sealed record RawTag(TagKind Kind, int Start, int End, int ContentStart, int ContentEnd, char LeftMarker, char RightMarker);

    internal static List<Segment> Split(string source)
    {
        var tags = FindTags(source);
        var segments = new List<Segment>();
        int textStart = 0;
        for (int i = 0; i <= tags.Count; i++)
        {
            RawTag? previous = i > 0 ? tags[i - 1] : null;
            RawTag? next = i < tags.Count ? tags[i] : null;
            int textEnd = next?.Start ?? source.Length;

            int from = textStart;
            int to = textEnd;
            if (previous is not null)
            {
                if (previous.RightMarker == '-')
                {
                    while (from < to && char.IsWhiteSpace(source[from]))
                    {
                        from++;
                    }
                }
                else if (previous.Kind != TagKind.Output && previous.RightMarker != '+' && from < to && source[from] == '\n')
                {
                    from++;
                }
            }
            if (next is not null)
            {
                if (next.LeftMarker == '-')
                {
                    while (to > from && char.IsWhiteSpace(source[to - 1]))
                    {
                        to--;
                    }
                }
                else if (next.Kind != TagKind.Output && next.LeftMarker != '+')
                {
                    // lstrip_blocks: only when the tag is the first thing on its line (judged on the untrimmed text).
                    int lineStart = textEnd;
                    while (lineStart > textStart && source[lineStart - 1] is ' ' or '\t')
                    {
                        lineStart--;
                    }
                    bool atLineStart = lineStart == 0 || source[lineStart - 1] == '\n';
                    if (atLineStart)
                    {
                        to = Math.Max(from, Math.Min(to, lineStart));
                    }
                }
            }
            if (to > from)
            {
                segments.Add(new Segment(source[from..to], TagKind.Output, "", from));
            }
            if (next is not null)
            {
                segments.Add(new Segment(null, next.Kind, source[next.ContentStart..next.ContentEnd], next.ContentStart));
                textStart = next.End;
            }
        }
        return segments;
    }

    /// <summary>Jinja's newline handling: every line break becomes "\n" and one trailing newline goes.</summary>
    internal static string NormalizeNewlines(string source)
    {
        var builder = new StringBuilder(source.Length);
        for (int i = 0; i < source.Length; i++)
        {
            char c = source[i];
            // The separators Python's str.splitlines() recognises, which Jinja's lexer splits on.
            if (c is '\r' or '\n' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')
            {
                if (c == '\r' && i + 1 < source.Length && source[i + 1] == '\n')
                {
                    i++;
                }
                builder.Append('\n');
            }
            else
            {
                builder.Append(c);
            }
        }
        if (builder.Length > 0 && builder[^1] == '\n')
        {
            builder.Length--;
        }
        return builder.ToString();
    }

    /// <summary>Line and column (1-based) of an offset, for error messages.</summary>
    internal static string Describe(string source, int offset)
    {
        int line = 1;
        int column = 1;
        for (int i = 0; i < offset && i < source.Length; i++)
        {
            if (source[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }
        return string.Create(CultureInfo.InvariantCulture, $"line {line}, column {column}");
    }

    private static List<RawTag> FindTags(string source)
    {
        var tags = new List<RawTag>();
        int position = 0;
        while (true)
        {
            int start = source.IndexOf('{', position);
            if (start < 0 || start + 1 >= source.Length)
            {
                return tags;
            }
            char opener = source[start + 1];
            TagKind kind;
            string closer;
            switch (opener)
            {
                case '{': kind = TagKind.Output; closer = "}}"; break;
                case '%': kind = TagKind.Statement; closer = "%}"; break;
                case '#': kind = TagKind.Comment; closer = "#}"; break;
                default:
                    position = start + 1;
                    continue;
            }

            int contentStart = start + 2;
            char leftMarker = contentStart < source.Length && source[contentStart] is '-' or '+' ? source[contentStart] : ' ';
            if (leftMarker != ' ')
            {
                contentStart++;
            }
            int close = kind == TagKind.Comment ? source.IndexOf(closer, contentStart, StringComparison.Ordinal) : FindCloser(source, contentStart, closer);
            if (close < 0)
            {
                throw new ChatTemplateException($"unclosed '{source.Substring(start, 2)}' ({Describe(source, start)}): missing '{closer}'");
            }
            int contentEnd = close;
            char rightMarker = contentEnd > contentStart && source[contentEnd - 1] is '-' or '+' ? source[contentEnd - 1] : ' ';
            if (rightMarker != ' ')
            {
                contentEnd--;
            }
            tags.Add(new RawTag(kind, start, close + 2, contentStart, contentEnd, leftMarker, rightMarker));
            position = close + 2;
        }
    }

    /// <summary>The closing delimiter, skipping string literals (a "}}" inside quotes does not end the tag).</summary>
    private static int FindCloser(string source, int from, string closer)
    {
        char quote = '\0';
        for (int i = from; i < source.Length; i++)
        {
            char c = source[i];
            if (quote != '\0')
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '\'' or '"')
            {
                quote = c;
            }
            else if (c == closer[0] && i + 1 < source.Length && source[i + 1] == closer[1])
            {
                return i;
            }
        }
        return -1;
    }
}

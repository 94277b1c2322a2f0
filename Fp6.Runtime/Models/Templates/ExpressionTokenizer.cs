using System.Globalization;
using System.Text;

namespace Fp6.Runtime.Models.Templates;

/// <summary>Kinds of token inside a tag.</summary>
internal enum TokenKind
{
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

/// <summary>One token of a tag's content; <see cref="Offset"/> is its position in the template source.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, object? Value, int Offset)
{
    public bool Is(string text) => (Kind == TokenKind.Operator || Kind == TokenKind.Name) && Text == text;
}

/// <summary>Splits a tag's content into names, literals and operators (Jinja's expression lexer).</summary>
internal static class ExpressionTokenizer
{
    private static readonly string[] Operators =
        ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|"];

    internal static List<Token> Tokenize(string content, int offset, string source)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < content.Length)
        {
            char c = content[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            int start = i;
            if (char.IsLetter(c) || c == '_')
            {
                while (i < content.Length && (char.IsLetterOrDigit(content[i]) || content[i] == '_'))
                {
                    i++;
                }
                tokens.Add(new Token(TokenKind.Name, content[start..i], null, offset + start));
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                tokens.Add(ReadNumber(content, ref i, offset));
                continue;
            }
            if (c is '\'' or '"')
            {
                tokens.Add(new Token(TokenKind.String, "string", ReadString(content, ref i, offset, source), offset + start));
                continue;
            }
            string? op = Array.Find(Operators, o => string.CompareOrdinal(content, i, o, 0, o.Length) == 0);
            if (op is null)
            {
                throw new ChatTemplateException($"unexpected character '{c}' ({TemplateLexer.Describe(source, offset + i)})");
            }
            tokens.Add(new Token(TokenKind.Operator, op, null, offset + i));
            i += op.Length;
        }
        tokens.Add(new Token(TokenKind.End, "end of tag", null, offset + content.Length));
        return tokens;
    }

    private static Token ReadNumber(string content, ref int i, int offset)
    {
        int start = i;
        bool isFloat = false;
        while (i < content.Length && (char.IsAsciiDigit(content[i]) || content[i] == '_'))
        {
            i++;
        }
        if (i + 1 < content.Length && content[i] == '.' && char.IsAsciiDigit(content[i + 1]))
        {
            isFloat = true;
            i++;
            while (i < content.Length && (char.IsAsciiDigit(content[i]) || content[i] == '_'))
            {
                i++;
            }
        }
        if (i < content.Length && content[i] is 'e' or 'E')
        {
            int exponent = i + 1;
            if (exponent < content.Length && content[exponent] is '+' or '-')
            {
                exponent++;
            }
            if (exponent < content.Length && char.IsAsciiDigit(content[exponent]))
            {
                isFloat = true;
                i = exponent;
                while (i < content.Length && char.IsAsciiDigit(content[i]))
                {
                    i++;
                }
            }
        }
        string text = content[start..i].Replace("_", "", StringComparison.Ordinal);
        return isFloat
            ? new Token(TokenKind.Float, text, double.Parse(text, CultureInfo.InvariantCulture), offset + start)
            : new Token(TokenKind.Integer, text, long.Parse(text, CultureInfo.InvariantCulture), offset + start);
    }

    /// <summary>A quoted literal with Python's escapes (\n, \t, \\, \', \", \xhh, \uhhhh, \Uhhhhhhhh, octal); unknown escapes stay as written.</summary>
    private static string ReadString(string content, ref int i, int offset, string source)
    {
        char quote = content[i];
        int start = i;
        i++;
        var builder = new StringBuilder();
        while (i < content.Length && content[i] != quote)
        {
            char c = content[i];
            if (c != '\\' || i + 1 >= content.Length)
            {
                builder.Append(c);
                i++;
                continue;
            }
            char escape = content[i + 1];
            i += 2;
            switch (escape)
            {
                case 'n': builder.Append('\n'); break;
                case 't': builder.Append('\t'); break;
                case 'r': builder.Append('\r'); break;
                case '\\': builder.Append('\\'); break;
                case '\'': builder.Append('\''); break;
                case '"': builder.Append('"'); break;
                case 'a': builder.Append('\a'); break;
                case 'b': builder.Append('\b'); break;
                case 'f': builder.Append('\f'); break;
                case 'v': builder.Append('\v'); break;
                case '\n': break;
                case 'x': AppendCodePoint(builder, content, ref i, 2); break;
                case 'u': AppendCodePoint(builder, content, ref i, 4); break;
                case 'U': AppendCodePoint(builder, content, ref i, 8); break;
                case >= '0' and <= '7':
                    int value = escape - '0';
                    for (int digits = 1; digits < 3 && i < content.Length && content[i] is >= '0' and <= '7'; digits++)
                    {
                        value = (value * 8) + (content[i++] - '0');
                    }
                    builder.Append((char)value);
                    break;
                default:
                    builder.Append('\\').Append(escape);
                    break;
            }
        }
        if (i >= content.Length)
        {
            throw new ChatTemplateException($"unterminated string literal ({TemplateLexer.Describe(source, offset + start)})");
        }
        i++;
        return builder.ToString();
    }

    private static void AppendCodePoint(StringBuilder builder, string content, ref int i, int digits)
    {
        if (i + digits > content.Length
            || !int.TryParse(content.AsSpan(i, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int codePoint))
        {
            throw new ChatTemplateException($"truncated \\x/\\u/\\U escape in string literal '{content}'");
        }
        builder.Append(char.ConvertFromUtf32(codePoint));
        i += digits;
    }
}

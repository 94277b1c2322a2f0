using System.Collections;
using System.Globalization;
using System.Text;

namespace Fp6.Runtime.Models.Templates;

/// <summary>
/// The <c>tojson</c> filter as transformers defines it: Python's <c>json.dumps(value, ensure_ascii=False, indent=…,
/// separators=…, sort_keys=…)</c>, byte for byte (", " and ": " separators, or "," at line ends when indenting).
/// </summary>
internal static class TemplateJson
{
    internal static string Serialize(object? value, int? indent, bool sortKeys, bool ensureAscii)
    {
        var builder = new StringBuilder();
        Write(builder, value, indent, sortKeys, ensureAscii, level: 0);
        return builder.ToString();
    }

    private static void Write(StringBuilder builder, object? value, int? indent, bool sortKeys, bool ensureAscii, int level)
    {
        switch (value)
        {
            case null:
                builder.Append("null");
                break;
            case bool b:
                builder.Append(b ? "true" : "false");
                break;
            case long l:
                builder.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                builder.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : TemplateValues.FormatFloat(d));
                break;
            case string s:
                WriteString(builder, s, ensureAscii);
                break;
            case IList list:
                WriteContainer(builder, '[', ']', list.Count, indent, level, i => Write(builder, list[i], indent, sortKeys, ensureAscii, level + 1));
                break;
            case Dictionary<string, object?> dictionary:
                var entries = sortKeys ? dictionary.OrderBy(e => e.Key, StringComparer.Ordinal).ToList() : dictionary.ToList();
                WriteContainer(builder, '{', '}', entries.Count, indent, level, i =>
                {
                    WriteString(builder, entries[i].Key, ensureAscii);
                    builder.Append(": ");
                    Write(builder, entries[i].Value, indent, sortKeys, ensureAscii, level + 1);
                });
                break;
            case Undefined undefined:
                throw undefined.Error();
            default:
                throw new ChatTemplateException($"Object of type {TemplateValues.TypeName(value)} is not JSON serializable");
        }
    }

    private static void WriteContainer(StringBuilder builder, char open, char close, int count, int? indent, int level, Action<int> writeItem)
    {
        builder.Append(open);
        if (count == 0)
        {
            builder.Append(close);
            return;
        }
        for (int i = 0; i < count; i++)
        {
            if (indent is int width)
            {
                builder.Append(i == 0 ? "\n" : ",\n").Append(' ', width * (level + 1));
            }
            else if (i > 0)
            {
                builder.Append(", ");
            }
            writeItem(i);
        }
        if (indent is int closingWidth)
        {
            builder.Append('\n').Append(' ', closingWidth * level);
        }
        builder.Append(close);
    }

    private static void WriteString(StringBuilder builder, string text, bool ensureAscii)
    {
        builder.Append('"');
        foreach (char c in text)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ensureAscii && c > 0x7F))
                    {
                        builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        builder.Append(c);
                    }
                    break;
            }
        }
        builder.Append('"');
    }
}

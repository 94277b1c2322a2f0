using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fp6.Runtime.Models.Templates;

/// <summary>
/// A value that does not exist (a missing variable, key or attribute). Like Jinja's default Undefined it prints as
/// nothing, is falsy, iterates as empty and passes "is defined" as false; anything else done with it (arithmetic,
/// attribute access) is an error whose message says what was missing.
/// </summary>
internal sealed class Undefined(string message)
{
    internal string Message { get; } = message;

    internal ChatTemplateException Error() => new(Message);
}

/// <summary>A tuple: a list that Python prints in parentheses.</summary>
internal sealed class TupleValue : List<object?>;

/// <summary>The mutable object <c>namespace(...)</c> makes: the one thing a loop body can change for code after the loop.</summary>
internal sealed class Namespace
{
    internal Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>A callable value: a global function, a bound method of a value, or a macro.</summary>
internal sealed class TemplateFunction(string name, Func<List<object?>, Dictionary<string, object?>, object?> invoke)
{
    internal string Name { get; } = name;

    internal object? Invoke(List<object?> arguments, Dictionary<string, object?> keywords) => invoke(arguments, keywords);
}

/// <summary>The <c>loop</c> variable of a for loop.</summary>
internal sealed class LoopContext(IReadOnlyList<object?> items)
{
    internal int Index0 { get; set; }

    internal object? GetAttribute(string name) => name switch
    {
        "index0" => (long)Index0,
        "index" => (long)Index0 + 1,
        "revindex" => (long)(items.Count - Index0),
        "revindex0" => (long)(items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => Index0 + 1 < items.Count ? items[Index0 + 1] : new Undefined("there is no next item"),
        "cycle" => new TemplateFunction("loop.cycle", (arguments, _) =>
            arguments.Count == 0 ? throw new ChatTemplateException("loop.cycle needs at least one argument") : arguments[Index0 % arguments.Count]),
        _ => new Undefined($"'loop' has no attribute '{name}'"),
    };
}

/// <summary>Python semantics for template values: truth, equality, ordering, str() and repr(), and conversion from .NET values.</summary>
internal static class TemplateValues
{
    /// <summary>Python's truth: None, undefined, False, 0, "" and empty collections are false.</summary>
    internal static bool IsTruthy(object? value) => value switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        IList list => list.Count > 0,
        IDictionary dictionary => dictionary.Count > 0,
        _ => true,
    };

    /// <summary>Python's type name, for error messages.</summary>
    internal static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        Undefined => "undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        IList => "list",
        IDictionary => "dict",
        Namespace => "Namespace",
        TemplateFunction => "function",
        LoopContext => "LoopContext",
        _ => value.GetType().Name,
    };

    /// <summary>A number as double, treating bools as 0/1 like Python; false if not a number.</summary>
    internal static bool TryGetNumber(object? value, out double number)
    {
        switch (value)
        {
            case long l: number = l; return true;
            case double d: number = d; return true;
            case bool b: number = b ? 1 : 0; return true;
            default: number = 0; return false;
        }
    }

    /// <summary>Python's ==: 1 == 1.0 == True, lists and dicts compare by content, two undefined values are equal.</summary>
    internal static bool AreEqual(object? left, object? right)
    {
        if (left is null || right is null)
        {
            return left is null && right is null;
        }
        if (left is Undefined || right is Undefined)
        {
            return left is Undefined && right is Undefined;
        }
        if (TryGetNumber(left, out double a) && TryGetNumber(right, out double b))
        {
            return a == b;
        }
        switch (left, right)
        {
            case (string x, string y):
                return x == y;
            case (IList x, IList y):
                if (x.Count != y.Count)
                {
                    return false;
                }
                for (int i = 0; i < x.Count; i++)
                {
                    if (!AreEqual(x[i], y[i]))
                    {
                        return false;
                    }
                }
                return true;
            case (Dictionary<string, object?> x, Dictionary<string, object?> y):
                return x.Count == y.Count && x.All(entry => y.TryGetValue(entry.Key, out object? other) && AreEqual(entry.Value, other));
            default:
                return ReferenceEquals(left, right);
        }
    }

    /// <summary>Python's ordering for numbers, strings (by code point) and lists; other pairs are an error.</summary>
    internal static int Compare(object? left, object? right, string op)
    {
        if (TryGetNumber(left, out double a) && TryGetNumber(right, out double b))
        {
            return a.CompareTo(b);
        }
        switch (left, right)
        {
            case (string x, string y):
                return string.CompareOrdinal(x, y);
            case (IList x, IList y):
                for (int i = 0; i < Math.Min(x.Count, y.Count); i++)
                {
                    if (!AreEqual(x[i], y[i]))
                    {
                        return Compare(x[i], y[i], op);
                    }
                }
                return x.Count.CompareTo(y.Count);
        }
        if (left is Undefined undefinedLeft)
        {
            throw undefinedLeft.Error();
        }
        if (right is Undefined undefinedRight)
        {
            throw undefinedRight.Error();
        }
        throw new ChatTemplateException($"'{op}' not supported between instances of '{TypeName(left)}' and '{TypeName(right)}'");
    }

    /// <summary>Python's str(): how a value prints in <c>{{ }}</c>.</summary>
    internal static string ToText(object? value) => value switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(value),
    };

    /// <summary>Python's repr(): strings quoted, lists and dicts in Python syntax, None/True/False capitalised.</summary>
    internal static string Repr(object? value)
    {
        switch (value)
        {
            case null: return "None";
            case Undefined: return "";
            case bool b: return b ? "True" : "False";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return FormatFloat(d);
            case string s: return QuoteString(s);
            case TupleValue tuple:
                return tuple.Count == 1 ? "(" + Repr(tuple[0]) + ",)" : "(" + string.Join(", ", tuple.Select(Repr)) + ")";
            case IList list:
                var items = new List<string>(list.Count);
                foreach (object? item in list)
                {
                    items.Add(Repr(item));
                }
                return "[" + string.Join(", ", items) + "]";
            case Dictionary<string, object?> dictionary:
                return "{" + string.Join(", ", dictionary.Select(e => QuoteString(e.Key) + ": " + Repr(e.Value))) + "}";
            case Namespace ns:
                return "<Namespace " + string.Join(", ", ns.Attributes.Select(e => e.Key + "=" + Repr(e.Value))) + ">";
            case TemplateFunction function:
                return $"<function {function.Name}>";
            default:
                return value.ToString() ?? "";
        }
    }

    /// <summary>Python's float repr: shortest round-trip digits, ".0" on integral values, exponent form outside [1e-4, 1e16).</summary>
    internal static string FormatFloat(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }
        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }
        if (value == 0)
        {
            return double.IsNegative(value) ? "-0.0" : "0.0";
        }

        string roundTrip = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        int exponentAt = roundTrip.IndexOf('E', StringComparison.Ordinal);
        string mantissa = exponentAt >= 0 ? roundTrip[..exponentAt] : roundTrip;
        int exponent = exponentAt >= 0 ? int.Parse(roundTrip.AsSpan(exponentAt + 1), CultureInfo.InvariantCulture) : 0;
        int point = mantissa.IndexOf('.', StringComparison.Ordinal);
        string digits = point >= 0 ? mantissa.Remove(point, 1) : mantissa;
        // Decimal point position relative to the start of digits.
        int pointPosition = (point >= 0 ? point : mantissa.Length) + exponent;
        int leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits[leadingZeros..].TrimEnd('0');
        pointPosition -= leadingZeros;
        if (digits.Length == 0)
        {
            digits = "0";
        }

        string sign = value < 0 ? "-" : "";
        int decimalExponent = pointPosition - 1;
        if (decimalExponent is >= -4 and < 16)
        {
            if (pointPosition <= 0)
            {
                return sign + "0." + new string('0', -pointPosition) + digits;
            }
            if (pointPosition >= digits.Length)
            {
                return sign + digits + new string('0', pointPosition - digits.Length) + ".0";
            }
            return sign + digits[..pointPosition] + "." + digits[pointPosition..];
        }
        string fraction = digits.Length > 1 ? "." + digits[1..] : "";
        string exponentText = Math.Abs(decimalExponent).ToString("00", CultureInfo.InvariantCulture);
        return sign + digits[0] + fraction + "e" + (decimalExponent < 0 ? "-" : "+") + exponentText;
    }

    /// <summary>Python's repr of a string: single quotes unless the text has a single quote and no double quote.</summary>
    internal static string QuoteString(string text)
    {
        char quote = text.Contains('\'') && !text.Contains('"') ? '"' : '\'';
        var builder = new StringBuilder(text.Length + 2).Append(quote);
        foreach (Rune rune in text.EnumerateRunes())
        {
            int c = rune.Value;
            if (c == '\\' || c == quote)
            {
                builder.Append('\\').Append((char)c);
            }
            else if (c == '\n')
            {
                builder.Append("\\n");
            }
            else if (c == '\r')
            {
                builder.Append("\\r");
            }
            else if (c == '\t')
            {
                builder.Append("\\t");
            }
            else if (IsPrintable(rune))
            {
                builder.Append(rune.ToString());
            }
            else
            {
                builder.Append(c switch
                {
                    < 0x100 => string.Create(CultureInfo.InvariantCulture, $"\\x{c:x2}"),
                    < 0x10000 => string.Create(CultureInfo.InvariantCulture, $"\\u{c:x4}"),
                    _ => string.Create(CultureInfo.InvariantCulture, $"\\U{c:x8}"),
                });
            }
        }
        return builder.Append(quote).ToString();
    }

    private static bool IsPrintable(Rune rune) =>
        rune.Value == ' ' || Rune.GetUnicodeCategory(rune) is not (UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);

    /// <summary>Python's len(): code points of a string, items of a list or dict.</summary>
    internal static long Length(object? value) => value switch
    {
        string s => s.EnumerateRunes().LongCount(),
        IList list => list.Count,
        IDictionary dictionary => dictionary.Count,
        Undefined => 0,
        Namespace ns => ns.Attributes.Count,
        _ => throw new ChatTemplateException($"object of type '{TypeName(value)}' has no len()"),
    };

    /// <summary>What a for loop visits: list items, dict keys, string characters; nothing for undefined.</summary>
    internal static List<object?> Iterate(object? value) => value switch
    {
        IList list => list.Cast<object?>().ToList(),
        Dictionary<string, object?> dictionary => dictionary.Keys.Cast<object?>().ToList(),
        string s => s.EnumerateRunes().Select(r => (object?)r.ToString()).ToList(),
        Undefined => [],
        _ => throw new ChatTemplateException($"'{TypeName(value)}' object is not iterable"),
    };

    /// <summary>
    /// Converts a .NET value handed to the template (strings, numbers, bools, dictionaries, lists, JSON elements and
    /// nodes, <see cref="ChatTemplateMessage"/>) into a template value.
    /// </summary>
    internal static object? FromClr(object? value) => value switch
    {
        null => null,
        string or bool or long or double or Undefined or Namespace or TemplateFunction => value,
        int or short or byte or sbyte or ushort or uint => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        ulong u => u <= long.MaxValue ? (long)u : (double)u,
        float or decimal => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        char c => c.ToString(),
        Enum e => e.ToString(),
        ChatTemplateMessage message => new Dictionary<string, object?>(StringComparer.Ordinal) { ["role"] = message.Role, ["content"] = message.Content },
        JsonElement element => FromJson(element),
        JsonNode node => FromJson(JsonSerializer.SerializeToElement(node)),
        IDictionary<string, object?> dictionary => dictionary.ToDictionary(e => e.Key, e => FromClr(e.Value), StringComparer.Ordinal),
        IReadOnlyDictionary<string, object?> dictionary => dictionary.ToDictionary(e => e.Key, e => FromClr(e.Value), StringComparer.Ordinal),
        IDictionary dictionary => dictionary.Keys.Cast<object>().ToDictionary(k => k.ToString()!, k => FromClr(dictionary[k]), StringComparer.Ordinal),
        IEnumerable sequence => sequence.Cast<object?>().Select(FromClr).ToList(),
        _ => throw new ChatTemplateException($"values of type {value.GetType().Name} cannot be passed to a chat template"),
    };

    private static object? FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        // Python keeps 3 and 3.0 apart; so does the raw JSON text.
        JsonValueKind.Number => element.TryGetInt64(out long l) && !element.GetRawText().Contains('.', StringComparison.Ordinal) ? (object)l : element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => element.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.Object => element.EnumerateObject().ToDictionary(p => p.Name, p => FromJson(p.Value), StringComparer.Ordinal),
        _ => null,
    };
}

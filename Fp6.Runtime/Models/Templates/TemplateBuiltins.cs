using System.Collections;
using System.Globalization;
using System.Text;

namespace Fp6.Runtime.Models.Templates;

/// <summary>
/// The filters, tests, value methods and attribute rules of the supported Jinja subset, with Python/Jinja semantics.
/// Chat templates in the wild use a small set of these; anything missing fails at parse time (filters and tests) or
/// at the call (methods), with its name.
/// </summary>
internal static class TemplateBuiltins
{
    private delegate object? Filter(object? value, TemplateArguments arguments);

    private delegate bool Test(object? value, TemplateArguments arguments);

    private static readonly Dictionary<string, Filter> Filters = new(StringComparer.Ordinal)
    {
        ["trim"] = (v, a) => PythonStrip(Text(v), a.GetString(0, "chars"), left: true, right: true),
        ["length"] = (v, _) => TemplateValues.Length(v),
        ["count"] = (v, _) => TemplateValues.Length(v),
        ["upper"] = (v, _) => Text(v).ToUpperInvariant(),
        ["lower"] = (v, _) => Text(v).ToLowerInvariant(),
        ["capitalize"] = (v, _) => Capitalize(Text(v)),
        ["title"] = (v, _) => JinjaTitle(Text(v)),
        ["first"] = (v, _) => TemplateValues.Iterate(v) is { Count: > 0 } items ? items[0] : new Undefined("first() of an empty sequence"),
        ["last"] = (v, _) => TemplateValues.Iterate(v) is { Count: > 0 } items ? items[^1] : new Undefined("last() of an empty sequence"),
        ["join"] = (v, a) => string.Join(a.GetString(0, "d", "") ?? "", TemplateValues.Iterate(v).Select(item =>
            TemplateValues.ToText(a.GetString(1, "attribute") is string attribute ? GetAttribute(item, attribute) : item))),
        ["default"] = Default,
        ["d"] = Default,
        ["replace"] = (v, a) => PythonReplace(Text(v), a.GetString(0, "old") ?? "", a.GetString(1, "new") ?? "", a.GetInteger(2, "count", -1) ?? -1),
        ["string"] = (v, _) => TemplateValues.ToText(v),
        ["int"] = (v, a) => ToInteger(v, a.Get(0, "default", 0L)),
        ["float"] = (v, a) => ToFloat(v, a.Get(0, "default", 0.0)),
        ["list"] = (v, _) => TemplateValues.Iterate(v),
        ["reverse"] = (v, _) => v is string s ? string.Concat(s.EnumerateRunes().Reverse()) : Enumerable.Reverse(TemplateValues.Iterate(v)).ToList(),
        ["items"] = (v, _) => Items(v),
        ["tojson"] = (v, a) => TemplateJson.Serialize(v, (int?)a.GetInteger(0, "indent"), TemplateValues.IsTruthy(a.Get(1, "sort_keys", false)),
            TemplateValues.IsTruthy(a.Get(2, "ensure_ascii", false))),
        ["map"] = Map,
        ["select"] = (v, a) => SelectItems(v, a, attribute: false, keep: true),
        ["reject"] = (v, a) => SelectItems(v, a, attribute: false, keep: false),
        ["selectattr"] = (v, a) => SelectItems(v, a, attribute: true, keep: true),
        ["rejectattr"] = (v, a) => SelectItems(v, a, attribute: true, keep: false),
        ["abs"] = (v, _) => v switch
        {
            long l => (object)Math.Abs(l),
            double d => Math.Abs(d),
            _ => throw new ChatTemplateException($"bad operand type for abs(): '{TemplateValues.TypeName(v)}'"),
        },
        ["safe"] = (v, _) => v,
    };

    private static readonly Dictionary<string, Test> Tests = new(StringComparer.Ordinal)
    {
        ["defined"] = (v, _) => v is not Undefined,
        ["undefined"] = (v, _) => v is Undefined,
        ["none"] = (v, _) => v is null,
        ["string"] = (v, _) => v is string,
        // Python's bool is a number (and an int), which Jinja's tests inherit.
        ["number"] = (v, _) => v is long or double or bool,
        ["integer"] = (v, _) => v is long,
        ["float"] = (v, _) => v is double,
        ["boolean"] = (v, _) => v is bool,
        ["true"] = (v, _) => v is true,
        ["false"] = (v, _) => v is false,
        ["mapping"] = (v, _) => v is Dictionary<string, object?>,
        ["iterable"] = (v, _) => v is string or IList or IDictionary or Undefined,
        ["sequence"] = (v, _) => v is string or IList or IDictionary or Undefined,
        ["callable"] = (v, _) => v is TemplateFunction,
        ["even"] = (v, _) => AsInteger(v, "even") % 2 == 0,
        ["odd"] = (v, _) => AsInteger(v, "odd") % 2 != 0,
        ["divisibleby"] = (v, a) => AsInteger(v, "divisibleby") % AsInteger(a.Required(0, "num"), "divisibleby") == 0,
        ["lower"] = (v, _) => v is string s && string.Equals(s, s.ToLowerInvariant(), StringComparison.Ordinal),
        ["upper"] = (v, _) => v is string s && string.Equals(s, s.ToUpperInvariant(), StringComparison.Ordinal),
        ["eq"] = (v, a) => TemplateValues.AreEqual(v, a.Required(0, "other")),
        ["equalto"] = (v, a) => TemplateValues.AreEqual(v, a.Required(0, "other")),
        ["=="] = (v, a) => TemplateValues.AreEqual(v, a.Required(0, "other")),
        ["ne"] = (v, a) => !TemplateValues.AreEqual(v, a.Required(0, "other")),
        ["!="] = (v, a) => !TemplateValues.AreEqual(v, a.Required(0, "other")),
        ["lt"] = (v, a) => TemplateValues.Compare(v, a.Required(0, "other"), "<") < 0,
        ["<"] = (v, a) => TemplateValues.Compare(v, a.Required(0, "other"), "<") < 0,
        ["le"] = (v, a) => TemplateValues.Compare(v, a.Required(0, "other"), "<=") <= 0,
        ["<="] = (v, a) => TemplateValues.Compare(v, a.Required(0, "other"), "<=") <= 0,
        ["gt"] = (v, a) => TemplateValues.Compare(v, a.Required(0, "other"), ">") > 0,
        [">"] = (v, a) => TemplateValues.Compare(v, a.Required(0, "other"), ">") > 0,
        ["ge"] = (v, a) => TemplateValues.Compare(v, a.Required(0, "other"), ">=") >= 0,
        [">="] = (v, a) => TemplateValues.Compare(v, a.Required(0, "other"), ">=") >= 0,
        ["sameas"] = (v, a) => a.Required(0, "other") is var other && (v is null or bool ? Equals(v, other) : ReferenceEquals(v, other)),
        ["in"] = (v, a) => Contains(a.Required(0, "seq"), v),
    };

    internal static bool HasFilter(string name) => Filters.ContainsKey(name);

    internal static bool HasTest(string name) => Tests.ContainsKey(name);

    internal static object? ApplyFilter(string name, object? value, TemplateArguments arguments) => Filters[name](value, arguments);

    internal static bool ApplyTest(string name, object? value, TemplateArguments arguments) => Tests[name](value, arguments);

    /// <summary>
    /// <c>value.name</c> as Jinja resolves it: a method or attribute of the value first, then an item of that name
    /// (so <c>message.content</c> reads the key, and <c>d.items</c> is the method).
    /// </summary>
    internal static object? GetAttribute(object? target, string name)
    {
        switch (target)
        {
            case Undefined undefined:
                throw undefined.Error();
            case Dictionary<string, object?> dictionary:
                return (object?)DictionaryMethod(dictionary, name)
                    ?? (dictionary.TryGetValue(name, out object? value) ? value : new Undefined($"'dict object' has no attribute '{name}'"));
            case string s:
                return (object?)StringMethod(s, name) ?? new Undefined($"'str object' has no attribute '{name}'");
            case Namespace ns:
                return ns.Attributes.TryGetValue(name, out object? attribute) ? attribute : new Undefined($"'Namespace' has no attribute '{name}'");
            case LoopContext loop:
                return loop.GetAttribute(name);
            default:
                return new Undefined($"'{TemplateValues.Repr(target)}' has no attribute '{name}'");
        }
    }

    /// <summary><c>value[key]</c>: the item first, then (for string keys) the attribute, as Jinja does.</summary>
    internal static object? GetItem(object? target, object? key)
    {
        switch (target, key)
        {
            case (Undefined undefined, _):
                throw undefined.Error();
            case (Dictionary<string, object?> dictionary, string name):
                return dictionary.TryGetValue(name, out object? value) ? value : (object?)DictionaryMethod(dictionary, name) ?? new Undefined($"'dict object' has no attribute '{name}'");
            case (IList list, long or bool):
                long index = AsInteger(key, "index");
                if (index < 0)
                {
                    index += list.Count;
                }
                return index >= 0 && index < list.Count ? list[(int)index] : new Undefined($"list object has no element {key}");
            case (string s, long or bool):
                Rune[] runes = s.EnumerateRunes().ToArray();
                long position = AsInteger(key, "index");
                if (position < 0)
                {
                    position += runes.Length;
                }
                return position >= 0 && position < runes.Length ? runes[position].ToString() : new Undefined($"string index {key} out of range");
            case (_, string attribute):
                return GetAttribute(target, attribute);
            default:
                return new Undefined($"'{TemplateValues.TypeName(target)}' object has no element {TemplateValues.Repr(key)}");
        }
    }

    /// <summary>Python slicing of a list or string: negative bounds count from the end, a negative step walks backwards.</summary>
    internal static object? Slice(object? target, long? start, long? stop, long? step)
    {
        long stride = step ?? 1;
        if (stride == 0)
        {
            throw new ChatTemplateException("slice step cannot be zero");
        }
        List<object?> items = target switch
        {
            string s => s.EnumerateRunes().Select(r => (object?)r.ToString()).ToList(),
            IList list => list.Cast<object?>().ToList(),
            Undefined undefined => throw undefined.Error(),
            _ => throw new ChatTemplateException($"'{TemplateValues.TypeName(target)}' object is not subscriptable"),
        };
        long count = items.Count;
        long Clamp(long? bound, long whenMissing)
        {
            if (bound is not long b)
            {
                return whenMissing;
            }
            if (b < 0)
            {
                b += count;
            }
            return stride > 0 ? Math.Clamp(b, 0, count) : Math.Clamp(b, -1, count - 1);
        }
        long from = Clamp(start, stride > 0 ? 0 : count - 1);
        long to = Clamp(stop, stride > 0 ? count : -1);
        var result = new List<object?>();
        for (long i = from; stride > 0 ? i < to : i > to; i += stride)
        {
            result.Add(items[(int)i]);
        }
        return target is string ? string.Concat(result.Cast<string>()) : result;
    }

    /// <summary>Python's <c>in</c>: substring, list membership or dict key.</summary>
    internal static bool Contains(object? container, object? item) => container switch
    {
        string s => item is string sub ? s.Contains(sub, StringComparison.Ordinal)
            : throw new ChatTemplateException($"'in <string>' requires string as left operand, not {TemplateValues.TypeName(item)}"),
        IList list => list.Cast<object?>().Any(element => TemplateValues.AreEqual(element, item)),
        Dictionary<string, object?> dictionary => item is string key && dictionary.ContainsKey(key),
        Undefined => false,
        _ => throw new ChatTemplateException($"argument of type '{TemplateValues.TypeName(container)}' is not iterable"),
    };

    private static TemplateFunction? DictionaryMethod(Dictionary<string, object?> dictionary, string name) => name switch
    {
        "items" => Method(name, _ => Items(dictionary)),
        "keys" => Method(name, _ => dictionary.Keys.Cast<object?>().ToList()),
        "values" => Method(name, _ => dictionary.Values.ToList()),
        "get" => Method(name, a => dictionary.TryGetValue(a.GetString(0, "key") ?? "", out object? value) ? value : a.Get(1, "default")),
        _ => null,
    };

    private static TemplateFunction? StringMethod(string s, string name) => name switch
    {
        "strip" => Method(name, a => PythonStrip(s, a.GetString(0, "chars"), left: true, right: true)),
        "lstrip" => Method(name, a => PythonStrip(s, a.GetString(0, "chars"), left: true, right: false)),
        "rstrip" => Method(name, a => PythonStrip(s, a.GetString(0, "chars"), left: false, right: true)),
        "split" => Method(name, a => PythonSplit(s, a.GetString(0, "sep"), a.GetInteger(1, "maxsplit", -1) ?? -1)),
        "startswith" => Method(name, a => Affixes(a.Required(0, "prefix")).Any(p => s.StartsWith(p, StringComparison.Ordinal))),
        "endswith" => Method(name, a => Affixes(a.Required(0, "suffix")).Any(p => s.EndsWith(p, StringComparison.Ordinal))),
        "upper" => Method(name, _ => s.ToUpperInvariant()),
        "lower" => Method(name, _ => s.ToLowerInvariant()),
        "title" => Method(name, _ => PythonTitle(s)),
        "capitalize" => Method(name, _ => Capitalize(s)),
        "replace" => Method(name, a => PythonReplace(s, a.GetString(0, "old") ?? "", a.GetString(1, "new") ?? "", a.GetInteger(2, "count", -1) ?? -1)),
        "find" => Method(name, a => (long)RuneIndex(s, s.IndexOf(a.GetString(0, "sub") ?? "", StringComparison.Ordinal))),
        "count" => Method(name, a => (long)CountOccurrences(s, a.GetString(0, "sub") ?? "")),
        "join" => Method(name, a => string.Join(s, TemplateValues.Iterate(a.Required(0, "iterable")).Select(TemplateValues.ToText))),
        _ => null,
    };

    private static TemplateFunction Method(string name, Func<TemplateArguments, object?> body) =>
        new(name, (positional, keywords) => body(new TemplateArguments(name, positional, keywords)));

    private static object? Default(object? value, TemplateArguments arguments)
    {
        bool boolean = TemplateValues.IsTruthy(arguments.Get(1, "boolean", false));
        return value is Undefined || (boolean && !TemplateValues.IsTruthy(value)) ? arguments.Get(0, "default_value", "") : value;
    }

    private static List<object?> Items(object? value) => value switch
    {
        Dictionary<string, object?> dictionary => dictionary.Select(e => (object?)new List<object?> { e.Key, e.Value }).ToList(),
        Undefined => [],
        _ => throw new ChatTemplateException($"items() needs a mapping, not {TemplateValues.TypeName(value)}"),
    };

    /// <summary><c>map(attribute='x')</c> or <c>map('filter', args…)</c>.</summary>
    private static List<object?> Map(object? value, TemplateArguments arguments)
    {
        List<object?> items = TemplateValues.Iterate(value);
        if (arguments.Keywords.TryGetValue("attribute", out object? attribute))
        {
            object? fallback = arguments.Keywords.GetValueOrDefault("default");
            return items.Select(item => GetAttribute(item, TemplateValues.ToText(attribute)) is Undefined && fallback is not null
                ? fallback
                : GetAttribute(item, TemplateValues.ToText(attribute))).ToList();
        }
        string filter = arguments.GetString(0, "filter") ?? throw new ChatTemplateException("map() needs a filter name or attribute=");
        if (!HasFilter(filter))
        {
            throw new ChatTemplateException($"filter '{filter}' is not supported by this template engine");
        }
        var rest = new TemplateArguments(filter, arguments.Positional.Skip(1).ToList(), []);
        return items.Select(item => ApplyFilter(filter, item, rest)).ToList();
    }

    /// <summary><c>select/reject(test, args…)</c> and <c>selectattr/rejectattr(attribute, test, args…)</c>.</summary>
    private static List<object?> SelectItems(object? value, TemplateArguments arguments, bool attribute, bool keep)
    {
        int first = attribute ? 1 : 0;
        string? attributeName = attribute ? arguments.GetString(0, "attribute") : null;
        string? test = arguments.Count > first ? arguments.GetString(first, "test") : null;
        if (test is not null && !HasTest(test))
        {
            throw new ChatTemplateException($"test '{test}' is not supported by this template engine");
        }
        var testArguments = new TemplateArguments(test ?? "truth", arguments.Positional.Skip(first + 1).ToList(), []);
        return TemplateValues.Iterate(value).Where(item =>
        {
            object? subject = attributeName is null ? item : GetAttribute(item, attributeName);
            bool passes = test is null ? TemplateValues.IsTruthy(subject) : ApplyTest(test, subject, testArguments);
            return passes == keep;
        }).ToList();
    }

    private static IEnumerable<string> Affixes(object? value) => value switch
    {
        string s => [s],
        IList list => list.Cast<object?>().Select(TemplateValues.ToText),
        _ => throw new ChatTemplateException($"startswith/endswith need a string or a tuple of strings, not {TemplateValues.TypeName(value)}"),
    };

    private static string Text(object? value) => TemplateValues.ToText(value);

    private static long AsInteger(object? value, string what) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        Undefined undefined => throw undefined.Error(),
        _ => throw new ChatTemplateException($"{what}: expected an integer, not {TemplateValues.TypeName(value)}"),
    };

    private static object? ToInteger(object? value, object? fallback) => value switch
    {
        long or bool => AsInteger(value, "int"),
        double d => (long)Math.Truncate(d),
        string s when long.TryParse(s.Trim().Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed) => parsed,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) => (long)Math.Truncate(parsed),
        _ => fallback,
    };

    private static object? ToFloat(object? value, object? fallback) => value switch
    {
        long or bool or double when TemplateValues.TryGetNumber(value, out double d) => d,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) => parsed,
        _ => fallback,
    };

    /// <summary>Python's strip: whitespace by default, otherwise any of the given characters.</summary>
    private static string PythonStrip(string s, string? chars, bool left, bool right)
    {
        if (chars is null)
        {
            return left && right ? s.Trim() : left ? s.TrimStart() : s.TrimEnd();
        }
        char[] set = chars.ToCharArray();
        return left && right ? s.Trim(set) : left ? s.TrimStart(set) : s.TrimEnd(set);
    }

    /// <summary>Python's split: on runs of whitespace (dropping empty pieces) when no separator is given.</summary>
    private static List<object?> PythonSplit(string s, string? separator, long maxSplit)
    {
        if (separator is null)
        {
            var pieces = new List<object?>();
            int i = 0;
            while (i < s.Length)
            {
                while (i < s.Length && char.IsWhiteSpace(s[i]))
                {
                    i++;
                }
                if (i >= s.Length)
                {
                    break;
                }
                if (maxSplit >= 0 && pieces.Count == maxSplit)
                {
                    pieces.Add(s[i..].TrimEnd());
                    break;
                }
                int start = i;
                while (i < s.Length && !char.IsWhiteSpace(s[i]))
                {
                    i++;
                }
                pieces.Add(s[start..i]);
            }
            return pieces;
        }
        if (separator.Length == 0)
        {
            throw new ChatTemplateException("split(): empty separator");
        }
        int count = maxSplit < 0 ? int.MaxValue : (int)Math.Min(int.MaxValue, maxSplit + 1);
        return s.Split(separator, count).Cast<object?>().ToList();
    }

    private static string PythonReplace(string s, string oldValue, string newValue, long count)
    {
        if (count < 0)
        {
            return oldValue.Length == 0 ? InsertBetweenRunes(s, newValue) : s.Replace(oldValue, newValue, StringComparison.Ordinal);
        }
        var builder = new StringBuilder();
        int position = 0;
        for (long done = 0; done < count && oldValue.Length > 0; done++)
        {
            int at = s.IndexOf(oldValue, position, StringComparison.Ordinal);
            if (at < 0)
            {
                break;
            }
            builder.Append(s, position, at - position).Append(newValue);
            position = at + oldValue.Length;
        }
        return builder.Append(s, position, s.Length - position).ToString();
    }

    private static string InsertBetweenRunes(string s, string insert) =>
        insert + string.Concat(s.EnumerateRunes().Select(r => r.ToString() + insert));

    private static int CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0)
        {
            return s.EnumerateRunes().Count() + 1;
        }
        int count = 0;
        for (int at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    private static int RuneIndex(string s, int utf16Index) => utf16Index < 0 ? -1 : s[..utf16Index].EnumerateRunes().Count();

    private static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    /// <summary>Jinja's title filter: each word (split at whitespace, "-", "(", "{", "[", "&lt;") capitalised.</summary>
    private static string JinjaTitle(string s)
    {
        var builder = new StringBuilder(s.Length);
        bool wordStart = true;
        foreach (char c in s)
        {
            bool separator = char.IsWhiteSpace(c) || c is '-' or '(' or '{' or '[' or '<';
            builder.Append(separator ? c : wordStart ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            wordStart = separator;
        }
        return builder.ToString();
    }

    /// <summary>Python's str.title: a letter after a non-letter is upper-cased, other letters lower-cased.</summary>
    private static string PythonTitle(string s)
    {
        var builder = new StringBuilder(s.Length);
        bool previousIsLetter = false;
        foreach (char c in s)
        {
            builder.Append(char.IsLetter(c) ? (previousIsLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)) : c);
            previousIsLetter = char.IsLetter(c);
        }
        return builder.ToString();
    }
}

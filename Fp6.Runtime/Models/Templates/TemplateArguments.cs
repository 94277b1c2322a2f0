namespace Fp6.Runtime.Models.Templates;

/// <summary>The arguments of a filter, test, method or function call, read by position or by name like Python's.</summary>
internal sealed class TemplateArguments(string callee, List<object?> positional, Dictionary<string, object?> keywords)
{
    internal static TemplateArguments None(string callee) => new(callee, [], []);

    internal int Count => positional.Count;

    internal List<object?> Positional => positional;

    internal Dictionary<string, object?> Keywords => keywords;

    /// <summary>The argument at <paramref name="position"/> or named <paramref name="name"/>, else <paramref name="fallback"/>.</summary>
    internal object? Get(int position, string name, object? fallback = null)
    {
        if (position < positional.Count)
        {
            return positional[position];
        }
        return keywords.TryGetValue(name, out object? value) ? value : fallback;
    }

    /// <summary>A required argument.</summary>
    internal object? Required(int position, string name) =>
        position < positional.Count || keywords.ContainsKey(name)
            ? Get(position, name)
            : throw new ChatTemplateException($"{callee}() missing required argument '{name}'");

    internal string? GetString(int position, string name, string? fallback = null) => Get(position, name, fallback) switch
    {
        null => null,
        string s => s,
        Undefined => fallback,
        object other => throw new ChatTemplateException($"{callee}(): argument '{name}' must be a string, not {TemplateValues.TypeName(other)}"),
    };

    internal long? GetInteger(int position, string name, long? fallback = null) => Get(position, name, fallback) switch
    {
        null => null,
        long l => l,
        bool b => b ? 1 : 0,
        Undefined => fallback,
        object other => throw new ChatTemplateException($"{callee}(): argument '{name}' must be an integer, not {TemplateValues.TypeName(other)}"),
    };
}

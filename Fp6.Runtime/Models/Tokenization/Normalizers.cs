using System.Text;

namespace Fp6.Runtime.Models.Tokenization;

/// <summary>A tokenizer.json normalizer: rewrites each input piece (the text between added tokens) before pre-tokenization.</summary>
internal interface INormalizer
{
    string Normalize(string text);
}

/// <summary>Runs normalizers one after another.</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<INormalizer> steps) : INormalizer
{
    public string Normalize(string text)
    {
        foreach (INormalizer step in steps)
        {
            text = step.Normalize(text);
        }
        return text;
    }
}

/// <summary>Prepends a string to non-empty text (Llama 2 prepends "▁" so the first word looks like any other).</summary>
internal sealed class PrependNormalizer(string prefix) : INormalizer
{
    public string Normalize(string text) => text.Length == 0 ? text : prefix + text;
}

/// <summary>Replaces a literal string or a regex match (Llama 2: " " → "▁").</summary>
internal sealed class ReplaceNormalizer : INormalizer
{
    private readonly string? _literal;
    private readonly PatternRegex? _regex;
    private readonly string _content;

    internal ReplaceNormalizer(string? literal, PatternRegex? regex, string content)
    {
        _literal = literal;
        _regex = regex;
        _content = content;
    }

    public string Normalize(string text) =>
        _regex is not null ? _regex.Replace(text, _content)
        : _literal!.Length == 0 ? text
        : text.Replace(_literal, _content, StringComparison.Ordinal);
}

/// <summary>Unicode normalization (NFC, NFD, NFKC, NFKD).</summary>
internal sealed class UnicodeFormNormalizer(NormalizationForm form) : INormalizer
{
    public string Normalize(string text) => text.IsNormalized(form) ? text : text.Normalize(form);
}

/// <summary>Lower-cases the text (culture-invariant).</summary>
internal sealed class LowercaseNormalizer : INormalizer
{
    public string Normalize(string text) => text.ToLowerInvariant();
}

/// <summary>Strips whitespace on the left and/or right.</summary>
internal sealed class StripNormalizer(bool left, bool right) : INormalizer
{
    public string Normalize(string text) => (left, right) switch
    {
        (true, true) => text.Trim(),
        (true, false) => text.TrimStart(),
        (false, true) => text.TrimEnd(),
        _ => text,
    };
}

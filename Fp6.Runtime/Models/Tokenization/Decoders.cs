using System.Globalization;
using System.Text;

namespace Fp6.Runtime.Models.Tokenization;

/// <summary>
/// A tokenizer.json decoder. Like Hugging Face's, it maps the list of token strings to a new list (a chain of decoders
/// passes the list along) and the final list is concatenated.
/// </summary>
internal interface IDecoder
{
    List<string> DecodeChain(List<string> tokens);
}

/// <summary>Runs decoders one after another.</summary>
internal sealed class SequenceDecoder(IReadOnlyList<IDecoder> steps) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        foreach (IDecoder step in steps)
        {
            tokens = step.DecodeChain(tokens);
        }
        return tokens;
    }
}

/// <summary>
/// Byte-level decoding: every token's characters back to bytes, all tokens' bytes joined, then read as UTF-8 with
/// U+FFFD for each invalid sequence.
/// </summary>
internal sealed class ByteLevelDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (string token in tokens)
        {
            ByteLevelAlphabet.AppendBytes(token, bytes);
        }
        return [Encoding.UTF8.GetString(bytes.ToArray())];
    }
}

/// <summary>Replaces a literal or a regex in every token ("▁" → " " for SentencePiece-style vocabularies).</summary>
internal sealed class ReplaceDecoder(string? literal, PatternRegex? regex, string content) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) =>
        tokens.ConvertAll(token =>
            regex is not null ? regex.Replace(token, content)
            : string.IsNullOrEmpty(literal) ? token
            : token.Replace(literal, content, StringComparison.Ordinal));
}

/// <summary>
/// Turns runs of byte tokens "&lt;0xNN&gt;" into text. A run that is not valid UTF-8 becomes one U+FFFD per byte
/// (Hugging Face's rule, which differs from the per-sequence replacement of the byte-level decoder).
/// </summary>
internal sealed class ByteFallbackDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        var pendingBytes = new List<byte>();
        foreach (string token in tokens)
        {
            if (TryParseByteToken(token, out byte value))
            {
                pendingBytes.Add(value);
                continue;
            }
            Flush(pendingBytes, output);
            output.Add(token);
        }
        Flush(pendingBytes, output);
        return output;
    }

    /// <summary>True for "&lt;0xNN&gt;" (two hex digits), the form SentencePiece byte tokens take.</summary>
    internal static bool TryParseByteToken(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    private static void Flush(List<byte> pendingBytes, List<string> output)
    {
        if (pendingBytes.Count == 0)
        {
            return;
        }
        try
        {
            output.Add(StrictUtf8.GetString(pendingBytes.ToArray()));
        }
        catch (DecoderFallbackException)
        {
            for (int i = 0; i < pendingBytes.Count; i++)
            {
                output.Add("\uFFFD");
            }
        }
        pendingBytes.Clear();
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

/// <summary>Concatenates all tokens into one.</summary>
internal sealed class FuseDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

/// <summary>Removes up to <c>start</c> leading and <c>stop</c> trailing occurrences of a character from every token.</summary>
internal sealed class StripDecoder(char content, int start, int stop) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) =>
        tokens.ConvertAll(token =>
        {
            int from = 0;
            while (from < start && from < token.Length && token[from] == content)
            {
                from++;
            }
            int to = token.Length;
            while (token.Length - to < stop && to > from && token[to - 1] == content)
            {
                to--;
            }
            return token[from..to];
        });
}

/// <summary>
/// Undoes Metaspace: "▁" becomes a space, except in the first token where (unless nothing was prepended) every "▁" is
/// dropped — Hugging Face's exact rule.
/// </summary>
internal sealed class MetaspaceDecoder(char replacement, PrependScheme prependScheme) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            bool dropReplacement = i == 0 && prependScheme != PrependScheme.Never;
            var builder = new StringBuilder(tokens[i].Length);
            foreach (char c in tokens[i])
            {
                if (c != replacement)
                {
                    builder.Append(c);
                }
                else if (!dropReplacement)
                {
                    builder.Append(' ');
                }
            }
            output.Add(builder.ToString());
        }
        return output;
    }
}

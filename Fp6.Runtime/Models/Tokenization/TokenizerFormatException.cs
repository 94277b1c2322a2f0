namespace Fp6.Runtime.Models.Tokenization;

/// <summary>A tokenizer file is malformed or uses a component this tokenizer does not implement; the message names the file and the part.</summary>
public sealed class TokenizerFormatException : FormatException
{
    /// <summary>Creates the exception; <paramref name="source"/> names the file (or "tokenizer.json").</summary>
    public TokenizerFormatException(string source, string problem, Exception? innerException = null)
        : base($"{source}: {problem}", innerException)
    {
        SourceFile = source;
    }

    /// <summary>The file (or description) the problem was found in.</summary>
    public string SourceFile { get; }
}

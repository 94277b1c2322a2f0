namespace Fp6.Runtime.Models.Templates;

/// <summary>
/// A chat template could not be parsed or rendered: a syntax error, a construct this engine does not support (the
/// message names it and its line and column), an undefined value used, or the template's own
/// <c>raise_exception(...)</c> (then <see cref="RaisedByTemplate"/> is true and the message is the template's).
/// </summary>
public sealed class ChatTemplateException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ChatTemplateException(string message, bool raisedByTemplate = false, Exception? innerException = null)
        : base(message, innerException)
    {
        RaisedByTemplate = raisedByTemplate;
    }

    /// <summary>True when the template itself rejected the input with <c>raise_exception</c> (e.g. roles that do not alternate).</summary>
    public bool RaisedByTemplate { get; }

    /// <summary>True once the message says where in the template the error happened.</summary>
    internal bool HasLocation { get; init; }
}

namespace Fp6.Runtime.Models.Templates;

/// <summary>One chat turn as templates see it: <c>message['role']</c> and <c>message['content']</c>.</summary>
/// <param name="Role">"system", "user", "assistant" (or "tool").</param>
/// <param name="Content">The text of the turn.</param>
public sealed record ChatTemplateMessage(string Role, string Content);

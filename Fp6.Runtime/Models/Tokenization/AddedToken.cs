namespace Fp6.Runtime.Models.Tokenization;

/// <summary>
/// A token matched verbatim in the input before normalization and BPE run (an entry of tokenizer.json's
/// <c>added_tokens</c>), with Hugging Face's flags.
/// </summary>
/// <param name="Id">The token id.</param>
/// <param name="Content">The exact text that stands for the token, e.g. "&lt;s&gt;" or "&lt;|im_start|&gt;".</param>
/// <param name="Special">Special tokens are dropped by decoding with skipSpecialTokens and can be excluded from matching.</param>
/// <param name="LStrip">The match swallows the whitespace to its left.</param>
/// <param name="RStrip">The match swallows the whitespace to its right.</param>
/// <param name="SingleWord">Only matches when not glued to a word character on either side.</param>
/// <param name="Normalized">Matched against the normalized text rather than the raw input.</param>
public sealed record AddedToken(int Id, string Content, bool Special, bool LStrip = false, bool RStrip = false, bool SingleWord = false, bool Normalized = false);

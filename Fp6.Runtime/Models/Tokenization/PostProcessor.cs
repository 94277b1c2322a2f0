namespace Fp6.Runtime.Models.Tokenization;

/// <summary>
/// What encoding with special tokens adds around a single sequence: BOS-style ids in front, EOS-style ids behind
/// (tokenizer.json's TemplateProcessing / BertProcessing / RobertaProcessing, or tokenizer_config.json's
/// add_bos_token / add_eos_token).
/// </summary>
internal sealed record PostProcessor(int[] Prefix, int[] Suffix)
{
    internal static PostProcessor None { get; } = new([], []);

    /// <summary>The result of applying <paramref name="inner"/> first and this processor around it.</summary>
    internal PostProcessor Wrap(PostProcessor inner) => new([.. Prefix, .. inner.Prefix], [.. inner.Suffix, .. Suffix]);
}

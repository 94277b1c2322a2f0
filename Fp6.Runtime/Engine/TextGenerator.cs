using Fp6.Runtime.Models.Tokenization;
using Fp6.Runtime.Sampling;

namespace Fp6.Runtime.Engine;

/// <summary>
/// Generates text for one sequence at a time on a <see cref="CpuPagedModel"/>: the prompt is prefilled in chunks,
/// then tokens are decoded one by one, detokenized incrementally (never splitting a UTF-8 character) and checked
/// against end-of-sequence tokens and stop sequences. The multi-sequence SplitFuse scheduler builds on the same model.
/// </summary>
public sealed class TextGenerator(CpuPagedModel model, Tokenizer tokenizer, IReadOnlyCollection<int> endTokenIds, int maxPositions, int prefillChunk = 256)
{
    /// <summary>Generates a continuation of <paramref name="prompt"/> (token ids, special tokens included).</summary>
    public IEnumerable<GeneratedText> Generate(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(options);
        if (prompt.Count == 0)
        {
            throw new ArgumentException("The prompt has no tokens.", nameof(prompt));
        }

        if (prompt.Count >= maxPositions)
        {
            throw new ArgumentException($"The prompt has {prompt.Count} tokens; the model serves at most {maxPositions} positions.", nameof(prompt));
        }

        var sampler = new TokenSampler(options.Sampling);
        var blocks = new List<int>();
        try
        {
            int budget = Math.Min(options.MaxNewTokens, maxPositions - prompt.Count);
            model.Allocator.EnsureCapacity(blocks, prompt.Count + budget);
            float[] logits = [];
            for (int start = 0; start < prompt.Count; start += prefillChunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(prefillChunk, prompt.Count - start);
                logits = model.Step([new PagedStep(Slice(prompt, start, count), start, blocks)])[0];
            }

            StreamingDetokenizer detokenizer = tokenizer.CreateStreamingDetokenizer(skipSpecialTokens: true);
            var pending = new System.Text.StringBuilder();
            int position = prompt.Count;
            for (int generated = 0; ; generated++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (generated == budget)
                {
                    yield return new GeneratedText(pending.Append(detokenizer.Flush()).ToString(), -1, GenerationFinish.Length);
                    yield break;
                }

                int token = sampler.Sample(logits);
                if (endTokenIds.Contains(token))
                {
                    yield return new GeneratedText(pending.Append(detokenizer.Flush()).ToString(), token, GenerationFinish.Stop);
                    yield break;
                }

                pending.Append(detokenizer.Append(token));
                (string ready, bool stopped) = SplitAtStopSequence(pending, options.StopSequences);
                if (stopped)
                {
                    yield return new GeneratedText(ready, token, GenerationFinish.Stop);
                    yield break;
                }

                yield return new GeneratedText(ready, token, null);
                logits = model.Step([new PagedStep([token], position, blocks)])[0];
                position++;
            }
        }
        finally
        {
            model.Allocator.Release(blocks);
        }
    }

    // Returns the text that can be emitted now. Text that could still become a stop sequence is held back.
    private static (string Ready, bool Stopped) SplitAtStopSequence(System.Text.StringBuilder pending, IReadOnlyList<string> stops)
    {
        string text = pending.ToString();
        foreach (string stop in stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (stop.Length > 0 && at >= 0)
            {
                pending.Clear();
                return (text[..at], true);
            }
        }

        int hold = 0;
        foreach (string stop in stops)
        {
            for (int length = Math.Min(stop.Length - 1, text.Length); length > hold; length--)
            {
                if (text.EndsWith(stop[..length], StringComparison.Ordinal))
                {
                    hold = length;
                    break;
                }
            }
        }

        pending.Clear().Append(text[(text.Length - hold)..]);
        return (text[..(text.Length - hold)], false);
    }

    private static int[] Slice(IReadOnlyList<int> tokens, int start, int count)
    {
        var slice = new int[count];
        for (int i = 0; i < count; i++)
        {
            slice[i] = tokens[start + i];
        }

        return slice;
    }
}

using Fp6.Runtime.Engine;

namespace Fp6.Runtime.Evaluation;

/// <summary>The result of a perplexity run.</summary>
/// <param name="MeanNegativeLogLikelihood">Mean NLL per predicted token, in nats.</param>
/// <param name="PredictedTokens">Tokens scored.</param>
/// <param name="Windows">Windows evaluated.</param>
public sealed record PerplexityResult(double MeanNegativeLogLikelihood, long PredictedTokens, int Windows)
{
    /// <summary>exp(mean NLL).</summary>
    public double Perplexity => Math.Exp(MeanNegativeLogLikelihood);
}

/// <summary>
/// Perplexity over a token stream cut into non-overlapping windows: each window of up to <c>windowLength</c> tokens
/// (optionally led by BOS) runs as one prefill step of a graph that unembeds every token, and every token after the
/// first of the window is scored (NLL computed in double from float logits with a max-subtracted log-sum-exp).
/// </summary>
public static class PerplexityEvaluator
{
    /// <summary>Evaluates <paramref name="tokens"/> with a model whose graph unembeds every token.</summary>
    /// <param name="model">A CPU paged model built with every token unembedded.</param>
    /// <param name="tokens">The text, tokenized without special tokens.</param>
    /// <param name="windowLength">Tokens per window, BOS included.</param>
    /// <param name="bosTokenId">Prepended to every window when not null.</param>
    /// <param name="maxWindows">Stop after this many windows (0: all).</param>
    public static PerplexityResult Evaluate(CpuPagedModel model, IReadOnlyList<int> tokens, int windowLength, int? bosTokenId, int maxWindows = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        int textPerWindow = windowLength - (bosTokenId is null ? 0 : 1);
        double total = 0;
        long predicted = 0;
        int windows = 0;
        var blocks = new List<int>();
        for (int start = 0; start + 1 < tokens.Count && (maxWindows == 0 || windows < maxWindows); start += textPerWindow)
        {
            var window = new List<int>(windowLength);
            if (bosTokenId is int bos)
            {
                window.Add(bos);
            }

            for (int i = start; i < Math.Min(tokens.Count, start + textPerWindow); i++)
            {
                window.Add(tokens[i]);
            }

            if (window.Count < 2)
            {
                break;
            }

            model.Allocator.EnsureCapacity(blocks, window.Count);
            float[][] logits = model.Step([new PagedStep(window, 0, blocks)]);
            for (int position = 0; position + 1 < window.Count; position++)
            {
                total += NegativeLogLikelihood(logits[position], window[position + 1]);
                predicted++;
            }

            windows++;
        }

        model.Allocator.Release(blocks);
        return new PerplexityResult(predicted == 0 ? double.NaN : total / predicted, predicted, windows);
    }

    /// <summary>-log softmax(logits)[target], in double.</summary>
    public static double NegativeLogLikelihood(ReadOnlySpan<float> logits, int target)
    {
        double max = double.NegativeInfinity;
        foreach (float l in logits)
        {
            max = Math.Max(max, l);
        }

        double sum = 0;
        foreach (float l in logits)
        {
            sum += Math.Exp(l - max);
        }

        return Math.Log(sum) + max - logits[target];
    }
}

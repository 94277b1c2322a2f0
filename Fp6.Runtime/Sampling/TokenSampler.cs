namespace Fp6.Runtime.Sampling;

/// <summary>
/// Picks the next token: greedy at temperature 0, otherwise softmax(logits / temperature) restricted to the top-k
/// tokens and then to the top-p nucleus, sampled with a seeded generator. Not thread-safe: one per sequence.
/// </summary>
public sealed class TokenSampler
{
    private readonly SamplingOptions _options;
    private readonly Random _random;
    private int[] _order = [];
    private double[] _probabilities = [];

    /// <summary>A sampler with the given options.</summary>
    public TokenSampler(SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _random = options.Seed is int seed ? new Random(seed) : new Random();
    }

    /// <summary>The token chosen from <paramref name="logits"/>.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty)
        {
            throw new ArgumentException("No logits to sample from.", nameof(logits));
        }

        if (_options.Temperature == 0)
        {
            return ArgMax(logits);
        }

        int n = logits.Length;
        if (_order.Length != n)
        {
            _order = new int[n];
            _probabilities = new double[n];
        }

        for (int i = 0; i < n; i++)
        {
            _order[i] = i;
        }

        // Sort by logit, descending (stable on ties by index), then keep top-k.
        float[] copy = logits.ToArray();
        Array.Sort(_order, (a, b) => copy[b] != copy[a] ? copy[b].CompareTo(copy[a]) : a.CompareTo(b));
        int keep = _options.TopK > 0 ? Math.Min(_options.TopK, n) : n;
        double max = copy[_order[0]];
        double sum = 0;
        for (int i = 0; i < keep; i++)
        {
            _probabilities[i] = Math.Exp((copy[_order[i]] - max) / _options.Temperature);
            sum += _probabilities[i];
        }

        // Nucleus: the smallest prefix whose mass reaches top_p.
        double cumulative = 0;
        int nucleus = keep;
        for (int i = 0; i < keep; i++)
        {
            cumulative += _probabilities[i] / sum;
            if (cumulative >= _options.TopP)
            {
                nucleus = i + 1;
                break;
            }
        }

        double mass = 0;
        for (int i = 0; i < nucleus; i++)
        {
            mass += _probabilities[i];
        }

        double draw = _random.NextDouble() * mass;
        for (int i = 0; i < nucleus; i++)
        {
            draw -= _probabilities[i];
            if (draw <= 0)
            {
                return _order[i];
            }
        }

        return _order[nucleus - 1];
    }

    /// <summary>The index of the largest logit (the first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }
}

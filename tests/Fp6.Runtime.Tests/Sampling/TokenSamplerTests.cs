using Fp6.Runtime.Sampling;

namespace Fp6.Runtime.Tests.Sampling;

[TestClass]
public sealed class TokenSamplerTests
{
    private static readonly float[] s_logits = [1f, 3f, 2f, 3f, -1f, 0.5f];

    [TestMethod]
    public void Greedy_picks_the_first_largest_logit()
    {
        Assert.AreEqual(1, new TokenSampler(SamplingOptions.Greedy).Sample(s_logits));
    }

    [TestMethod]
    public void The_same_seed_gives_the_same_tokens()
    {
        var options = new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, Seed = 17 };
        var a = new TokenSampler(options);
        var b = new TokenSampler(options);
        int[] first = Enumerable.Range(0, 50).Select(_ => a.Sample(s_logits)).ToArray();
        int[] second = Enumerable.Range(0, 50).Select(_ => b.Sample(s_logits)).ToArray();
        CollectionAssert.AreEqual(first, second);
        Assert.IsGreaterThan(2, first.Distinct().Count(), "temperature 1 actually samples");
    }

    [TestMethod]
    public void Top_k_restricts_to_the_k_most_likely_tokens()
    {
        var sampler = new TokenSampler(new SamplingOptions { Temperature = 5f, TopK = 3, TopP = 1f, Seed = 1 });
        var seen = Enumerable.Range(0, 2000).Select(_ => sampler.Sample(s_logits)).ToHashSet();
        CollectionAssert.AreEquivalent(new[] { 1, 2, 3 }, seen.ToArray());
    }

    [TestMethod]
    public void Top_p_keeps_the_smallest_nucleus()
    {
        // Probabilities ~ (0.665, 0.245, 0.090) at temperature 1: p = 0.6 keeps one token, p = 0.8 keeps two.
        float[] logits = [2f, 1f, 0f];
        var one = new TokenSampler(new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 0.6f, Seed = 3 });
        Assert.IsTrue(Enumerable.Range(0, 500).All(_ => one.Sample(logits) == 0));
        var two = new TokenSampler(new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 0.8f, Seed = 3 });
        CollectionAssert.AreEquivalent(new[] { 0, 1 }, Enumerable.Range(0, 2000).Select(_ => two.Sample(logits)).ToHashSet().ToArray());
    }

    [TestMethod]
    public void Sampling_frequencies_follow_the_softmax()
    {
        float[] logits = [0f, (float)Math.Log(3)];
        var sampler = new TokenSampler(new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, Seed = 11 });
        int ones = Enumerable.Range(0, 20000).Count(_ => sampler.Sample(logits) == 1);
        Assert.AreEqual(0.75, ones / 20000.0, 0.015);
    }

    [TestMethod]
    public void Bad_options_are_rejected_with_the_option_named()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TokenSampler(new SamplingOptions { TopP = 0 }));
        Assert.AreEqual("TopP", error.ParamName);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TokenSampler(new SamplingOptions { Temperature = -1 }));
    }
}

using Fp6.Runtime.Engine;
using Fp6.Runtime.Evaluation;
using Fp6.Runtime.Graph;
using Fp6.Runtime.Onnx;

namespace Fp6.Runtime.Tests.Graph;

[TestClass]
public sealed class PerplexityEvaluatorTests
{
    [TestMethod]
    public void Perplexity_matches_the_reference_forward_pass()
    {
        var model = new TinyLlama(TinyLlama.SmallSpec(), seed: 21);
        var random = new Random(5);
        int[] text = Enumerable.Range(0, 23).Select(_ => random.Next(1, model.Spec.VocabSize)).ToArray();
        const int window = 8, bos = 0;

        using OnnxModel graph = LlamaGraphBuilder.Build(model.Spec, model, GraphTarget.Cpu, unembedAllTokens: true);
        using var runner = new CpuPagedModel(graph.ToByteArray(), model.Spec, 8, 4);
        PerplexityResult result = PerplexityEvaluator.Evaluate(runner, text, window, bos);

        // Reference: the same windows (BOS + 7 text tokens), each position scored from the reference logits of its prefix.
        double total = 0;
        int count = 0;
        for (int start = 0; start < text.Length; start += window - 1)
        {
            int[] w = [bos, .. text.Skip(start).Take(window - 1)];
            for (int p = 1; p < w.Length; p++)
            {
                double[] logits = ReferenceLlama.LastLogits(model, w[..p]);
                double max = logits.Max();
                total += Math.Log(logits.Sum(l => Math.Exp(l - max))) + max - logits[w[p]];
                count++;
            }
        }

        Assert.AreEqual(count, result.PredictedTokens);
        Assert.AreEqual(4, result.Windows);
        Assert.AreEqual(total / count, result.MeanNegativeLogLikelihood, 1e-4);
    }
}

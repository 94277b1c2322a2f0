using Fp6.Runtime.Graph;

namespace Fp6.Runtime.Tests.Graph;

/// <summary>
/// A straightforward Llama forward pass in double precision over a whole sequence (no cache, no batching), written
/// from the architecture's definition: RMSNorm, RoPE (half-split), grouped-query causal attention, SwiGLU MLP.
/// It is the independent reference the ONNX graph is checked against.
/// </summary>
internal static class ReferenceLlama
{
    /// <summary>The logits of the last token of <paramref name="tokens"/>.</summary>
    public static double[] LastLogits(TinyLlama model, IReadOnlyList<int> tokens)
    {
        LlamaGraphSpec s = model.Spec;
        int h = s.HiddenSize, d = s.HeadSize, n = tokens.Count;
        var x = new double[n][];
        for (int t = 0; t < n; t++)
        {
            x[t] = Row(model.Values("model.embed_tokens.weight"), tokens[t], h);
        }

        for (int layer = 0; layer < s.LayerCount; layer++)
        {
            string p = $"model.layers.{layer}.";
            var q = new double[n][];
            var k = new double[n][];
            var v = new double[n][];
            for (int t = 0; t < n; t++)
            {
                double[] a = RmsNorm(x[t], model.Values(p + "input_layernorm.weight"), s.RmsNormEpsilon);
                q[t] = Linear(model.Values(p + "self_attn.q_proj.weight"), a, s.HeadCount * d);
                k[t] = Linear(model.Values(p + "self_attn.k_proj.weight"), a, s.KvHeadCount * d);
                v[t] = Linear(model.Values(p + "self_attn.v_proj.weight"), a, s.KvHeadCount * d);
                if (s.AttentionBias)
                {
                    AddInPlace(q[t], model.Values(p + "self_attn.q_proj.bias"));
                    AddInPlace(k[t], model.Values(p + "self_attn.k_proj.bias"));
                    AddInPlace(v[t], model.Values(p + "self_attn.v_proj.bias"));
                }

                Rope(q[t], s.HeadCount, d, t, s.RopeInverseFrequencies);
                Rope(k[t], s.KvHeadCount, d, t, s.RopeInverseFrequencies);
            }

            for (int t = 0; t < n; t++)
            {
                var attention = new double[s.HeadCount * d];
                for (int head = 0; head < s.HeadCount; head++)
                {
                    int g = head / (s.HeadCount / s.KvHeadCount);
                    var scores = new double[t + 1];
                    for (int j = 0; j <= t; j++)
                    {
                        for (int c = 0; c < d; c++)
                        {
                            scores[j] += q[t][(head * d) + c] * k[j][(g * d) + c];
                        }

                        scores[j] /= Math.Sqrt(d);
                    }

                    double max = scores.Max();
                    double sum = scores.Sum(z => Math.Exp(z - max));
                    for (int j = 0; j <= t; j++)
                    {
                        double weight = Math.Exp(scores[j] - max) / sum;
                        for (int c = 0; c < d; c++)
                        {
                            attention[(head * d) + c] += weight * v[j][(g * d) + c];
                        }
                    }
                }

                double[] o = Linear(model.Values(p + "self_attn.o_proj.weight"), attention, h);
                AddInPlace(x[t], o);
                double[] m = RmsNorm(x[t], model.Values(p + "post_attention_layernorm.weight"), s.RmsNormEpsilon);
                double[] gate = Linear(model.Values(p + "mlp.gate_proj.weight"), m, s.IntermediateSize);
                double[] up = Linear(model.Values(p + "mlp.up_proj.weight"), m, s.IntermediateSize);
                for (int i = 0; i < gate.Length; i++)
                {
                    gate[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
                }

                AddInPlace(x[t], Linear(model.Values(p + "mlp.down_proj.weight"), gate, h));
            }
        }

        double[] last = RmsNorm(x[n - 1], model.Values("model.norm.weight"), s.RmsNormEpsilon);
        string unembedding = s.TieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
        return Linear(model.Values(unembedding), last, s.VocabSize);
    }

    private static double[] Row(float[] matrix, int row, int width) =>
        matrix.AsSpan(row * width, width).ToArray().Select(v => (double)v).ToArray();

    private static double[] Linear(float[] weight, double[] x, int outFeatures)
    {
        var y = new double[outFeatures];
        for (int o = 0; o < outFeatures; o++)
        {
            for (int i = 0; i < x.Length; i++)
            {
                y[o] += weight[(o * x.Length) + i] * x[i];
            }
        }

        return y;
    }

    private static double[] RmsNorm(double[] x, float[] weight, double epsilon)
    {
        double meanSquare = x.Sum(v => v * v) / x.Length;
        double inverse = 1 / Math.Sqrt(meanSquare + epsilon);
        return x.Select((v, i) => v * inverse * weight[i]).ToArray();
    }

    private static void Rope(double[] x, int heads, int d, int position, float[] frequencies)
    {
        int half = d / 2;
        for (int head = 0; head < heads; head++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = position * (double)frequencies[i];
                double x0 = x[(head * d) + i], x1 = x[(head * d) + i + half];
                x[(head * d) + i] = (x0 * Math.Cos(angle)) - (x1 * Math.Sin(angle));
                x[(head * d) + i + half] = (x1 * Math.Cos(angle)) + (x0 * Math.Sin(angle));
            }
        }
    }

    private static void AddInPlace(double[] x, double[] y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            x[i] += y[i];
        }
    }

    private static void AddInPlace(double[] x, float[] y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            x[i] += y[i];
        }
    }
}

namespace Fp6.Runtime.Tests.Onnx;

/// <summary>
/// A straightforward reading of the com.microsoft.PagedAttention algorithm (ORT brief §1.7), in double precision,
/// written independently of the native op: phase 1 writes every token's (rotated) K and V into its cache slot, phase 2
/// attends each (token, head) to positions 0..p of its sequence with an explicit max-subtracted softmax.
/// </summary>
internal static class PagedAttentionReference
{
    public static float[] Run(
        float[] query, float[] key, float[] value, float[] keyCache, float[] valueCache,
        int[] cu, int[] past, int[] blockTable, int maxBlocks, float[]? cos, float[]? sin,
        int numHeads, int kvHeads, int headSize, int blockSize, bool interleaved = false, int window = -1)
    {
        int tokens = cu[^1];
        int rotaryHalf = cos is null ? 0 : cos.Length / 4096;
        var q = (float[])query.Clone();
        for (int t = 0; t < tokens; t++)
        {
            (int b, int p) = Place(cu, past, t);
            var k = new float[kvHeads * headSize];
            Array.Copy(key, t * kvHeads * headSize, k, 0, k.Length);
            if (cos is not null)
            {
                for (int h = 0; h < numHeads; h++)
                {
                    Rotate(q, (t * numHeads * headSize) + (h * headSize), cos, sin!, p, rotaryHalf, interleaved);
                }

                for (int g = 0; g < kvHeads; g++)
                {
                    Rotate(k, g * headSize, cos, sin!, p, rotaryHalf, interleaved);
                }
            }

            int slot = (blockTable[(b * maxBlocks) + (p / blockSize)] * blockSize) + (p % blockSize);
            Array.Copy(k, 0, keyCache, slot * kvHeads * headSize, k.Length);
            Array.Copy(value, t * kvHeads * headSize, valueCache, slot * kvHeads * headSize, k.Length);
        }

        var output = new float[tokens * numHeads * headSize];
        double scale = 1.0 / Math.Sqrt(headSize);
        for (int t = 0; t < tokens; t++)
        {
            (int b, int p) = Place(cu, past, t);
            for (int h = 0; h < numHeads; h++)
            {
                int g = h / (numHeads / kvHeads);
                int first = window > 0 ? Math.Max(0, p - window + 1) : 0;
                var logits = new double[p + 1 - first];
                for (int j = first; j <= p; j++)
                {
                    int slot = (blockTable[(b * maxBlocks) + (j / blockSize)] * blockSize) + (j % blockSize);
                    double dot = 0;
                    for (int c = 0; c < headSize; c++)
                    {
                        dot += q[(t * numHeads * headSize) + (h * headSize) + c] * (double)keyCache[(((slot * kvHeads) + g) * headSize) + c];
                    }

                    logits[j - first] = dot * scale;
                }

                double max = logits.Max();
                double[] weights = logits.Select(z => Math.Exp(z - max)).ToArray();
                double sum = weights.Sum();
                for (int c = 0; c < headSize; c++)
                {
                    double acc = 0;
                    for (int j = first; j <= p; j++)
                    {
                        int slot = (blockTable[(b * maxBlocks) + (j / blockSize)] * blockSize) + (j % blockSize);
                        acc += weights[j - first] * valueCache[(((slot * kvHeads) + g) * headSize) + c];
                    }

                    output[(t * numHeads * headSize) + (h * headSize) + c] = (float)(acc / sum);
                }
            }
        }

        return output;
    }

    private static (int Sequence, int Position) Place(int[] cu, int[] past, int token)
    {
        int b = 0;
        while (token >= cu[b + 1])
        {
            b++;
        }

        return (b, past[b] + token - cu[b]);
    }

    private static void Rotate(float[] x, int offset, float[] cos, float[] sin, int position, int half, bool interleaved)
    {
        for (int i = 0; i < half; i++)
        {
            int i0 = interleaved ? offset + (2 * i) : offset + i;
            int i1 = interleaved ? offset + (2 * i) + 1 : offset + i + half;
            float c = cos[(position * half) + i], s = sin[(position * half) + i];
            float x0 = x[i0], x1 = x[i1];
            x[i0] = (x0 * c) - (x1 * s);
            x[i1] = (x1 * c) + (x0 * s);
        }
    }
}

using System.Diagnostics;

namespace Fp6.Bench;

/// <summary>Times an action: a few warm-up calls, then repeated calls for at least a minimum time; reports the median.</summary>
internal static class BenchTimer
{
    public static double MedianMilliseconds(Action action, int warmup = 3, int minIterations = 10, double minSeconds = 1.0)
    {
        for (int i = 0; i < warmup; i++)
        {
            action();
        }

        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (samples.Count < minIterations || total.Elapsed.TotalSeconds < minSeconds)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        samples.Sort();
        return samples[samples.Count / 2];
    }
}

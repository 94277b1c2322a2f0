namespace Fp6.Cli;

/// <summary>A one-line progress bar on standard error (plain lines when stderr is not a terminal).</summary>
internal sealed class ProgressBar : IProgress<Runtime.Conversion.ConversionProgress>
{
    private const int Width = 30;
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private int _lastPercent = -1;

    public void Report(Runtime.Conversion.ConversionProgress value)
    {
        int percent = value.Total == 0 ? 100 : value.Done * 100 / value.Total;
        int filled = percent * Width / 100;
        string line = $"{value.Stage} [{new string('#', filled)}{new string('.', Width - filled)}] {percent,3}% {value.Done}/{value.Total} {_clock.Elapsed:mm\\:ss} {value.Item}";
        if (_interactive)
        {
            Console.Error.Write("\r" + line.PadRight(Math.Max(line.Length, Console.WindowWidth - 1))[..Math.Max(1, Console.WindowWidth - 1)]);
        }
        else if (percent / 10 != _lastPercent / 10 || value.Done == value.Total)
        {
            Console.Error.WriteLine(line);
        }

        _lastPercent = percent;
    }

    public void Finish()
    {
        if (_interactive)
        {
            Console.Error.WriteLine();
        }
    }
}

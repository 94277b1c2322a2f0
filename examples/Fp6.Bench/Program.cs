using Fp6.Bench;

// Usage: Fp6.Bench cpu-linear [output.md] | quantize [output.md] | make-checkpoint <dir> [llama-1b|tiny]
string command = args.Length > 0 ? args[0] : "cpu-linear";
switch (command)
{
    case "cpu-linear":
        CpuLinearBenchmark.Run(args.Length > 1 ? args[1] : "docs/perf/cpu-linear.md");
        return 0;
    case "quantize":
        QuantizeBenchmark.Run(args.Length > 1 ? args[1] : "docs/perf/quantize.md");
        return 0;
    case "make-checkpoint" when args.Length > 1:
        RandomCheckpoint.Write(args[1], args.Length > 2 ? args[2] : "llama-1b");
        return 0;
    default:
        Console.Error.WriteLine($"unknown benchmark '{command}'; known: cpu-linear, quantize, make-checkpoint");
        return 2;
}

using Fp6.GpuCheck;

// Usage: Fp6.GpuCheck <path of libonnxruntime_providers_cuda.so>
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: Fp6.GpuCheck <libonnxruntime_providers_cuda.so>");
    return 2;
}

var checks = new CudaChecks(args[0]);
// "llama" as a second argument runs only the whole-graph check.
bool ok = (args.Length > 1 && args[1] == "llama" ? true : checks.Fp6Linear() & checks.PagedAttention())
    & checks.TinyLlama(!args.Contains("nofp6"), args.Contains("alltokens"));
Console.WriteLine(ok ? "ALL GPU CHECKS PASSED" : "GPU CHECKS FAILED");
return ok ? 0 : 1;

using Microsoft.ML.OnnxRuntime;
using Fp6.Runtime.Native;

namespace Fp6.Runtime.Engine;

/// <summary>Creates ONNX Runtime session options with the fp6llm custom ops registered.</summary>
public static class Fp6SessionOptions
{
    /// <summary>
    /// Session options for the CPU execution provider with our custom-op library registered.
    /// </summary>
    /// <param name="intraOpThreads">Threads for one operator (0: ONNX Runtime's default, one per core).</param>
    /// <exception cref="FileNotFoundException">The custom-op library is not next to the application.</exception>
    public static SessionOptions CreateForCpu(int intraOpThreads = 0)
    {
        string library = CustomOpsLibrary();
        var options = new SessionOptions { IntraOpNumThreads = intraOpThreads };
        try
        {
            options.RegisterCustomOpLibrary(library);
            // Idle intra-op threads would otherwise spin between runs and steal the cores from the caller.
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Session options for the CUDA execution provider, loaded as a plugin from <paramref name="cudaProviderLibrary"/>
    /// (libonnxruntime_providers_cuda.so of ONNX Runtime 1.29, see build/get-cuda-ep.sh), with our custom ops
    /// registered; nodes the CUDA EP cannot take fall back to the CPU EP.
    /// </summary>
    /// <param name="cudaProviderLibrary">Path of the CUDA EP library.</param>
    /// <param name="deviceId">The GPU to use.</param>
    /// <exception cref="InvalidOperationException">The library registered but exposes no CUDA device.</exception>
    public static SessionOptions CreateForCuda(string cudaProviderLibrary, int deviceId = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(cudaProviderLibrary);
        if (!File.Exists(cudaProviderLibrary))
        {
            throw new FileNotFoundException($"The CUDA execution provider library was not found at {cudaProviderLibrary}.", cudaProviderLibrary);
        }

        OrtEnv env = OrtEnv.Instance();
        lock (s_registrationLock)
        {
            if (!s_cudaRegistered)
            {
                env.RegisterExecutionProviderLibrary(CudaRegistrationName, cudaProviderLibrary);
                s_cudaRegistered = true;
            }
        }

        var devices = env.GetEpDevices().Where(d => d.EpName == "CUDAExecutionProvider").ToList();
        if (devices.Count <= deviceId)
        {
            throw new InvalidOperationException($"The CUDA execution provider exposes {devices.Count} device(s); device {deviceId} was asked for.");
        }

        var options = new SessionOptions();
        try
        {
            options.AppendExecutionProvider(env, [devices[deviceId]], new Dictionary<string, string>());
            options.RegisterCustomOpLibrary(CustomOpsLibrary());
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    private const string CudaRegistrationName = "fp6-cuda";
    private static readonly Lock s_registrationLock = new();
    private static bool s_cudaRegistered;

    private static string CustomOpsLibrary()
    {
        string library = NativeLibraryNames.CustomOpsPath;
        if (!File.Exists(library))
        {
            throw new FileNotFoundException(
                $"The fp6llm custom-op library was not found at {library}; it is built by CustomOps/ and copied next to every application that references Fp6.Runtime.",
                library);
        }

        return library;
    }
}

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
        string library = NativeLibraryNames.CustomOpsPath;
        if (!File.Exists(library))
        {
            throw new FileNotFoundException(
                $"The fp6llm custom-op library was not found at {library}; it is built by CustomOps/ and copied next to every application that references Fp6.Runtime.",
                library);
        }

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
}

namespace Fp6.Runtime.Native;

/// <summary>File names of the native libraries Fp6 loads; the build copies them next to every application.</summary>
public static class NativeLibraryNames
{
    /// <summary>The fp6llm custom-op library (Fp6Linear and friends), built from CustomOps/.</summary>
    public const string CustomOps = "libfp6_customops.so";

    /// <summary>The full path of the custom-op library next to the running application.</summary>
    public static string CustomOpsPath => Path.Combine(AppContext.BaseDirectory, CustomOps);
}

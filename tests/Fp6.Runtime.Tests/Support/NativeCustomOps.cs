using System.Runtime.InteropServices;

namespace Fp6.Runtime.Tests.Support;

/// <summary>The test hooks exported by libfp6_customops.so: native readers of the packed layouts.</summary>
internal static partial class NativeCustomOps
{
    private const string Library = "libfp6_customops.so";

    [LibraryImport(Library, EntryPoint = "fp6_unpack_rowblock32")]
    private static partial int UnpackRowBlock32(ref byte packed, long rows, long cols, ref byte codes);

    [LibraryImport(Library, EntryPoint = "fp6_unpack_tcfpx")]
    private static partial int UnpackTcFpx(ref byte packed, long rows, long cols, ref byte codes);

    [LibraryImport(Library, EntryPoint = "fp6_decode_e3m2")]
    public static partial float DecodeE3M2(byte code);

    [LibraryImport(Library, EntryPoint = "fp6_cpu_kernel_force_portable")]
    private static partial int ForcePortable(int portable);

    public static byte[] UnpackRowBlock32(byte[] packed, int rows, int cols)
    {
        var codes = new byte[rows * cols];
        UnpackRowBlock32(ref packed[0], rows, cols, ref codes[0]);
        return codes;
    }

    public static byte[] UnpackTcFpx(byte[] packed, int rows, int cols)
    {
        var codes = new byte[rows * cols];
        UnpackTcFpx(ref packed[0], rows, cols, ref codes[0]);
        return codes;
    }

    /// <summary>Selects the portable CPU kernel (true) or the AVX2 one; returns whether this CPU has AVX2.</summary>
    public static bool SelectPortableCpuKernel(bool portable) => ForcePortable(portable ? 1 : 0) != 0;
}

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

    [LibraryImport(Library, EntryPoint = "fp6_cpu_kernel_limit")]
    private static partial int LimitCpuKernel(int limit);

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

    /// <summary>Limits the CPU kernel paths the dispatcher may use; returns whether this CPU has the path asked for.</summary>
    public static bool LimitCpuKernel(CpuKernelPath path)
    {
        int available = LimitCpuKernel((int)path);
        return path switch
        {
            CpuKernelPath.Portable => true,
            CpuKernelPath.Avx2 => (available & 1) != 0,
            _ => (available & 2) != 0,
        };
    }
}

/// <summary>The CPU kernel paths (the values of fp6_cpu_kernel_limit).</summary>
internal enum CpuKernelPath
{
    /// <summary>The best the CPU has (AVX-512 panels for several tokens).</summary>
    Best = 0,

    /// <summary>Portable C++ only.</summary>
    Portable = 1,

    /// <summary>AVX2 at most.</summary>
    Avx2 = 2,
}

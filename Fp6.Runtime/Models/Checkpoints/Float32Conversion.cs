using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Fp6.Runtime.Models.Checkpoints;

/// <summary>Widens little-endian F32/F16/BF16 bytes to float32.</summary>
internal static class Float32Conversion
{
    /// <summary>Converts <paramref name="source"/> (whole elements of <paramref name="dtype"/>) into <paramref name="destination"/>.</summary>
    internal static void Convert(SafetensorsDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (!BitConverter.IsLittleEndian)
        {
            // safetensors data is little-endian; reinterpreting it in place is only right on a little-endian host.
            throw new PlatformNotSupportedException("reading safetensors data needs a little-endian machine");
        }
        switch (dtype)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                break;
            case SafetensorsDType.F16:
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination);
                break;
            case SafetensorsDType.BF16:
                ConvertBFloat16(MemoryMarshal.Cast<byte, ushort>(source), destination);
                break;
            default:
                throw new NotSupportedException($"dtype {dtype} cannot be read as float32");
        }
    }

    private static void ConvertBFloat16(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        // bfloat16 is the high half of a binary32, so widening is a shift: exact, NaN and infinity included.
        Span<uint> bits = MemoryMarshal.Cast<float, uint>(destination);
        for (int i = 0; i < source.Length; i++)
        {
            bits[i] = (uint)source[i] << 16;
        }
    }
}

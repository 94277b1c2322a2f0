using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Fp6.Runtime.Quantization;

/// <summary>
/// Packs codes into <see cref="Fp6WeightLayout.RowBlock32"/>: per row, blocks of 32 codes in 24 bytes.
/// Bytes 0..15 of a block: byte j = low nibble of code j | low nibble of code 16+j shifted up by 4.
/// Bytes 16..23: byte j holds the top two bits of code 8i+j at bits 2i..2i+1, for i = 0..3.
/// The CPU kernel spreads this back to one byte per weight with a few shifts and masks (docs/fp6-format.md).
/// </summary>
public static class RowBlock32Packer
{
    /// <summary>Codes per block.</summary>
    public const int BlockCodes = 32;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 24;

    /// <summary>The packed size of one row of <paramref name="cols"/> codes.</summary>
    public static int RowByteCount(int cols) => (cols + BlockCodes - 1) / BlockCodes * BlockBytes;

    /// <summary>Packs one row of codes (one per byte) into <paramref name="destination"/>.</summary>
    public static void PackRow(ReadOnlySpan<byte> codes, Span<byte> destination)
    {
        int blocks = (codes.Length + BlockCodes - 1) / BlockCodes;
        if (destination.Length < blocks * BlockBytes)
        {
            throw new ArgumentException("The destination is shorter than the packed row.", nameof(destination));
        }

        int fullBlocks = codes.Length / BlockCodes;
        for (int b = 0; b < fullBlocks; b++)
        {
            PackBlock(codes.Slice(b * BlockCodes, BlockCodes), destination.Slice(b * BlockBytes, BlockBytes));
        }

        if (fullBlocks < blocks)
        {
            // The last, partial block is padded with zero codes.
            Span<byte> padded = stackalloc byte[BlockCodes];
            padded.Clear();
            codes[(fullBlocks * BlockCodes)..].CopyTo(padded);
            PackBlock(padded, destination.Slice(fullBlocks * BlockBytes, BlockBytes));
        }
    }

    private static void PackBlock(ReadOnlySpan<byte> codes, Span<byte> destination)
    {
        Vector256<byte> c = Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(codes));
        Vector128<byte> lowNibbles = Vector128.Create((byte)0x0F);
        Vector128<byte> nibbles = (c.GetLower() & lowNibbles) | Vector128.ShiftLeft(c.GetUpper() & lowNibbles, 4);
        nibbles.StoreUnsafe(ref MemoryMarshal.GetReference(destination));

        Vector256<ulong> top = Vector256.ShiftRightLogical(c & Vector256.Create((byte)0x3F), 4).AsUInt64();
        ulong pairs = top.GetElement(0) | (top.GetElement(1) << 2) | (top.GetElement(2) << 4) | (top.GetElement(3) << 6);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], pairs);
    }
}

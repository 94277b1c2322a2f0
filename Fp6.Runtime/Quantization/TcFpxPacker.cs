using System.Buffers.Binary;

namespace Fp6.Runtime.Quantization;

/// <summary>
/// Packs codes into <see cref="Fp6WeightLayout.TcFpx"/>, the FP6-LLM ahead-of-time layout the Tensor Core kernel
/// reads: the matrix, zero-padded to multiples of 64 rows and columns, is cut into 64-row bands and 16-column
/// slices; each lane of a warp finds the 32 codes its mma.m16n8k16 A fragments need in two 2-bit words and four
/// 4-bit words, stored so that one word index for all 32 lanes is a contiguous 128-byte line (docs/fp6-format.md).
/// </summary>
public static class TcFpxPacker
{
    /// <summary>Rows of one band (one warp's share of the output rows).</summary>
    public const int BandRows = 64;

    /// <summary>Columns of one k-slice.</summary>
    public const int SliceCols = 16;

    /// <summary>The row count after padding.</summary>
    public static int PaddedRows(int rows) => (rows + BandRows - 1) / BandRows * BandRows;

    /// <summary>The column count after padding.</summary>
    public static int PaddedCols(int cols) => (cols + 63) / 64 * 64;

    /// <summary>The packed size of a rows x cols matrix.</summary>
    public static long PackedByteCount(int rows, int cols) => (long)PaddedRows(rows) * PaddedCols(cols) * 3 / 4;

    /// <summary>
    /// Packs one band: <paramref name="bandCodes"/> holds 64 rows of <paramref name="paddedCols"/> codes (rows past
    /// the matrix and columns past its width zero). <paramref name="packed"/> is the whole packed matrix.
    /// </summary>
    public static void PackBand(ReadOnlySpan<byte> bandCodes, int band, int paddedRows, int paddedCols, Span<byte> packed)
    {
        int slices = paddedCols / SliceCols;
        long segment2Bytes = (long)paddedRows * paddedCols / 4;
        Span<uint> twoBit = stackalloc uint[2];
        for (int s = 0; s < slices; s++)
        {
            long sliceIndex = ((long)band * slices) + s;
            for (int lane = 0; lane < 32; lane++)
            {
                int g = lane / 4;
                int q = lane % 4;
                int col = (s * SliceCols) + (2 * q);
                twoBit.Clear();
                for (int t = 0; t < 4; t++)
                {
                    int rowLow = (16 * t) + g;
                    ReadOnlySpan<byte> low = bandCodes.Slice(rowLow * paddedCols);
                    ReadOnlySpan<byte> high = bandCodes.Slice((rowLow + 8) * paddedCols);
                    // The A-fragment order: v0..v7 = (g,2q) (g,2q+1) (g+8,2q) (g+8,2q+1) (g,2q+8) (g,2q+9) (g+8,2q+8) (g+8,2q+9).
                    uint v0 = low[col], v1 = low[col + 1], v2 = high[col], v3 = high[col + 1];
                    uint v4 = low[col + 8], v5 = low[col + 9], v6 = high[col + 8], v7 = high[col + 9];

                    // 4-bit word: nibbles from the most significant are v1, v5, v3, v7, v0, v4, v2, v6.
                    uint word4 = ((v1 & 0xF) << 28) | ((v5 & 0xF) << 24) | ((v3 & 0xF) << 20) | ((v7 & 0xF) << 16)
                        | ((v0 & 0xF) << 12) | ((v4 & 0xF) << 8) | ((v2 & 0xF) << 4) | (v6 & 0xF);
                    long j4 = (sliceIndex * 4) + t;
                    BinaryPrimitives.WriteUInt32LittleEndian(packed.Slice((int)(segment2Bytes + (((32 * j4) + lane) * 4)), 4), word4);

                    // 2-bit word of blocks (2p, 2p+1): slots from the most significant are, with A = block 2p and
                    // B = block 2p+1: A1 A5 B1 B5 A3 A7 B3 B7 A0 A4 B0 B4 A2 A6 B2 B6; this block fills the A or B slots.
                    int shift = (t % 2) * 4;
                    twoBit[t / 2] |= ((v1 >> 4) << (30 - shift)) | ((v5 >> 4) << (28 - shift))
                        | ((v3 >> 4) << (22 - shift)) | ((v7 >> 4) << (20 - shift))
                        | ((v0 >> 4) << (14 - shift)) | ((v4 >> 4) << (12 - shift))
                        | ((v2 >> 4) << (6 - shift)) | ((v6 >> 4) << (4 - shift));
                }

                for (int p = 0; p < 2; p++)
                {
                    long j2 = (sliceIndex * 2) + p;
                    BinaryPrimitives.WriteUInt32LittleEndian(packed.Slice((int)(((32 * j2) + lane) * 4), 4), twoBit[p]);
                }
            }
        }
    }
}

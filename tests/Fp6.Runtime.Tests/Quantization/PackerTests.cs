using Fp6.Runtime.Quantization;
using Fp6.Runtime.Tests.Support;

namespace Fp6.Runtime.Tests.Quantization;

[TestClass]
public sealed class PackerTests
{
    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(3, 31)]
    [DataRow(7, 32)]
    [DataRow(5, 33)]
    [DataRow(64, 4096)]
    [DataRow(17, 1000)]
    public void RowBlock32_is_read_back_bit_exact_by_the_native_reader(int rows, int cols)
    {
        byte[] codes = RandomCodes(new Random((rows * 7919) + cols), rows * cols);
        var packed = new byte[Fp6WeightLayout.RowBlock32.PackedByteCount(rows, cols)];
        int rowBytes = RowBlock32Packer.RowByteCount(cols);
        for (int r = 0; r < rows; r++)
        {
            RowBlock32Packer.PackRow(codes.AsSpan(r * cols, cols), packed.AsSpan(r * rowBytes, rowBytes));
        }

        CollectionAssert.AreEqual(codes, NativeCustomOps.UnpackRowBlock32(packed, rows, cols));
    }

    [TestMethod]
    public void RowBlock32_block_has_the_documented_byte_layout()
    {
        // Code i = i (0..31): nibble byte j = (j & 0xF) | ((16 + j) & 0xF) << 4; pair byte j = sum_i ((8i + j) >> 4) << 2i.
        byte[] codes = Enumerable.Range(0, 32).Select(i => (byte)(i + 32)).ToArray();
        var packed = new byte[24];
        RowBlock32Packer.PackRow(codes, packed);
        for (int j = 0; j < 16; j++)
        {
            Assert.AreEqual((byte)((codes[j] & 0xF) | ((codes[16 + j] & 0xF) << 4)), packed[j], $"nibble byte {j}");
        }

        for (int j = 0; j < 8; j++)
        {
            int expected = 0;
            for (int i = 0; i < 4; i++)
            {
                expected |= (codes[(8 * i) + j] >> 4) << (2 * i);
            }

            Assert.AreEqual((byte)expected, packed[16 + j], $"pair byte {j}");
        }
    }

    [TestMethod]
    [DataRow(64, 64)]
    [DataRow(128, 192)]
    [DataRow(256, 128)]
    [DataRow(100, 70)]
    [DataRow(1, 1)]
    [DataRow(320, 4160)]
    public void TcFpx_is_read_back_bit_exact_by_the_native_reader(int rows, int cols)
    {
        byte[] codes = RandomCodes(new Random(rows + (cols * 31)), rows * cols);
        byte[] packed = PackTcFpx(codes, rows, cols);
        Assert.AreEqual(TcFpxPacker.PackedByteCount(rows, cols), packed.LongLength);
        CollectionAssert.AreEqual(codes, NativeCustomOps.UnpackTcFpx(packed, rows, cols));
    }

    [TestMethod]
    public void TcFpx_matches_the_golden_vectors_64x64()
    {
        // Golden vectors of the FP6-LLM prepacking for code(r, c) = (7r + 3c) mod 64 (fp6-kernel brief §4.7).
        byte[] packed = PackTcFpx(GoldenCodes(64, 64), 64, 64);
        Assert.AreEqual(3072, packed.Length);
        Assert.AreEqual(0x836c14e4u, Crc32.Compute(packed), "whole buffer");
        Assert.AreEqual(0xb19c64f6u, Crc32.Compute(packed.AsSpan(0, 1024)), "2-bit segment");
        Assert.AreEqual(0x8a95e084u, Crc32.Compute(packed.AsSpan(1024)), "4-bit segment");
        uint[] fourBitWords = [0x3bb30880, 0x91196ee6, 0xf77fc44c, 0x5dd52aa2];
        uint[] twoBitWords = [0x1cd81cd8, 0x2d1c1cd8, 0x2d1c2d1c, 0x612d612d];
        for (int lane = 0; lane < 4; lane++)
        {
            Assert.AreEqual(twoBitWords[lane], BitConverter.ToUInt32(packed, lane * 4), $"2-bit word 0 of lane {lane}");
            Assert.AreEqual(fourBitWords[lane], BitConverter.ToUInt32(packed, 1024 + (lane * 4)), $"4-bit word 0 of lane {lane}");
        }
    }

    [TestMethod]
    public void TcFpx_matches_the_golden_vectors_256x128()
    {
        byte[] packed = PackTcFpx(GoldenCodes(256, 128), 256, 128);
        Assert.AreEqual(24576, packed.Length);
        Assert.AreEqual(0xc0f1d25fu, Crc32.Compute(packed), "whole buffer");
        Assert.AreEqual(0x64849758u, Crc32.Compute(packed.AsSpan(0, 8192)), "2-bit segment");
        Assert.AreEqual(0x44926ee6u, Crc32.Compute(packed.AsSpan(8192)), "4-bit segment");
    }

    internal static byte[] PackTcFpx(byte[] codes, int rows, int cols)
    {
        int paddedRows = TcFpxPacker.PaddedRows(rows);
        int paddedCols = TcFpxPacker.PaddedCols(cols);
        var packed = new byte[TcFpxPacker.PackedByteCount(rows, cols)];
        var band = new byte[64 * paddedCols];
        for (int b = 0; b < paddedRows / 64; b++)
        {
            Array.Clear(band);
            for (int r = 0; r < 64 && (b * 64) + r < rows; r++)
            {
                codes.AsSpan(((b * 64) + r) * cols, cols).CopyTo(band.AsSpan(r * paddedCols));
            }

            TcFpxPacker.PackBand(band, b, paddedRows, paddedCols, packed);
        }

        return packed;
    }

    internal static byte[] RandomCodes(Random random, int count)
    {
        var codes = new byte[count];
        random.NextBytes(codes);
        for (int i = 0; i < count; i++)
        {
            codes[i] &= 0x3F;
        }

        return codes;
    }

    private static byte[] GoldenCodes(int rows, int cols)
    {
        var codes = new byte[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                codes[(r * cols) + c] = (byte)(((7 * r) + (3 * c)) % 64);
            }
        }

        return codes;
    }
}

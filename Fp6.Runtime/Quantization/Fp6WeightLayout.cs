namespace Fp6.Runtime.Quantization;

/// <summary>How packed FP6 codes are arranged in memory; each kernel reads exactly one layout.</summary>
public enum Fp6WeightLayout
{
    /// <summary>
    /// The CPU kernel's layout: each row cut into blocks of 32 codes, 24 bytes a block (16 bytes of low nibbles,
    /// 8 bytes of top bit pairs), rows back to back. Any shape.
    /// </summary>
    RowBlock32,

    /// <summary>
    /// The Tensor Core kernel's layout: the FP6-LLM ahead-of-time prepacking (a 2-bit segment then a 4-bit segment,
    /// words ordered for mma.m16n8k16 A fragments) of the matrix zero-padded to multiples of 64 rows and columns.
    /// </summary>
    TcFpx,
}

/// <summary>Names and sizes of the <see cref="Fp6WeightLayout"/> values.</summary>
public static class Fp6WeightLayouts
{
    /// <summary>The value of the Fp6Linear <c>layout</c> attribute for a layout.</summary>
    public static string AttributeName(this Fp6WeightLayout layout) => layout switch
    {
        Fp6WeightLayout.RowBlock32 => "rowblock32",
        Fp6WeightLayout.TcFpx => "tcfpx",
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown FP6 weight layout."),
    };

    /// <summary>The layout whose attribute value is <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No layout has that name.</exception>
    public static Fp6WeightLayout Parse(string name) => name switch
    {
        "rowblock32" => Fp6WeightLayout.RowBlock32,
        "tcfpx" => Fp6WeightLayout.TcFpx,
        _ => throw new ArgumentException($"Unknown FP6 weight layout '{name}' (known: rowblock32, tcfpx).", nameof(name)),
    };

    /// <summary>The number of packed bytes a rows x cols matrix takes in a layout.</summary>
    public static long PackedByteCount(this Fp6WeightLayout layout, int rows, int cols) => layout switch
    {
        Fp6WeightLayout.RowBlock32 => (long)rows * RowBlock32Packer.RowByteCount(cols),
        Fp6WeightLayout.TcFpx => TcFpxPacker.PackedByteCount(rows, cols),
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown FP6 weight layout."),
    };
}

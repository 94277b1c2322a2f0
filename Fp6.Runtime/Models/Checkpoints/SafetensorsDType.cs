namespace Fp6.Runtime.Models.Checkpoints;

/// <summary>Element types a safetensors header may declare (the names are the format's own).</summary>
public enum SafetensorsDType
{
    /// <summary>IEEE binary64.</summary>
    F64,
    /// <summary>IEEE binary32.</summary>
    F32,
    /// <summary>IEEE binary16.</summary>
    F16,
    /// <summary>bfloat16: the upper half of a binary32.</summary>
    BF16,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Boolean stored as one byte.</summary>
    Bool,
}

/// <summary>Sizes and names of <see cref="SafetensorsDType"/> values.</summary>
public static class SafetensorsDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeInBytes(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 or SafetensorsDType.I64 => 8,
        SafetensorsDType.F32 or SafetensorsDType.I32 => 4,
        SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.I16 => 2,
        SafetensorsDType.I8 or SafetensorsDType.U8 or SafetensorsDType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>True for the types <see cref="SafetensorsTensor"/> can convert to float32 (F32, F16, BF16).</summary>
    public static bool IsConvertibleToFloat32(this SafetensorsDType dtype) =>
        dtype is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16;

    /// <summary>Parses a header dtype name ("F32", "BF16", "BOOL", …); false for names this reader does not know.</summary>
    public static bool TryParse(string name, out SafetensorsDType dtype)
    {
        switch (name)
        {
            case "F64": dtype = SafetensorsDType.F64; return true;
            case "F32": dtype = SafetensorsDType.F32; return true;
            case "F16": dtype = SafetensorsDType.F16; return true;
            case "BF16": dtype = SafetensorsDType.BF16; return true;
            case "I64": dtype = SafetensorsDType.I64; return true;
            case "I32": dtype = SafetensorsDType.I32; return true;
            case "I16": dtype = SafetensorsDType.I16; return true;
            case "I8": dtype = SafetensorsDType.I8; return true;
            case "U8": dtype = SafetensorsDType.U8; return true;
            case "BOOL": dtype = SafetensorsDType.Bool; return true;
            default: dtype = default; return false;
        }
    }
}

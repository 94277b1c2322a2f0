using System.Text;
using System.Text.Json;

namespace Fp6.Runtime.Tests.Support;

/// <summary>Writes small safetensors files (F32 or BF16) for tests: an 8-byte header length, a JSON header, the data.</summary>
internal static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, float[] Values, long[] Shape)> tensors, bool bf16)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long offset = 0;
        foreach ((string name, float[] values, long[] shape) in tensors)
        {
            long bytes = values.Length * (bf16 ? 2L : 4L);
            header[name] = new { dtype = bf16 ? "BF16" : "F32", shape, data_offsets = new[] { offset, offset + bytes } };
            offset += bytes;
        }

        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes((ulong)json.Length));
        stream.Write(json);
        foreach ((_, float[] values, _) in tensors)
        {
            foreach (float v in values)
            {
                if (bf16)
                {
                    stream.Write(BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)));
                }
                else
                {
                    stream.Write(BitConverter.GetBytes(v));
                }
            }
        }
    }

    /// <summary>Rounds to the nearest bfloat16 (ties to even) and back, so a BF16 file holds the values exactly.</summary>
    public static float RoundToBfloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        bits += 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000);
    }
}

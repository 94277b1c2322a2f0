using System.Buffers.Binary;
using System.Text.Json;

namespace Fp6.Runtime.Models.Checkpoints;

/// <summary>
/// Parses and validates the header of a safetensors file: an 8-byte little-endian length, then that many bytes of
/// JSON mapping tensor names to dtype, shape and data offsets, then the data section.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>The reference implementation refuses headers above 100 MB; so do we, before allocating anything.</summary>
    internal const long MaxHeaderLength = 100_000_000;

    private const string MetadataKey = "__metadata__";

    /// <summary>The parsed header: tensors in file order, free-form metadata, and where the data section starts.</summary>
    internal sealed record Parsed(
        IReadOnlyList<SafetensorsTensorInfo> Tensors,
        IReadOnlyDictionary<string, string> Metadata,
        long DataSectionStart);

    /// <summary>Parses the header at the start of <paramref name="file"/> (the whole file, mapped) and validates every entry.</summary>
    internal static Parsed Parse(ReadOnlySpan<byte> file, long fileLength, string filePath)
    {
        if (fileLength < 8)
        {
            throw new CheckpointFormatException(filePath, null, $"file is {fileLength} bytes, too short for the 8-byte header length");
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > MaxHeaderLength)
        {
            throw new CheckpointFormatException(filePath, null, $"header length {headerLength} exceeds the {MaxHeaderLength}-byte limit (not a safetensors file?)");
        }
        if (8 + (long)headerLength > fileLength)
        {
            throw new CheckpointFormatException(filePath, null, $"header length {headerLength} runs past the end of the {fileLength}-byte file (truncated?)");
        }

        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;
        ReadOnlySpan<byte> json = file.Slice(8, (int)headerLength);

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException ex)
        {
            throw new CheckpointFormatException(filePath, null, $"malformed JSON header: {ex.Message}", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(filePath, null, $"header must be a JSON object, found {document.RootElement.ValueKind}");
            }

            var tensors = new List<SafetensorsTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw new CheckpointFormatException(filePath, property.Name, "appears twice in the header");
                }
                if (property.Name == MetadataKey)
                {
                    ReadMetadata(property.Value, metadata, filePath);
                    continue;
                }
                tensors.Add(ReadTensor(property.Name, property.Value, dataLength, filePath));
            }

            CheckNoOverlaps(tensors, filePath);
            return new Parsed(tensors, metadata, dataStart);
        }
    }

    private static void ReadMetadata(JsonElement element, Dictionary<string, string> metadata, string filePath)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointFormatException(filePath, null, "__metadata__ must be an object of strings");
        }
        foreach (JsonProperty entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new CheckpointFormatException(filePath, null, $"__metadata__ entry '{entry.Name}' must be a string");
            }
            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    private static SafetensorsTensorInfo ReadTensor(string name, JsonElement entry, long dataLength, string filePath)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointFormatException(filePath, name, "header entry must be an object with dtype, shape and data_offsets");
        }

        if (!entry.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new CheckpointFormatException(filePath, name, "missing or non-string 'dtype'");
        }
        string dtypeName = dtypeElement.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeName, out SafetensorsDType dtype))
        {
            throw new CheckpointFormatException(filePath, name, $"unsupported dtype '{dtypeName}'");
        }

        if (!entry.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new CheckpointFormatException(filePath, name, "missing or non-array 'shape'");
        }
        var shape = new List<long>();
        foreach (JsonElement dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out long value) || value < 0)
            {
                throw new CheckpointFormatException(filePath, name, $"shape {shapeElement.GetRawText()} must hold non-negative integers");
            }
            shape.Add(value);
        }

        if (!entry.TryGetProperty("data_offsets", out JsonElement offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
        {
            throw new CheckpointFormatException(filePath, name, "missing 'data_offsets' (must be [begin, end])");
        }
        if (!offsetsElement[0].TryGetInt64(out long begin) || !offsetsElement[1].TryGetInt64(out long end) || begin < 0 || end < begin)
        {
            throw new CheckpointFormatException(filePath, name, $"data_offsets {offsetsElement.GetRawText()} must be integers with 0 <= begin <= end");
        }
        if (end > dataLength)
        {
            throw new CheckpointFormatException(filePath, name,
                $"data_offsets [{begin}, {end}] run past the end of the data section ({dataLength} bytes): the file is truncated or the offsets are wrong");
        }

        long expectedBytes;
        try
        {
            long elements = 1;
            foreach (long dimension in shape)
            {
                elements = checked(elements * dimension);
            }
            expectedBytes = checked(elements * dtype.SizeInBytes());
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException(filePath, name, $"shape {shapeElement.GetRawText()} is too large");
        }
        if (expectedBytes != end - begin)
        {
            throw new CheckpointFormatException(filePath, name,
                $"shape {shapeElement.GetRawText()} of {dtypeName} needs {expectedBytes} bytes but data_offsets [{begin}, {end}] hold {end - begin}");
        }

        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    private static void CheckNoOverlaps(List<SafetensorsTensorInfo> tensors, string filePath)
    {
        // Empty tensors occupy no bytes, so they cannot overlap anything.
        var byOffset = tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.DataBegin).ToList();
        for (int i = 1; i < byOffset.Count; i++)
        {
            SafetensorsTensorInfo previous = byOffset[i - 1];
            SafetensorsTensorInfo current = byOffset[i];
            if (current.DataBegin < previous.DataEnd)
            {
                throw new CheckpointFormatException(filePath, current.Name,
                    $"data [{current.DataBegin}, {current.DataEnd}) overlaps tensor '{previous.Name}' [{previous.DataBegin}, {previous.DataEnd})");
            }
        }
    }
}

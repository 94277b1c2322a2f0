using System.Runtime.InteropServices;
using System.Text.Json;
using Fp6.Runtime.Models.Checkpoints;

namespace Fp6.Runtime.Tests.Models.Checkpoints;

/// <summary>
/// Reads files written by the reference safetensors library (0.8.0, on the GPU machine: TestData/Safetensors) and
/// compares every value with what PyTorch reported for the same tensors, bit for bit.
/// </summary>
[TestClass]
public sealed class SafetensorsReadingTests
{
    private static readonly long[] ExpectedIds = [1, -2, 3];
    private static readonly long[] ExpectedBlockStarts = [0, 20, 40, 60];
    private static readonly int[] ExpectedBlockLengths = [160, 160, 160, 32];
    private static readonly string[] ExpectedShardedNames = ["f32.matrix", "f16.matrix", "bf16.vector", "bf16.matrix", "f32.scalar", "f16.rows"];

    private static readonly Lazy<Dictionary<string, JsonElement>> Expected = new(() =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.TestData("Safetensors", "values.json"))).RootElement
            .EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()));

    [TestMethod]
    public void Single_file_tensors_have_the_reference_dtypes_shapes_and_values()
    {
        using SafetensorsFile file = SafetensorsFile.Open(TestPaths.TestData("Safetensors", "single", "model.safetensors"));

        Assert.HasCount(8, file.TensorNames);
        Assert.AreEqual("pt", file.Metadata["format"]);
        foreach ((string name, JsonElement expected) in Expected.Value)
        {
            SafetensorsTensor tensor = file.GetTensor(name);
            CollectionAssert.AreEqual(expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(), tensor.Shape.ToArray(), name);
            if (tensor.DType.IsConvertibleToFloat32())
            {
                AssertBitwiseEqual(ExpectedValues(expected), tensor.ToFloat32Array(), name);
            }
        }
        Assert.AreEqual(SafetensorsDType.BF16, file.GetTensor("bf16.matrix").DType);
        Assert.AreEqual(SafetensorsDType.F16, file.GetTensor("f16.matrix").DType);
        Assert.AreEqual(SafetensorsDType.F32, file.GetTensor("f32.matrix").DType);
    }

    [TestMethod]
    public void Scalars_empty_tensors_and_integer_tensors_are_handled()
    {
        using SafetensorsFile file = SafetensorsFile.Open(TestPaths.TestData("Safetensors", "single", "model.safetensors"));

        SafetensorsTensor scalar = file.GetTensor("f32.scalar");
        Assert.IsEmpty(scalar.Shape);
        Assert.AreEqual(1, scalar.RowCount);
        Assert.AreEqual(7.25f, scalar.ToFloat32Array().Single());

        SafetensorsTensor empty = file.GetTensor("f16.empty");
        Assert.AreEqual(0, empty.RowCount);
        Assert.AreEqual(4, empty.RowLength);
        Assert.IsEmpty(empty.ToFloat32Array());
        Assert.AreEqual(0, empty.Bytes.Length);

        SafetensorsTensor ids = file.GetTensor("i64.ids");
        Assert.AreEqual(SafetensorsDType.I64, ids.DType);
        CollectionAssert.AreEqual(ExpectedIds, MemoryMarshal.Cast<byte, long>(ids.Bytes).ToArray());
        var error = Assert.ThrowsExactly<NotSupportedException>(() => ids.ToFloat32Array());
        StringAssert.Contains(error.Message, "i64.ids");
    }

    [TestMethod]
    public void Rows_and_row_blocks_convert_only_what_is_asked()
    {
        using SafetensorsFile file = SafetensorsFile.Open(TestPaths.TestData("Safetensors", "single", "model.safetensors"));
        SafetensorsTensor tensor = file.GetTensor("f16.rows");
        float[] all = tensor.ToFloat32Array();

        Assert.AreEqual(64, tensor.RowCount);
        Assert.AreEqual(8, tensor.RowLength);
        CollectionAssert.AreEqual(all[(10 * 8)..(13 * 8)], tensor.ReadRowsAsFloat32(10, 3));

        var blocks = tensor.EnumerateRowBlocksAsFloat32(20).ToList();
        CollectionAssert.AreEqual(ExpectedBlockStarts, blocks.Select(b => b.FirstRow).ToArray());
        CollectionAssert.AreEqual(ExpectedBlockLengths, blocks.Select(b => b.Values.Length).ToArray());
        CollectionAssert.AreEqual(all, blocks.SelectMany(b => b.Values).ToArray());

        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => tensor.ReadRowsAsFloat32(62, 3));
        var span = new float[4];
        tensor.CopyToFloat32(510, span.AsSpan(0, 2));
        CollectionAssert.AreEqual(all[510..512], span[..2]);
    }

    [TestMethod]
    public void Sharded_checkpoint_resolves_every_tensor_to_its_shard()
    {
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(TestPaths.TestData("Safetensors", "sharded"));

        CollectionAssert.AreEqual(ExpectedShardedNames, checkpoint.TensorNames.ToArray());
        Assert.HasCount(2, checkpoint.Files);
        Assert.EndsWith("model-00002-of-00002.safetensors", checkpoint.GetTensor("bf16.matrix").FilePath);
        Assert.EndsWith("model-00001-of-00002.safetensors", checkpoint.GetTensor("bf16.vector").FilePath);
        foreach (string name in checkpoint.TensorNames)
        {
            AssertBitwiseEqual(ExpectedValues(Expected.Value[name]), checkpoint.GetTensor(name).ToFloat32Array(), name);
        }
        Assert.IsFalse(checkpoint.Contains("i64.ids"));
        var missing = Assert.ThrowsExactly<KeyNotFoundException>(() => checkpoint.GetTensor("lm_head.weight"));
        StringAssert.Contains(missing.Message, "lm_head.weight");
    }

    [TestMethod]
    public void A_checkpoint_opens_from_a_folder_a_file_or_an_index()
    {
        using (SafetensorsCheckpoint fromFolder = SafetensorsCheckpoint.Open(TestPaths.TestData("Safetensors", "single")))
        {
            Assert.HasCount(8, fromFolder.TensorNames);
        }
        using (SafetensorsCheckpoint fromFile = SafetensorsCheckpoint.Open(TestPaths.TestData("Safetensors", "single", "model.safetensors")))
        {
            Assert.IsTrue(fromFile.Contains("f16.rows"));
        }
        using SafetensorsCheckpoint fromIndex = SafetensorsCheckpoint.Open(TestPaths.TestData("Safetensors", "sharded", SafetensorsCheckpoint.IndexFileName));
        Assert.HasCount(6, fromIndex.TensorNames);
    }

    [TestMethod]
    public void A_disposed_file_refuses_reads()
    {
        SafetensorsFile file = SafetensorsFile.Open(TestPaths.TestData("Safetensors", "single", "model.safetensors"));
        SafetensorsTensor tensor = file.GetTensor("f32.matrix");
        file.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => tensor.ToFloat32Array());
    }

    [TestMethod]
    public void A_tensor_larger_than_a_span_is_read_by_rows_without_loading_the_file()
    {
        // A 2.6 GB file, sparse on disk: one F16 tensor of 40000 x 32768 whose last row holds known values.
        using var files = new SafetensorsTestFiles();
        const long rows = 40_000;
        const long columns = 32_768;
        string header = $"{{\"big\":{{\"dtype\":\"F16\",\"shape\":[{rows},{columns}],\"data_offsets\":[0,{rows * columns * 2}]}}}}";
        string path = files.Write("big.safetensors", header, []);
        long dataStart = 8 + System.Text.Encoding.UTF8.GetByteCount(header);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(dataStart + (rows * columns * 2));
            stream.Seek(dataStart + ((rows - 1) * columns * 2), SeekOrigin.Begin);
            var lastRow = new Half[columns];
            for (int i = 0; i < lastRow.Length; i++)
            {
                lastRow[i] = (Half)(i % 100);
            }
            stream.Write(MemoryMarshal.AsBytes(lastRow.AsSpan()));
        }

        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        using SafetensorsFile file = SafetensorsFile.Open(path);
        SafetensorsTensor big = file.GetTensor("big");
        float[] last = big.ReadRowsAsFloat32(rows - 1, 1);
        float[] first = big.ReadRowsAsFloat32(0, 1);
        long managedAfter = GC.GetTotalMemory(forceFullCollection: false);

        Assert.AreEqual(99f, last[99]);
        Assert.AreEqual((columns - 1) % 100, last[columns - 1]);
        Assert.IsTrue(first.All(v => v == 0));
        Assert.IsLessThan(64L << 20, managedAfter - managedBefore, "reading two rows must not pull the 2.6 GB file into managed memory");
        var tooLarge = Assert.ThrowsExactly<NotSupportedException>(() => big.Bytes.Length);
        StringAssert.Contains(tooLarge.Message, "big");
    }

    private static float[] ExpectedValues(JsonElement tensor) =>
        tensor.GetProperty("values").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String
            ? v.GetString() switch
            {
                "inf" => float.PositiveInfinity,
                "-inf" => float.NegativeInfinity,
                _ => float.NaN,
            }
            : (float)v.GetDouble()).ToArray();

    private static void AssertBitwiseEqual(float[] expected, float[] actual, string name)
    {
        Assert.HasCount(expected.Length, actual, name);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i]),
                $"{name}[{i}]: expected {expected[i]} got {actual[i]}");
        }
    }
}

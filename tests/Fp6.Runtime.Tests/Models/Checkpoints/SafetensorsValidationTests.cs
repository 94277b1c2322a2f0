using System.Text;
using Fp6.Runtime.Models.Checkpoints;

namespace Fp6.Runtime.Tests.Models.Checkpoints;

/// <summary>Malformed safetensors files and shard indexes fail at open, with messages that name the file and the tensor.</summary>
[TestClass]
public sealed class SafetensorsValidationTests
{
    [TestMethod]
    public void Malformed_json_header_names_the_file()
    {
        using var files = new SafetensorsTestFiles();
        string path = files.Write("bad.safetensors", "{\"w\": {\"dtype\": \"F32\", ", new byte[16]);

        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsFile.Open(path));

        StringAssert.Contains(error.Message, path);
        StringAssert.Contains(error.Message, "malformed JSON header");
        Assert.AreEqual(path, error.FilePath);
    }

    [TestMethod]
    public void Header_length_beyond_the_file_and_tiny_files_are_rejected()
    {
        using var files = new SafetensorsTestFiles();
        string runsPast = files.Write("long.safetensors", "{}", [], declaredHeaderLength: 1000);
        string tiny = files.WriteText("tiny.safetensors", "abc");
        string empty = files.WriteText("empty.safetensors", "");

        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsFile.Open(runsPast)).Message, "runs past the end");
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsFile.Open(tiny)).Message, "too short");
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsFile.Open(empty)).Message, "too short");
    }

    [TestMethod]
    public void Offsets_past_the_data_name_the_tensor_and_suggest_truncation()
    {
        using var files = new SafetensorsTestFiles();
        string path = files.Write("cut.safetensors", "{\"layer.weight\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,64]}}", new byte[40]);

        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsFile.Open(path));

        Assert.AreEqual("layer.weight", error.TensorName);
        StringAssert.Contains(error.Message, "'layer.weight'");
        StringAssert.Contains(error.Message, path);
        StringAssert.Contains(error.Message, "truncated");
    }

    [TestMethod]
    public void Overlapping_tensors_name_both()
    {
        using var files = new SafetensorsTestFiles();
        string header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        string path = files.Write("overlap.safetensors", header, new byte[12]);

        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsFile.Open(path));

        StringAssert.Contains(error.Message, "'b'");
        StringAssert.Contains(error.Message, "overlaps tensor 'a'");
    }

    [TestMethod]
    public void Shape_and_dtype_must_account_for_the_bytes()
    {
        using var files = new SafetensorsTestFiles();
        string path = files.Write("size.safetensors", "{\"bias\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]);

        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsFile.Open(path));

        StringAssert.Contains(error.Message, "'bias'");
        StringAssert.Contains(error.Message, "needs 6 bytes");
    }

    [TestMethod]
    [DataRow("{\"t\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", "unsupported dtype 'Q4'")]
    [DataRow("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "non-negative integers")]
    [DataRow("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "0 <= begin <= end")]
    [DataRow("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", "data_offsets")]
    [DataRow("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "dtype")]
    [DataRow("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "appears twice")]
    [DataRow("[1, 2]", "must be a JSON object")]
    public void Malformed_entries_are_rejected_with_the_reason(string header, string reason)
    {
        using var files = new SafetensorsTestFiles();
        string path = files.Write("entry.safetensors", header, new byte[8]);

        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsFile.Open(path));

        StringAssert.Contains(error.Message, reason);
        StringAssert.Contains(error.Message, path);
    }

    [TestMethod]
    public void Missing_shard_names_the_index_the_shard_and_a_tensor()
    {
        using var files = new SafetensorsTestFiles();
        files.Write("model-00001-of-00002.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
        string index = files.WriteText(SafetensorsCheckpoint.IndexFileName,
            "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"}}");

        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsCheckpoint.Open(files.Directory));

        Assert.AreEqual(index, error.FilePath);
        Assert.AreEqual("b", error.TensorName);
        StringAssert.Contains(error.Message, "model-00002-of-00002.safetensors");
        StringAssert.Contains(error.Message, "does not exist");
        StringAssert.Contains(error.Message, "1 other tensors");
    }

    [TestMethod]
    public void A_tensor_the_shard_lacks_names_the_shard_and_the_tensor()
    {
        using var files = new SafetensorsTestFiles();
        string shard = files.Write("shard.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
        files.WriteText(SafetensorsCheckpoint.IndexFileName, "{\"weight_map\":{\"a\":\"shard.safetensors\",\"model.norm.weight\":\"shard.safetensors\"}}");

        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsCheckpoint.Open(files.Directory));

        Assert.AreEqual(shard, error.FilePath);
        StringAssert.Contains(error.Message, "'model.norm.weight'");
    }

    [TestMethod]
    [DataRow("{\"weight_map\":{\"a\":\"../outside.safetensors\"}}", "beside the index")]
    [DataRow("{\"weight_map\":{\"a\":\"/etc/passwd\"}}", "beside the index")]
    [DataRow("{\"metadata\":{}}", "weight_map")]
    [DataRow("{\"weight_map\":{\"a\":7}}", "shard file name")]
    [DataRow("{\"weight_map\":", "malformed JSON")]
    public void Malformed_indexes_are_rejected(string index, string reason)
    {
        using var files = new SafetensorsTestFiles();
        files.WriteText(SafetensorsCheckpoint.IndexFileName, index);

        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsCheckpoint.Open(files.Directory));

        StringAssert.Contains(error.Message, reason);
    }

    [TestMethod]
    public void The_same_tensor_in_two_files_of_a_folder_is_an_error()
    {
        using var files = new SafetensorsTestFiles();
        const string header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        files.Write("one.safetensors", header, new byte[4]);
        files.Write("two.safetensors", header, new byte[4]);

        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsCheckpoint.Open(files.Directory));

        StringAssert.Contains(error.Message, "also present in");
        Assert.AreEqual("a", error.TensorName);
    }

    [TestMethod]
    public void Metadata_and_padding_spaces_are_accepted()
    {
        using var files = new SafetensorsTestFiles();
        // The format allows trailing spaces in the header (writers pad it to an 8-byte boundary).
        string header = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"x\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   ";
        byte[] data = [.. BitConverter.GetBytes(1.5f), .. BitConverter.GetBytes(-2f)];
        string path = files.Write("ok.safetensors", header, data);

        using SafetensorsFile file = SafetensorsFile.Open(path);

        Assert.AreEqual("x", file.Metadata["note"]);
        Assert.AreEqual(8 + Encoding.UTF8.GetByteCount(header), file.DataSectionStart);
        Assert.AreEqual(-2f, file.GetTensor("w").ToFloat32Array()[1]);
    }
}

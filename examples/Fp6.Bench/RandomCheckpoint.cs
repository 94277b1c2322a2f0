using System.Text;
using System.Text.Json;

namespace Fp6.Bench;

/// <summary>
/// Writes a random Llama-shaped bf16 checkpoint (config.json + model.safetensors) of a given size, streamed, for
/// measuring the converter on realistic shapes without downloading a model. Weights are random bf16 values of
/// magnitude 2^-8..2^-4; norm weights are 1.
/// </summary>
internal static class RandomCheckpoint
{
    public static void Write(string directory, string shape)
    {
        (int hidden, int intermediate, int layers, int heads, int kvHeads, int vocab) = shape switch
        {
            "llama-1b" => (2048, 8192, 16, 32, 8, 128256),
            "tiny" => (256, 512, 2, 4, 2, 1024),
            _ => throw new ArgumentException($"unknown shape '{shape}' (llama-1b, tiny)"),
        };
        int headSize = hidden / heads;
        var tensors = new List<(string Name, long[] Shape, bool Norm)> { ("model.embed_tokens.weight", [vocab, hidden], false) };
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            tensors.Add((p + "self_attn.q_proj.weight", [heads * headSize, hidden], false));
            tensors.Add((p + "self_attn.k_proj.weight", [kvHeads * headSize, hidden], false));
            tensors.Add((p + "self_attn.v_proj.weight", [kvHeads * headSize, hidden], false));
            tensors.Add((p + "self_attn.o_proj.weight", [hidden, heads * headSize], false));
            tensors.Add((p + "mlp.gate_proj.weight", [intermediate, hidden], false));
            tensors.Add((p + "mlp.up_proj.weight", [intermediate, hidden], false));
            tensors.Add((p + "mlp.down_proj.weight", [hidden, intermediate], false));
            tensors.Add((p + "input_layernorm.weight", [hidden], true));
            tensors.Add((p + "post_attention_layernorm.weight", [hidden], true));
        }

        tensors.Add(("model.norm.weight", [hidden], true));
        Directory.CreateDirectory(directory);
        var config = new Dictionary<string, object>
        {
            ["model_type"] = "llama",
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["hidden_size"] = hidden,
            ["intermediate_size"] = intermediate,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kvHeads,
            ["vocab_size"] = vocab,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 500000.0,
            ["max_position_embeddings"] = 8192,
            ["tie_word_embeddings"] = true,
            ["hidden_act"] = "silu",
            ["torch_dtype"] = "bfloat16",
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(config));

        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach ((string name, long[] dims, _) in tensors)
        {
            long bytes = 2 * dims.Aggregate(1L, (a, b) => a * b);
            header[name] = new { dtype = "BF16", shape = dims, data_offsets = new[] { offset, offset + bytes } };
            offset += bytes;
        }

        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using var stream = new FileStream(Path.Combine(directory, "model.safetensors"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        stream.Write(BitConverter.GetBytes((ulong)json.Length));
        stream.Write(json);
        var random = new Random(7);
        var chunk = new byte[1 << 22];
        foreach ((_, long[] dims, bool norm) in tensors)
        {
            long remaining = 2 * dims.Aggregate(1L, (a, b) => a * b);
            while (remaining > 0)
            {
                int count = (int)Math.Min(chunk.Length, remaining);
                if (norm)
                {
                    for (int i = 0; i < count; i += 2)
                    {
                        chunk[i] = 0x80;
                        chunk[i + 1] = 0x3F; // bf16 1.0 = 0x3F80
                    }
                }
                else
                {
                    random.NextBytes(chunk.AsSpan(0, count));
                    for (int i = 0; i < count; i += 2)
                    {
                        // sign and 7 mantissa bits random; exponent 119..122 (2^-8..2^-5 binades).
                        int exponent = 119 + (chunk[i + 1] & 3);
                        chunk[i + 1] = (byte)((chunk[i + 1] & 0x80) | (exponent >> 1));
                        chunk[i] = (byte)(((exponent & 1) << 7) | (chunk[i] & 0x7F));
                    }
                }

                stream.Write(chunk, 0, count);
                remaining -= count;
            }
        }

        Console.WriteLine($"wrote {shape} checkpoint: {stream.Length / 1048576.0:F0} MiB in {directory}");
    }
}

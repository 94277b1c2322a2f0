using System.Text.Json;

namespace Fp6.Runtime.Models.Checkpoints;

/// <summary>Reads a Hugging Face <c>config.json</c> of the Llama, Mistral or Qwen2 family into a <see cref="ModelConfig"/>.</summary>
public static class ModelConfigReader
{
    /// <summary>The model types this reader understands.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = ["llama", "mistral", "qwen2"];

    /// <summary>Reads <paramref name="path"/>: a config.json, or a directory that holds one.</summary>
    /// <exception cref="CheckpointFormatException">The file is not valid JSON, lacks a required field, or names another family.</exception>
    public static ModelConfig Load(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"{file}: config.json does not exist", file);
        }
        return Parse(File.ReadAllText(file), Path.GetFullPath(file));
    }

    /// <summary>Parses config.json text; <paramref name="sourceName"/> names it in error messages.</summary>
    public static ModelConfig Parse(string json, string sourceName = "config.json")
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new CheckpointFormatException(sourceName, null, $"malformed JSON: {ex.Message}", ex);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(sourceName, null, "config must be a JSON object");
            }
            return new Fields(document.RootElement, sourceName).ToConfig();
        }
    }

    /// <summary>Typed access to the fields of one config object, with errors that name the file and the field.</summary>
    private sealed class Fields(JsonElement root, string source)
    {
        public ModelConfig ToConfig()
        {
            string modelType = ModelType();
            int hiddenSize = RequiredInt("hidden_size");
            int heads = RequiredInt("num_attention_heads");
            int kvHeads = OptionalInt("num_key_value_heads") ?? heads;
            if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
            {
                throw Problem($"num_attention_heads {heads} must be a positive multiple of num_key_value_heads {kvHeads}");
            }
            int? explicitHeadDim = OptionalInt("head_dim");
            if (explicitHeadDim is null && hiddenSize % heads != 0)
            {
                throw Problem($"hidden_size {hiddenSize} is not divisible by num_attention_heads {heads} and no head_dim is given");
            }

            // transformers 5 moved rope_theta and the scaling into one "rope_parameters" object.
            JsonElement? ropeParameters = Object("rope_parameters");
            double ropeTheta = (ropeParameters is JsonElement p ? DoubleIn(p, "rope_theta") : null) ?? OptionalDouble("rope_theta") ?? 10000.0;
            RopeScaling? scaling = ReadRopeScaling(ropeParameters ?? Object("rope_scaling"));

            bool attentionBias = OptionalBool("attention_bias") ?? false;
            bool isQwen2 = modelType == "qwen2";
            bool useSlidingWindow = OptionalBool("use_sliding_window") ?? !isQwen2;
            int? slidingWindow = useSlidingWindow ? OptionalInt("sliding_window") : null;

            return new ModelConfig
            {
                ModelType = modelType,
                Architectures = StringList("architectures"),
                HiddenSize = hiddenSize,
                IntermediateSize = RequiredInt("intermediate_size"),
                NumHiddenLayers = RequiredInt("num_hidden_layers"),
                NumAttentionHeads = heads,
                NumKeyValueHeads = kvHeads,
                HeadDim = explicitHeadDim ?? (hiddenSize / heads),
                VocabSize = RequiredInt("vocab_size"),
                RopeTheta = ropeTheta,
                RopeScaling = scaling,
                MaxPositionEmbeddings = OptionalInt("max_position_embeddings") ?? 2048,
                RmsNormEps = OptionalDouble("rms_norm_eps") ?? 1e-6,
                TieWordEmbeddings = OptionalBool("tie_word_embeddings") ?? false,
                QkvBias = isQwen2 || (modelType == "llama" && attentionBias),
                OutputProjectionBias = modelType == "llama" && attentionBias,
                MlpBias = modelType == "llama" && (OptionalBool("mlp_bias") ?? false),
                HiddenAct = OptionalString("hidden_act") ?? "silu",
                BosTokenId = OptionalInt("bos_token_id"),
                EosTokenIds = IntOrIntList("eos_token_id"),
                PadTokenId = OptionalInt("pad_token_id"),
                TorchDtype = OptionalString("torch_dtype") ?? OptionalString("dtype"),
                SlidingWindow = slidingWindow,
                MaxWindowLayers = isQwen2 ? OptionalInt("max_window_layers") : null,
            };
        }

        private string ModelType()
        {
            string? modelType = OptionalString("model_type");
            if (modelType is null)
            {
                // Some exporters omit model_type; the architecture name still says which family it is.
                string[] architectures = StringList("architectures");
                string? architecture = architectures.Length > 0 ? architectures[0] : null;
                modelType = architecture switch
                {
                    "LlamaForCausalLM" => "llama",
                    "MistralForCausalLM" => "mistral",
                    "Qwen2ForCausalLM" => "qwen2",
                    _ => throw Problem("has no model_type and no known architecture"),
                };
            }
            if (!SupportedModelTypes.Contains(modelType))
            {
                throw Problem($"model_type '{modelType}' is not supported (supported: {string.Join(", ", SupportedModelTypes)})");
            }
            return modelType;
        }

        private RopeScaling? ReadRopeScaling(JsonElement? element)
        {
            if (element is not JsonElement scaling)
            {
                return null;
            }
            string? type = StringIn(scaling, "rope_type") ?? StringIn(scaling, "type");
            if (type is null or "default")
            {
                return null;
            }
            double factor = DoubleIn(scaling, "factor") ?? throw Problem($"rope scaling '{type}' has no 'factor'");
            return new RopeScaling(type, factor)
            {
                LowFreqFactor = DoubleIn(scaling, "low_freq_factor"),
                HighFreqFactor = DoubleIn(scaling, "high_freq_factor"),
                OriginalMaxPositionEmbeddings = IntIn(scaling, "original_max_position_embeddings"),
            };
        }

        private CheckpointFormatException Problem(string message) => new CheckpointFormatException(source, null, message);

        private int RequiredInt(string name) => OptionalInt(name) ?? throw Problem($"required field '{name}' is missing");

        private int? OptionalInt(string name) => IntIn(root, name);

        private double? OptionalDouble(string name) => DoubleIn(root, name);

        private bool? OptionalBool(string name) =>
            Value(root, name) switch
            {
                null => null,
                { ValueKind: JsonValueKind.True } => true,
                { ValueKind: JsonValueKind.False } => false,
                _ => throw Problem($"field '{name}' must be true or false"),
            };

        private string? OptionalString(string name) => StringIn(root, name);

        private JsonElement? Object(string name) =>
            Value(root, name) switch
            {
                null => null,
                { ValueKind: JsonValueKind.Object } v => v,
                _ => throw Problem($"field '{name}' must be an object or null"),
            };

        private string[] StringList(string name) =>
            Value(root, name) switch
            {
                null => [],
                { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(e => e.GetString() ?? "").ToArray(),
                _ => throw Problem($"field '{name}' must be a list of strings"),
            };

        private int[] IntOrIntList(string name) =>
            Value(root, name) switch
            {
                null => [],
                { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(e => AsInt(e, name)).ToArray(),
                JsonElement v => [AsInt(v, name)],
            };

        private int? IntIn(JsonElement parent, string name) => Value(parent, name) is JsonElement v ? AsInt(v, name) : null;

        private int AsInt(JsonElement value, string name)
        {
            // Some configs write integers as 4096.0; accept any number with an integral value.
            if (value.ValueKind == JsonValueKind.Number)
            {
                if (value.TryGetInt32(out int exact))
                {
                    return exact;
                }
                double number = value.GetDouble();
                if (number == Math.Floor(number) && number is >= int.MinValue and <= int.MaxValue)
                {
                    return (int)number;
                }
            }
            throw Problem($"field '{name}' must be an integer, found {value.GetRawText()}");
        }

        private double? DoubleIn(JsonElement parent, string name) =>
            Value(parent, name) switch
            {
                null => null,
                { ValueKind: JsonValueKind.Number } v => v.GetDouble(),
                JsonElement v => throw Problem($"field '{name}' must be a number, found {v.GetRawText()}"),
            };

        private string? StringIn(JsonElement parent, string name) =>
            Value(parent, name) switch
            {
                null => null,
                { ValueKind: JsonValueKind.String } v => v.GetString(),
                JsonElement v => throw Problem($"field '{name}' must be a string, found {v.GetRawText()}"),
            };

        /// <summary>The field's value, or null when it is absent or JSON null (configs use both for "not set").</summary>
        private static JsonElement? Value(JsonElement parent, string name) =>
            parent.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : null;
    }
}

using System.Text.Json;

namespace Fp6.Runtime.Models.Templates;

/// <summary>
/// A Hugging Face chat template (the Jinja <c>chat_template</c> of tokenizer_config.json), parsed once and rendered
/// per request with the variables transformers provides: <c>messages</c>, <c>add_generation_prompt</c>,
/// <c>bos_token</c>, <c>eos_token</c> (and any extra ones, such as <c>tools</c>). The engine implements the Jinja
/// subset chat templates use, configured like transformers (trim_blocks, lstrip_blocks, loop controls,
/// <c>raise_exception</c>, <c>tojson</c> as json.dumps, <c>strftime_now</c>); anything else is rejected at parse
/// time with the construct and its position. Thread-safe: rendering does not change the template.
/// </summary>
public sealed class ChatTemplate
{
    /// <summary>The ChatML template (Qwen and others), used when a model ships no template.</summary>
    public const string ChatMLSource =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private readonly IReadOnlyList<Node> _nodes;
    private readonly string _normalizedSource;

    private ChatTemplate(string source, string? bosToken, string? eosToken)
    {
        Source = source;
        BosToken = bosToken;
        EosToken = eosToken;
        _normalizedSource = TemplateLexer.NormalizeNewlines(source);
        _nodes = TemplateParser.Parse(_normalizedSource);
    }

    /// <summary>The template text as given.</summary>
    public string Source { get; }

    /// <summary>The value of <c>bos_token</c> in the template (from tokenizer_config.json), or null.</summary>
    public string? BosToken { get; }

    /// <summary>The value of <c>eos_token</c> in the template, or null.</summary>
    public string? EosToken { get; }

    /// <summary>True when this is the built-in ChatML fallback rather than the model's own template.</summary>
    public bool IsFallback { get; private init; }

    /// <summary>Where <c>strftime_now</c> reads the time (the local clock unless a test fixes it).</summary>
    internal Func<DateTime> Clock { get; private init; } = () => DateTime.Now;

    /// <summary>A copy of this template whose <c>strftime_now</c> reads <paramref name="clock"/> (for tests).</summary>
    internal ChatTemplate WithClock(Func<DateTime> clock) =>
        new(Source, BosToken, EosToken) { Clock = clock, IsFallback = IsFallback };

    /// <summary>Parses <paramref name="source"/>.</summary>
    /// <exception cref="ChatTemplateException">Syntax error or unsupported construct; the message says what and where.</exception>
    public static ChatTemplate Parse(string source, string? bosToken = null, string? eosToken = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new ChatTemplate(source, bosToken, eosToken);
    }

    /// <summary>The ChatML template.</summary>
    public static ChatTemplate ChatML(string? bosToken = null, string? eosToken = "<|im_end|>") =>
        new(ChatMLSource, bosToken, eosToken) { IsFallback = true };

    /// <summary>
    /// The template of a model directory: <c>chat_template.jinja</c> when present (newer transformers save it there),
    /// else tokenizer_config.json's <c>chat_template</c> (a string, or a list of named templates of which "default"
    /// is taken), else <see cref="ChatML"/>. bos_token and eos_token come from tokenizer_config.json.
    /// </summary>
    public static ChatTemplate FromModelDirectory(string directory)
    {
        string configPath = Path.Combine(directory, "tokenizer_config.json");
        string jinjaPath = Path.Combine(directory, "chat_template.jinja");
        string? configJson = File.Exists(configPath) ? File.ReadAllText(configPath) : null;
        string? jinja = File.Exists(jinjaPath) ? File.ReadAllText(jinjaPath) : null;
        return FromTokenizerConfig(configJson, jinja, configPath);
    }

    /// <summary>
    /// The template described by tokenizer_config.json text (see <see cref="FromModelDirectory"/>);
    /// <paramref name="separateTemplate"/> is the content of a chat_template.jinja file, which wins when given.
    /// </summary>
    public static ChatTemplate FromTokenizerConfig(string? tokenizerConfigJson, string? separateTemplate = null, string sourceName = "tokenizer_config.json")
    {
        string? bos = null;
        string? eos = null;
        string? template = separateTemplate;
        if (tokenizerConfigJson is not null)
        {
            using JsonDocument document = ParseConfig(tokenizerConfigJson, sourceName);
            JsonElement root = document.RootElement;
            bos = TokenText(root, "bos_token");
            eos = TokenText(root, "eos_token");
            template ??= TemplateText(root, sourceName);
        }
        if (template is null)
        {
            return ChatML(bos, eos ?? "<|im_end|>");
        }
        try
        {
            return Parse(template, bos, eos);
        }
        catch (ChatTemplateException ex)
        {
            throw new ChatTemplateException($"{sourceName}: chat_template: {ex.Message}", innerException: ex);
        }
    }

    /// <summary>
    /// Renders a conversation. <paramref name="addGenerationPrompt"/> appends the header that opens the assistant's
    /// reply. <paramref name="extraVariables"/> are passed to the template as well (e.g. "tools"); values may be
    /// strings, numbers, bools, lists, dictionaries, JsonElement or JsonNode.
    /// </summary>
    /// <exception cref="ChatTemplateException">The template rejects the conversation or fails; see <see cref="ChatTemplateException.RaisedByTemplate"/>.</exception>
    public string Render(IReadOnlyList<ChatTemplateMessage> messages, bool addGenerationPrompt = true, IReadOnlyDictionary<string, object?>? extraVariables = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = messages,
            ["add_generation_prompt"] = addGenerationPrompt,
            ["bos_token"] = BosToken,
            ["eos_token"] = EosToken,
        };
        if (extraVariables is not null)
        {
            foreach ((string name, object? value) in extraVariables)
            {
                variables[name] = value;
            }
        }
        return Render(variables);
    }

    /// <summary>Renders with exactly the given variables (messages may carry extra fields such as tool_calls this way).</summary>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        return new TemplateRenderer(_normalizedSource, Clock).Render(_nodes, variables);
    }

    private static JsonDocument ParseConfig(string json, string sourceName)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ChatTemplateException($"{sourceName}: malformed JSON: {ex.Message}", innerException: ex);
        }
    }

    private static string? TemplateText(JsonElement root, string sourceName)
    {
        if (!root.TryGetProperty("chat_template", out JsonElement template) || template.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (template.ValueKind == JsonValueKind.String)
        {
            return template.GetString();
        }
        if (template.ValueKind == JsonValueKind.Array)
        {
            // Several named templates (e.g. "default", "tool_use", "rag"); the default one is the chat template.
            foreach (JsonElement entry in template.EnumerateArray())
            {
                if (entry.TryGetProperty("name", out JsonElement name) && name.GetString() == "default"
                    && entry.TryGetProperty("template", out JsonElement text))
                {
                    return text.GetString();
                }
            }
            throw new ChatTemplateException($"{sourceName}: chat_template lists named templates but none called \"default\"");
        }
        throw new ChatTemplateException($"{sourceName}: chat_template must be a string or a list of named templates");
    }

    private static string? TokenText(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement token) ? token.ValueKind switch
        {
            JsonValueKind.String => token.GetString(),
            JsonValueKind.Object when token.TryGetProperty("content", out JsonElement content) => content.GetString(),
            _ => null,
        } : null;
}

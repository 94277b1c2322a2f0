using System.Text.Json.Nodes;
using Fp6.Runtime.Models.Templates;

namespace Fp6.Runtime.Tests.Models.Templates;

/// <summary>The public chat-template API: the five families' prompts spelled out, loading rules, fallback and errors.</summary>
[TestClass]
public sealed class ChatTemplateTests
{
    private static readonly ChatTemplateMessage[] Conversation =
    [
        new("system", "Be brief."),
        new("user", "Hi!"),
        new("assistant", "Hello."),
        new("user", "Bye?"),
    ];

    private static ChatTemplate Family(string name, string? bos, string? eos) =>
        ChatTemplate.Parse(File.ReadAllText(TestPaths.TestData("ChatTemplates", name + ".jinja")), bos, eos);

    [TestMethod]
    public void Llama2_puts_the_system_prompt_inside_the_first_instruction()
    {
        string prompt = Family("llama2", "<s>", "</s>").Render(Conversation);

        Assert.AreEqual("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello. </s><s>[INST] Bye? [/INST]", prompt);
    }

    [TestMethod]
    public void Llama3_uses_headers_and_eot()
    {
        string prompt = Family("llama3", "<|begin_of_text|>", "<|eot_id|>").Render(Conversation[..2]);

        Assert.AreEqual(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", prompt);
    }

    [TestMethod]
    public void Mistral_puts_the_system_prompt_in_the_last_instruction()
    {
        string prompt = Family("mistral", "<s>", "</s>").Render(Conversation);

        Assert.AreEqual("<s>[INST] Hi![/INST] Hello.</s>[INST] Be brief.\n\nBye?[/INST]", prompt);
    }

    [TestMethod]
    public void Qwen2_adds_a_default_system_prompt_and_the_generation_header()
    {
        string prompt = Family("qwen2", null, "<|im_end|>").Render([new ChatTemplateMessage("user", "Hi!")], addGenerationPrompt: true);

        Assert.AreEqual("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n", prompt);
    }

    [TestMethod]
    public void Zephyr_relies_on_trim_blocks_to_keep_exactly_one_newline_per_turn()
    {
        string prompt = Family("zephyr", "<s>", "</s>").Render(Conversation[..2], addGenerationPrompt: true);

        Assert.AreEqual("<|system|>\nBe brief.</s>\n<|user|>\nHi!</s>\n<|assistant|>\n", prompt);
    }

    [TestMethod]
    public void Template_rejections_are_flagged_as_raised_by_the_template()
    {
        ChatTemplateMessage[] twoUsers = [new("user", "a"), new("user", "b")];

        var error = Assert.ThrowsExactly<ChatTemplateException>(() => Family("llama2", "<s>", "</s>").Render(twoUsers));

        Assert.IsTrue(error.RaisedByTemplate);
        Assert.AreEqual("Conversation roles must alternate user/assistant/user/assistant/...", error.Message);
    }

    [TestMethod]
    public void ChatML_is_the_fallback_when_a_model_has_no_template()
    {
        ChatTemplate template = ChatTemplate.FromTokenizerConfig("""{"bos_token": null, "eos_token": "<|endoftext|>"}""");

        Assert.IsTrue(template.IsFallback);
        Assert.AreEqual("<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n", template.Render([new ChatTemplateMessage("user", "Hi!")]));
        Assert.AreEqual("<|endoftext|>", template.EosToken);
    }

    [TestMethod]
    public void Tokenizer_config_templates_tokens_and_named_template_lists_are_read()
    {
        var config = new JsonObject
        {
            ["bos_token"] = new JsonObject { ["content"] = "<s>", ["special"] = true },
            ["eos_token"] = "</s>",
            ["chat_template"] = new JsonArray(
                new JsonObject { ["name"] = "tool_use", ["template"] = "tools" },
                new JsonObject { ["name"] = "default", ["template"] = "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}" }),
        };

        ChatTemplate template = ChatTemplate.FromTokenizerConfig(config.ToJsonString());

        Assert.IsFalse(template.IsFallback);
        Assert.AreEqual("<s>", template.BosToken);
        Assert.AreEqual("<s>x</s>", template.Render([new ChatTemplateMessage("user", "x")]));
    }

    [TestMethod]
    public void A_chat_template_jinja_file_wins_over_the_config()
    {
        string directory = Path.Combine(Path.GetTempPath(), "fp6-template-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), """{"eos_token": "</s>", "chat_template": "from config"}""");
            File.WriteAllText(Path.Combine(directory, "chat_template.jinja"), "from file {{ eos_token }}\n");

            ChatTemplate template = ChatTemplate.FromModelDirectory(directory);

            Assert.AreEqual("from file </s>", template.Render([]), "the file's final newline is dropped, as Jinja does");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void Extra_variables_and_message_fields_reach_the_template()
    {
        ChatTemplate template = ChatTemplate.Parse("{% for t in tools %}{{ t.name }};{% endfor %}{{ messages[0].tool_calls | length }}");
        var message = new Dictionary<string, object?> { ["role"] = "assistant", ["content"] = "", ["tool_calls"] = new[] { "a", "b" } };

        string text = template.Render(new Dictionary<string, object?>
        {
            ["messages"] = new[] { message },
            ["tools"] = JsonNode.Parse("""[{"name": "search"}, {"name": "calc"}]"""),
        });

        Assert.AreEqual("search;calc;2", text);
    }

    [TestMethod]
    public void Strftime_now_formats_the_clock()
    {
        ChatTemplate template = ChatTemplate.Parse("Today is {{ strftime_now('%d %b %Y') }}, {{ strftime_now('%A %H:%M') }}.")
            .WithClock(() => new DateTime(2026, 11, 21, 9, 5, 0));

        Assert.AreEqual("Today is 21 Nov 2026, Saturday 09:05.", template.Render([]));
    }

    [TestMethod]
    [DataRow("{% include 'other.jinja' %}", "'{% include %}' is not supported", "line 1, column 4")]
    [DataRow("ok\n{% for x in y recursive %}{% endfor %}", "recursive for loops are not supported", "line 2")]
    [DataRow("{{ x | wordwrap }}", "filter 'wordwrap' is not supported", "line 1, column 8")]
    [DataRow("{{ x is prime }}", "test 'prime' is not supported", "line 1, column 9")]
    [DataRow("{% if x %}open", "missing '{% endif %}'", "line 1")]
    [DataRow("{{ x + }}", "unexpected the end of the tag", "line 1")]
    [DataRow("{% set x %}y{% endset %}", "block assignments", "line 1")]
    [DataRow("{{ 'unterminated }}", "unclosed '{{'", "line 1, column 1")]
    [DataRow("{% endfor %}", "unexpected '{% endfor %}'", "line 1")]
    [DataRow("{{ f(*args) }}", "*args and **kwargs", "line 1")]
    [DataRow("{% frobnicate %}", "unknown statement '{% frobnicate %}'", "line 1")]
    [DataRow("text {% if x", "unclosed '{%'", "line 1, column 6")]
    public void Unsupported_or_broken_templates_fail_at_parse_time_with_the_construct_and_position(string source, string what, string where)
    {
        var error = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse(source));

        StringAssert.Contains(error.Message, what);
        StringAssert.Contains(error.Message, where);
        Assert.IsFalse(error.RaisedByTemplate);
    }

    [TestMethod]
    [DataRow("{{ messages[0].content.casefold() }}", "method 'casefold' is not supported")]
    [DataRow("line one\n{{ missing.attribute }}", "'missing' is undefined (line 2")]
    [DataRow("{{ 1 + 'a' }}", "unsupported operand type(s) for +: 'int' and 'str'")]
    [DataRow("{{ 1 // 0 }}", "division by zero")]
    [DataRow("{% set x = 3 %}{% set x.y = 1 %}", "cannot assign attribute on non-namespace object 'x'")]
    [DataRow("{% break %}", "outside a for loop")]
    [DataRow("{{ range(1000000) | length }}", "larger than the allowed")]
    public void Render_errors_name_the_problem_and_where(string source, string what)
    {
        var error = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.Parse(source).Render([new ChatTemplateMessage("user", "x")]));

        StringAssert.Contains(error.Message, what);
        StringAssert.Contains(error.Message, "line ");
    }

    [TestMethod]
    public void Malformed_tokenizer_config_names_the_file()
    {
        var error = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.FromTokenizerConfig("{", sourceName: "m/tokenizer_config.json"));
        StringAssert.Contains(error.Message, "m/tokenizer_config.json");

        var bad = Assert.ThrowsExactly<ChatTemplateException>(() => ChatTemplate.FromTokenizerConfig("""{"chat_template": "{% if %}"}"""));
        StringAssert.Contains(bad.Message, "chat_template");
    }
}

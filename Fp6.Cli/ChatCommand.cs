using System.CommandLine;
using Fp6.Runtime.Engine;
using Fp6.Runtime.Models.Templates;
using Fp6.Runtime.Sampling;

namespace Fp6.Cli;

/// <summary><c>fp6 chat</c>: a conversation on the terminal, one user line per turn, the reply streamed.</summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "A converted model folder or a Hugging Face checkpoint (default: the embedded model)." };
        var system = new Option<string?>("--system") { Description = "A system prompt." };
        var prompt = new Option<string?>("--prompt", "-p") { Description = "Answer this one message and exit (instead of reading turns from standard input)." };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens per reply.", DefaultValueFactory = _ => 200 };
        var temperature = new Option<float>("--temperature") { Description = "0 for greedy decoding.", DefaultValueFactory = _ => 0.7f };
        var topK = new Option<int>("--top-k") { Description = "Sample from the k most likely tokens (0: all).", DefaultValueFactory = _ => 40 };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass.", DefaultValueFactory = _ => 0.9f };
        var seed = new Option<int?>("--seed") { Description = "Seed for reproducible sampling." };
        var command = new Command("chat", "Chat with a model on the CPU (the embedded default model unless --model is given).")
        {
            model, system, prompt, maxTokens, temperature, topK, topP, seed,
        };
        command.SetAction(parse =>
        {
            var options = new GenerationOptions
            {
                MaxNewTokens = parse.GetValue(maxTokens),
                Sampling = new SamplingOptions { Temperature = parse.GetValue(temperature), TopK = parse.GetValue(topK), TopP = parse.GetValue(topP), Seed = parse.GetValue(seed) },
            };
            try
            {
                options.Sampling.Validate();
                var bar = new ProgressBar();
                string folder = ModelLocator.ResolveCpuModel(parse.GetValue(model), bar, Console.Error);
                bar.Finish();
                using ModelFolder loaded = ModelFolder.Open(folder, cacheTokens: 4096);
                return Run(loaded, parse.GetValue(system), parse.GetValue(prompt), options);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException or NotSupportedException or ArgumentException or ChatTemplateException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static int Run(ModelFolder model, string? system, string? oneShot, GenerationOptions options)
    {
        TextGenerator generator = model.CreateGenerator();
        var history = new List<ChatTemplateMessage>();
        if (!string.IsNullOrWhiteSpace(system))
        {
            history.Add(new ChatTemplateMessage("system", system));
        }

        bool interactive = oneShot is null && !Console.IsInputRedirected;
        if (interactive)
        {
            Console.Error.WriteLine($"fp6 chat: {Path.GetFileName(model.Manifest.Source)} ({model.Manifest.Fp6LinearCount} FP6 linear layers, CPU). /reset clears the conversation, /exit or Ctrl+D leaves.");
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        while (true)
        {
            string? line;
            if (oneShot is not null)
            {
                line = oneShot;
            }
            else
            {
                if (interactive)
                {
                    Console.Error.Write("> ");
                }

                line = Console.ReadLine();
            }

            if (line is null || line.Trim() == "/exit")
            {
                return 0;
            }

            if (line.Trim() == "/reset")
            {
                history.RemoveAll(m => m.Role != "system");
                continue;
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            history.Add(new ChatTemplateMessage("user", line));
            string rendered = model.ChatTemplate.Render(history, addGenerationPrompt: true);
            int[] tokens = model.Tokenizer.Encode(rendered, addSpecialTokens: false);
            var reply = new System.Text.StringBuilder();
            try
            {
                foreach (GeneratedText piece in generator.Generate(tokens, options, cancel.Token))
                {
                    Console.Out.Write(piece.Text);
                    Console.Out.Flush();
                    reply.Append(piece.Text);
                }
            }
            catch (OperationCanceledException)
            {
                Console.Error.Write(" [stopped]");
            }

            Console.Out.WriteLine();
            history.Add(new ChatTemplateMessage("assistant", reply.ToString().Trim()));
            if (oneShot is not null)
            {
                return 0;
            }
        }
    }
}

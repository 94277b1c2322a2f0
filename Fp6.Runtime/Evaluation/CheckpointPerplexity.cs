using Fp6.Runtime.Conversion;
using Fp6.Runtime.Engine;
using Fp6.Runtime.Graph;
using Fp6.Runtime.Models.Checkpoints;
using Fp6.Runtime.Models.Tokenization;
using Fp6.Runtime.Onnx;
using Fp6.Runtime.Onnx.Passes;
using Fp6.Runtime.Quantization;

namespace Fp6.Runtime.Evaluation;

/// <summary>
/// Held-out perplexity of a Hugging Face checkpoint on the CPU path, unquantized (float32 weights) or with every
/// linear layer in FP6, computed the way the embedded model's training scripts compute it in PyTorch: the text is
/// tokenized whole without special tokens, cut into consecutive chunks of <c>context</c> tokens, and each chunk is
/// scored from BOS (every text token predicted exactly once).
/// </summary>
public static class CheckpointPerplexity
{
    /// <summary>Evaluates <paramref name="text"/> with the checkpoint in <paramref name="checkpointDirectory"/>.</summary>
    /// <param name="checkpointDirectory">A Hugging Face checkpoint folder (small enough to build in memory).</param>
    /// <param name="text">The held-out text.</param>
    /// <param name="context">Tokens per chunk (the trained context length).</param>
    /// <param name="fp6">Quantize the linear layers to FP6 first.</param>
    public static PerplexityResult Evaluate(string checkpointDirectory, string text, int context, bool fp6)
    {
        ModelConfig config = ModelConfigReader.Load(Path.Combine(checkpointDirectory, "config.json"));
        Tokenizer tokenizer = Tokenizer.FromDirectory(checkpointDirectory);
        int bos = tokenizer.BosTokenId ?? config.BosTokenId
            ?? throw new InvalidDataException($"{checkpointDirectory} defines no BOS token; the perplexity method starts every chunk with it.");
        LlamaGraphSpec spec = LlamaGraphSpecs.FromConfig(config, context + 1);
        byte[] model;
        using (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(checkpointDirectory))
        using (OnnxModel graph = LlamaGraphBuilder.Build(spec, new CheckpointWeights(checkpoint), GraphTarget.Cpu, unembedAllTokens: true))
        {
            if (fp6)
            {
                Fp6LinearPass.Apply(graph, Fp6WeightLayout.RowBlock32);
            }

            model = graph.ToByteArray();
        }

        int[] tokens = tokenizer.Encode(text, addSpecialTokens: false, parseSpecialTokens: false);
        int blockSize = 16;
        using var runner = new CpuPagedModel(model, spec, (context + blockSize) / blockSize + 1, blockSize);
        return PerplexityEvaluator.Evaluate(runner, tokens, context + 1, bos);
    }
}

using Microsoft.ML.OnnxRuntime;
using Fp6.Runtime.Graph;

namespace Fp6.Runtime.Engine;

/// <summary>
/// Runs a CPU-target graph (see <see cref="GraphNames"/>) step by step over a paged KV cache that is allocated once:
/// each layer's key and value pool is a managed array wrapped in an OrtValue for the life of the model, and the
/// attention op updates it in place every step.
/// </summary>
public sealed class CpuPagedModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly List<OrtValue> _caches = [];
    private readonly string[] _cacheNames;
    private readonly int _vocabSize;
    private readonly bool _needsLastTokenIndices;

    /// <summary>Loads the model and allocates the KV pool.</summary>
    /// <param name="modelPath">A CPU-target model file.</param>
    /// <param name="spec">The model's shape.</param>
    /// <param name="blockCount">Cache blocks in the pool.</param>
    /// <param name="blockSize">Positions per block.</param>
    /// <param name="intraOpThreads">Threads per operator; 0 for one per core.</param>
    public CpuPagedModel(string modelPath, LlamaGraphSpec spec, int blockCount, int blockSize, int intraOpThreads = 0)
        : this(spec, blockCount, blockSize, options => new InferenceSession(modelPath, options), intraOpThreads)
    {
    }

    /// <summary>Loads an in-memory model (small models, tests) and allocates the KV pool.</summary>
    public CpuPagedModel(byte[] model, LlamaGraphSpec spec, int blockCount, int blockSize, int intraOpThreads = 0)
        : this(spec, blockCount, blockSize, options => new InferenceSession(model, options), intraOpThreads)
    {
    }

    private CpuPagedModel(LlamaGraphSpec spec, int blockCount, int blockSize, Func<SessionOptions, InferenceSession> open, int intraOpThreads)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Allocator = new KvBlockAllocator(blockCount, blockSize);
        _vocabSize = spec.VocabSize;
        using (SessionOptions options = Fp6SessionOptions.CreateForCpu(intraOpThreads))
        {
            _session = open(options);
        }

        _needsLastTokenIndices = _session.InputMetadata.ContainsKey(GraphNames.LastTokenIndices);

        long[] shape = [blockCount, blockSize, spec.KvHeadCount, spec.HeadSize];
        long elements = shape.Aggregate(1L, (a, b) => a * b);
        _cacheNames = new string[2 * spec.LayerCount];
        for (int layer = 0; layer < spec.LayerCount; layer++)
        {
            _cacheNames[2 * layer] = GraphNames.KeyCache(layer);
            _cacheNames[(2 * layer) + 1] = GraphNames.ValueCache(layer);
            _caches.Add(OrtValue.CreateTensorValueFromMemory(new float[elements], shape));
            _caches.Add(OrtValue.CreateTensorValueFromMemory(new float[elements], shape));
        }
    }

    /// <summary>The cache blocks of this model's pool.</summary>
    public KvBlockAllocator Allocator { get; }

    /// <summary>
    /// Runs one ragged step and returns the rows of the graph's logits: per sequence, the logits of its last new token
    /// (or, for a graph built with every token unembedded, one row per new token in step order).
    /// </summary>
    public float[][] Step(IReadOnlyList<PagedStep> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        int batch = sequences.Count;
        int tokens = sequences.Sum(s => s.NewTokens.Count);
        int maxBlocks = Math.Max(1, sequences.Max(s => s.Blocks.Count));
        var inputIds = new long[tokens];
        var cumulative = new int[batch + 1];
        var past = new int[batch];
        var blockTable = new int[batch * maxBlocks];
        Array.Fill(blockTable, -1);
        int t = 0;
        for (int b = 0; b < batch; b++)
        {
            PagedStep s = sequences[b];
            if (s.NewTokens.Count == 0)
            {
                throw new ArgumentException($"Sequence {b} of the step has no new token.", nameof(sequences));
            }

            if (s.Blocks.Count * Allocator.BlockSize < s.PastLength + s.NewTokens.Count)
            {
                throw new ArgumentException($"Sequence {b} has {s.Blocks.Count} blocks, too few for {s.PastLength + s.NewTokens.Count} positions.", nameof(sequences));
            }

            foreach (int token in s.NewTokens)
            {
                inputIds[t++] = token;
            }

            cumulative[b + 1] = t;
            past[b] = s.PastLength;
            for (int i = 0; i < s.Blocks.Count; i++)
            {
                blockTable[(b * maxBlocks) + i] = s.Blocks[i];
            }
        }

        var names = new List<string> { GraphNames.InputIds, GraphNames.CumulativeSequenceLength, GraphNames.PastSequenceLengths, GraphNames.BlockTable };
        var values = new List<OrtValue>
        {
            OrtValue.CreateTensorValueFromMemory(inputIds, [tokens]),
            OrtValue.CreateTensorValueFromMemory(cumulative, [batch + 1]),
            OrtValue.CreateTensorValueFromMemory(past, [batch]),
            OrtValue.CreateTensorValueFromMemory(blockTable, [batch, maxBlocks]),
        };
        if (_needsLastTokenIndices)
        {
            names.Add(GraphNames.LastTokenIndices);
            values.Add(OrtValue.CreateTensorValueFromMemory(cumulative.Skip(1).Select(end => (long)end - 1).ToArray(), [batch]));
        }

        try
        {
            names.AddRange(_cacheNames);
            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(runOptions, names, [.. values, .. _caches], [GraphNames.Logits]);
            ReadOnlySpan<float> logits = outputs[0].GetTensorDataAsSpan<float>();
            var result = new float[logits.Length / _vocabSize][];
            for (int row = 0; row < result.Length; row++)
            {
                result[row] = logits.Slice(row * _vocabSize, _vocabSize).ToArray();
            }

            return result;
        }
        finally
        {
            foreach (OrtValue value in values)
            {
                value.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        foreach (OrtValue cache in _caches)
        {
            cache.Dispose();
        }
    }
}

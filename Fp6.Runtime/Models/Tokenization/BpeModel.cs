using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Fp6.Runtime.Models.Tokenization;

/// <summary>
/// The byte-pair-encoding model of a tokenizer.json: a vocabulary, ranked merges, and how characters missing from
/// the vocabulary are handled (SentencePiece byte fallback "&lt;0xNN&gt;", or the unknown token).
/// A word is split into characters and the adjacent pair with the lowest merge rank is merged until none is left,
/// with a min-heap keyed by (rank, position) — the order Hugging Face's implementation merges in, which decides the
/// result when equal-ranked pairs overlap.
/// </summary>
internal sealed class BpeModel
{
    /// <summary>Words longer than this are not cached (Llama 2 has no pre-tokenizer, so a whole paragraph can be one word).</summary>
    private const int MaxCachedWordLength = 256;

    /// <summary>The cache is cleared when it reaches this many words, which bounds its memory on adversarial input.</summary>
    private const int MaxCacheEntries = 100_000;

    private readonly Dictionary<string, int> _vocabulary;
    private readonly Dictionary<long, (int Rank, int MergedId)> _merges;
    private readonly int? _unknownId;
    private readonly bool _fuseUnknown;
    private readonly bool _byteFallback;
    private readonly bool _ignoreMerges;
    private readonly int[]? _byteTokenIds;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    /// <summary>Builds the model; <paramref name="merges"/> are (left, right) token strings in rank order.</summary>
    /// <exception cref="TokenizerFormatException">A merge names a token the vocabulary lacks, or the unknown token is missing.</exception>
    internal BpeModel(
        Dictionary<string, int> vocabulary,
        IReadOnlyList<(string Left, string Right)> merges,
        string? unknownToken,
        bool fuseUnknown,
        bool byteFallback,
        bool ignoreMerges,
        string source)
    {
        _vocabulary = vocabulary;
        _fuseUnknown = fuseUnknown;
        _byteFallback = byteFallback;
        _ignoreMerges = ignoreMerges;

        if (unknownToken is not null)
        {
            _unknownId = vocabulary.TryGetValue(unknownToken, out int id)
                ? id
                : throw new TokenizerFormatException(source, $"unk_token '{unknownToken}' is not in the vocabulary");
        }

        _merges = new Dictionary<long, (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            (string left, string right) = merges[rank];
            if (!vocabulary.TryGetValue(left, out int leftId) || !vocabulary.TryGetValue(right, out int rightId)
                || !vocabulary.TryGetValue(left + right, out int mergedId))
            {
                throw new TokenizerFormatException(source, $"merge {rank} '{left} {right}' uses a token that is not in the vocabulary");
            }
            // A pair listed twice keeps its last rank, as Hugging Face's map construction does.
            _merges[PairKey(leftId, rightId)] = (rank, mergedId);
        }

        if (byteFallback)
        {
            _byteTokenIds = new int[256];
            for (int b = 0; b < 256; b++)
            {
                _byteTokenIds[b] = vocabulary.TryGetValue(ByteTokenName(b), out int id) ? id : -1;
            }
        }

        IdToToken = new string[vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1];
        foreach ((string token, int id) in vocabulary)
        {
            IdToToken[id] = token;
        }
    }

    /// <summary>Token strings by id (null where the vocabulary has a gap).</summary>
    internal string?[] IdToToken { get; }

    /// <summary>The vocabulary (token string to id).</summary>
    internal IReadOnlyDictionary<string, int> Vocabulary => _vocabulary;

    /// <summary>The SentencePiece name of the token for one byte, e.g. "&lt;0x0A&gt;".</summary>
    internal static string ByteTokenName(int value) => string.Create(CultureInfo.InvariantCulture, $"<0x{value:X2}>");

    /// <summary>Appends the ids of <paramref name="word"/> to <paramref name="ids"/>.</summary>
    internal void Tokenize(string word, List<int> ids)
    {
        if (word.Length == 0)
        {
            return;
        }
        if (_ignoreMerges && _vocabulary.TryGetValue(word, out int whole))
        {
            ids.Add(whole);
            return;
        }
        if (word.Length <= MaxCachedWordLength && _cache.TryGetValue(word, out int[]? cached))
        {
            ids.AddRange(cached);
            return;
        }

        int[] result = Merge(InitialSymbols(word));
        if (word.Length <= MaxCachedWordLength)
        {
            if (_cache.Count >= MaxCacheEntries)
            {
                _cache.Clear();
            }
            _cache.TryAdd(word, result);
        }
        ids.AddRange(result);
    }

    /// <summary>One symbol per character (a surrogate pair is one character), or per byte where byte fallback applies.</summary>
    private List<int> InitialSymbols(string word)
    {
        var symbols = new List<int>(word.Length);
        int pendingUnknown = -1;
        Span<byte> utf8 = stackalloc byte[4];
        // Look characters up by span: no string per character (Llama 2 words can be whole paragraphs).
        var lookup = _vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        for (int i = 0; i < word.Length;)
        {
            int charLength = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            ReadOnlySpan<char> character = word.AsSpan(i, charLength);
            i += charLength;

            if (lookup.TryGetValue(character, out int id))
            {
                FlushUnknown(ref pendingUnknown, symbols);
                symbols.Add(id);
                continue;
            }
            if (_byteTokenIds is not null)
            {
                int byteCount = Encoding.UTF8.GetBytes(character, utf8);
                bool allPresent = true;
                for (int b = 0; b < byteCount; b++)
                {
                    allPresent &= _byteTokenIds[utf8[b]] >= 0;
                }
                if (allPresent)
                {
                    FlushUnknown(ref pendingUnknown, symbols);
                    for (int b = 0; b < byteCount; b++)
                    {
                        symbols.Add(_byteTokenIds[utf8[b]]);
                    }
                    continue;
                }
            }
            if (_unknownId is int unknown)
            {
                // Consecutive unknown characters become one unknown token when fuse_unk is set.
                if (pendingUnknown >= 0 && !_fuseUnknown)
                {
                    symbols.Add(pendingUnknown);
                }
                pendingUnknown = unknown;
            }
            // Without an unknown token, Hugging Face drops the character; so do we.
        }
        FlushUnknown(ref pendingUnknown, symbols);
        return symbols;
    }

    private static void FlushUnknown(ref int pendingUnknown, List<int> symbols)
    {
        if (pendingUnknown >= 0)
        {
            symbols.Add(pendingUnknown);
            pendingUnknown = -1;
        }
    }

    private int[] Merge(List<int> initial)
    {
        int count = initial.Count;
        if (count < 2)
        {
            return initial.ToArray();
        }

        int[] ids = initial.ToArray();
        var previous = new int[count];
        var next = new int[count];
        var removed = new bool[count];
        for (int i = 0; i < count; i++)
        {
            previous[i] = i - 1;
            next[i] = i + 1 < count ? i + 1 : -1;
        }

        // Priority (rank << 32 | position): lowest rank first, leftmost first among equals.
        var queue = new PriorityQueue<(int Position, int MergedId), long>(count);
        for (int i = 0; i + 1 < count; i++)
        {
            Enqueue(queue, i, ids[i], ids[i + 1]);
        }

        while (queue.TryDequeue(out var candidate, out _))
        {
            int position = candidate.Position;
            if (removed[position] || next[position] < 0)
            {
                continue;
            }
            int right = next[position];
            // The entry is stale if either side has changed since it was queued.
            if (!_merges.TryGetValue(PairKey(ids[position], ids[right]), out var merge) || merge.MergedId != candidate.MergedId)
            {
                continue;
            }

            ids[position] = merge.MergedId;
            removed[right] = true;
            next[position] = next[right];
            if (next[right] >= 0)
            {
                previous[next[right]] = position;
            }
            if (previous[position] >= 0)
            {
                Enqueue(queue, previous[position], ids[previous[position]], ids[position]);
            }
            if (next[position] >= 0)
            {
                Enqueue(queue, position, ids[position], ids[next[position]]);
            }
        }

        var result = new List<int>(count);
        for (int i = 0; i >= 0; i = next[i])
        {
            result.Add(ids[i]);
        }
        return result.ToArray();
    }

    private void Enqueue(PriorityQueue<(int, int), long> queue, int position, int leftId, int rightId)
    {
        if (_merges.TryGetValue(PairKey(leftId, rightId), out var merge))
        {
            queue.Enqueue((position, merge.MergedId), ((long)merge.Rank << 32) | (uint)position);
        }
    }

    private static long PairKey(int leftId, int rightId) => ((long)leftId << 32) | (uint)rightId;
}

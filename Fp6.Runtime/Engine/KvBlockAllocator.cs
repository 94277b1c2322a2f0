namespace Fp6.Runtime.Engine;

/// <summary>Hands out fixed-size KV cache blocks from a pool and takes them back (first free block first).</summary>
public sealed class KvBlockAllocator
{
    private readonly SortedSet<int> _free;

    /// <summary>A pool of <paramref name="blockCount"/> blocks of <paramref name="blockSize"/> positions.</summary>
    public KvBlockAllocator(int blockCount, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        BlockCount = blockCount;
        BlockSize = blockSize;
        _free = new SortedSet<int>(Enumerable.Range(0, blockCount));
    }

    /// <summary>Blocks in the pool.</summary>
    public int BlockCount { get; }

    /// <summary>Positions per block.</summary>
    public int BlockSize { get; }

    /// <summary>Blocks not handed out.</summary>
    public int FreeCount => _free.Count;

    /// <summary>Blocks needed to hold <paramref name="positions"/> positions.</summary>
    public int BlocksFor(int positions) => (positions + BlockSize - 1) / BlockSize;

    /// <summary>Grows <paramref name="blocks"/> until it holds <paramref name="positions"/> positions.</summary>
    /// <exception cref="InvalidOperationException">The pool is exhausted.</exception>
    public void EnsureCapacity(List<int> blocks, int positions)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        int needed = BlocksFor(positions) - blocks.Count;
        if (needed > _free.Count)
        {
            throw new InvalidOperationException($"The KV cache is full: {needed} more blocks needed, {_free.Count} free of {BlockCount}.");
        }

        for (int i = 0; i < needed; i++)
        {
            int block = _free.Min;
            _free.Remove(block);
            blocks.Add(block);
        }
    }

    /// <summary>Returns blocks to the pool.</summary>
    public void Release(IEnumerable<int> blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        foreach (int block in blocks)
        {
            if (!_free.Add(block))
            {
                throw new InvalidOperationException($"Block {block} was released twice.");
            }
        }
    }
}

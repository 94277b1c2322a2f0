namespace Fp6.Runtime.Engine;

/// <summary>One sequence's share of a ragged step: its new tokens, how many it already has cached, its blocks.</summary>
/// <param name="NewTokens">Token ids to process now (a prompt chunk, or one decode token).</param>
/// <param name="PastLength">Positions already in the cache for this sequence.</param>
/// <param name="Blocks">Physical cache blocks of the sequence, in logical order; must hold PastLength + NewTokens.Count positions.</param>
public sealed record PagedStep(IReadOnlyList<int> NewTokens, int PastLength, IReadOnlyList<int> Blocks);

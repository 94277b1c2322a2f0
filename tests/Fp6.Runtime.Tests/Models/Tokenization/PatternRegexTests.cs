using Fp6.Runtime.Models.Tokenization;

namespace Fp6.Runtime.Tests.Models.Tokenization;

/// <summary>Translation of Oniguruma pre-tokenizer patterns to .NET, and category-correct matching outside the BMP.</summary>
[TestClass]
public sealed class PatternRegexTests
{
    private const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [TestMethod]
    [DataRow(@"a?+b", @"(?>a?)b")]
    [DataRow(@"[^\s\p{L}\p{N}]++[\r\n]*", @"(?>[^\s\p{L}\p{N}]+)[\r\n]*")]
    [DataRow(@"\p{N}{1,3}+", @"(?>\p{N}{1,3})")]
    [DataRow(@"(ab)*+c", @"(?>(ab)*)c")]
    [DataRow(@"(?i:'s|'t)", @"(?i:'s|'t)")]
    [DataRow(@"x*?y+?", @"x*?y+?")]
    [DataRow(@"[+*?]+", @"[+*?]+")]
    [DataRow(@"\x{41}+", @"\u0041+")]
    [DataRow(@"a{2}", @"a{2}")]
    [DataRow(@"\++", @"\++")]
    public void Possessive_quantifiers_become_atomic_groups(string oniguruma, string dotnet) =>
        Assert.AreEqual(dotnet, PatternRegex.Translate(oniguruma));

    [TestMethod]
    public void Possessive_and_greedy_forms_split_differently_where_backtracking_matters()
    {
        // "a?+a" cannot match "a": the possessive "a?" keeps the only "a". The plain form backtracks and matches.
        Assert.IsEmpty(new PatternRegex("a?+a").Matches("a"));
        Assert.HasCount(1, new PatternRegex("a?a").Matches("a"));
    }

    [TestMethod]
    public void Letters_outside_the_bmp_count_as_letters()
    {
        // Mathematical bold "Hello" (U+1D407…), then a space and a CJK extension B ideograph: three words.
        var regex = new PatternRegex(Llama3Pattern);
        string text = "\U0001D407\U0001D41E\U0001D425\U0001D425\U0001D428 \U00020000x";

        var matches = regex.Matches(text);

        string[] words = matches.Select(m => text.Substring(m.Start, m.Length)).ToArray();
        Assert.HasCount(2, words);
        Assert.AreEqual("\U0001D407\U0001D41E\U0001D425\U0001D425\U0001D428", words[0]);
        Assert.AreEqual(" \U00020000x", words[1]);
    }

    [TestMethod]
    public void Digits_outside_the_bmp_group_by_three_code_points()
    {
        var regex = new PatternRegex(Llama3Pattern);
        string text = "\U0001D7D9\U0001D7DA\U0001D7DB\U0001D7DC";

        var matches = regex.Matches(text);

        Assert.HasCount(2, matches);
        Assert.AreEqual(6, matches[0].Length, "three astral digits are six UTF-16 units");
    }

    [TestMethod]
    public void Unsupported_syntax_is_reported()
    {
        Assert.ThrowsExactly<ArgumentException>(() => PatternRegex.Translate("[a[b]]"));
        Assert.ThrowsExactly<ArgumentException>(() => PatternRegex.Translate("a)"));
    }
}

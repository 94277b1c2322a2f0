"""The texts the tokenizer parity fixtures are made from: varied on purpose (scripts, whitespace, digits, code,
emoji, special-token text). Deterministic; imported by make_fixtures.py."""

BASE = [
    # plain text and contractions
    "Hello world", "Hello, world!", "The quick brown fox jumps over the lazy dog.", "hello", "HELLO", "Hello",
    "I'm here, you're there, it's fine; they'll come, we've gone, he'd know.", "DON'T SHOUT, I'LL HEAR YOU'RE HERE",
    "He'S O'Brien's 'quoted' text", "rock'n'roll", "'s 't 're 've 'm 'll 'd", "can't won't shan't",
    "Supercalifragilisticexpialidocious", "antidisestablishmentarianism", "a", "I", ".", "!!!", "?!?!", "...",
    "Mr. Smith went to Washington D.C. on Jan. 5th.",
    # whitespace
    "", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "a  b", "a   b", "a    b", "a\tb", "a\t\tb", "a\nb",
    "a\n\nb", "a\n\n\nb", "a \n b", "line1\nline2\n", "\n   indented", "end.\n", "x\r\ny", "  leading", "trailing  ",
    " both ", "\t tab and space \t", "word  \n\n  word", "  \n\t  \n", "a \u00a0 b", "\u3000full\u3000width\u3000",
    "em\u2003space", "a\u2028b", "next\u0085line", "zero\u200bwidth", "\ufeffbom",
    # digits and numbers
    "0", "7", "42", "123", "1234", "12345", "1234567", "3.14159", "1,000,000", "2024-11-21", "x1y2z3", "v1.2.3-rc4",
    "$19.99", "\u20ac100", "50%", "1e-10", "0xDEADBEEF", "+49 30 123456", "\u0663\u0664\u0665", "\u2460\u2461\u2462",
    "\u216b", "1234567890" * 5, "\U0001d7d9\U0001d7da\U0001d7db",
    # code
    "def foo(bar):\n    return bar * 2\n", "for (int i = 0; i < n; i++) { sum += a[i]; }",
    "public static void Main(string[] args) => Console.WriteLine(\"hi\");", "{\"key\": [1, 2, {\"x\": null}]}",
    "<div class=\"a\">text</div>", "SELECT * FROM t WHERE id = 3;", "https://example.com/path?q=1&r=two#frag",
    "user@example.org", "/usr/local/bin/python3", "C:\\Windows\\System32", "x = y if z else w  # comment",
    "if (a && b || !c) return;", "    indented code\n\tand tab", "`backticks` and ```fenced```", "__init__ self._x",
    "camelCaseIdentifier snake_case_identifier SCREAMING_CASE", "a->b; c::d; e=>f", "#include <stdio.h>",
    "\\n literal backslash-n", "regex: ^\\s*(\\d+)\\.$",
    # emoji
    "\U0001f600", "\U0001f44d\U0001f3fd", "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", "\U0001f1eb\U0001f1f7",
    "I \u2764\ufe0f NY", "emoji\U0001f600inside", "\U0001f600\U0001f601\U0001f602 three", "rocket \U0001f680 launch",
    "\u2615 coffee", "\U0001f9d1\u200d\U0001f4bb coding",
    # CJK and other scripts
    "\u4f60\u597d\uff0c\u4e16\u754c", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8", "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8",
    "\u4e2d\u6587 and English mixed \u6df7\u5408", "\u6211\u7231\u5317\u4eac\u5929\u5b89\u95e8",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!", "\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645", "\u05e9\u05dc\u05d5\u05dd",
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e", "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35",
    "na\u00efve caf\u00e9 r\u00e9sum\u00e9", "e\u0301 combining", "Stra\u00dfe", "\u00c5ngstr\u00f6m",
    "\U0001d407\U0001d41e\U0001d425\U0001d425\U0001d428", "\U00020000\U00020001 ext-B", "\U00013000 hieroglyph",
    "\ua66e", "\ue000 private use", "\u0000nul", "\u0001\u0002ctrl", "del\u007f",
    # punctuation and symbols
    "\u201csmart quotes\u201d and \u2018single\u2019", "\u2014em dash\u2014", "ellipsis\u2026", "\u2122 \u00a9 \u00ae",
    "\u00b0C \u00b1 \u00d7 \u00f7", "\u00bd \u00bc", "<<>>", "a/b\\c|d", "~tilde~", "**bold** _italic_", "- item\n- item 2",
    "# Heading\n\nParagraph.",
    # special-token text (ids depend on each tokenizer's added tokens)
    "<s>", "</s>", "<unk>", "<s>hello</s>", "Hello <s> world", "Hello<s>world", " <s> ", "<<s>>", "<s><s>", "</s>tail",
    "<|endoftext|>", "text<|endoftext|>more", "<|endoftext|> spaced", "<|im_start|>user\nhi<|im_end|>\n",
    "<|im_start|>", "<|im_start", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "[INST] hi [/INST]", "<|user|>\nquestion", "x <mask> y", "a<mask>b", "a [SEP] b", "a[SEP]   b", "wxyz alone",
    "inside awxyzb word", "wxyz", "\u0133k and \u0133k", "x<mask>", "<mask>", "  <mask>", "[SEP]", "[SEP]\n\nx",
    "wxyz.", "(wxyz)", "_wxyz", "wxyz_", "w\u00e9 wxyz", "<|user|><|user|>", "<s> <s>", "a <mask><mask> b",
    # long inputs
    "a" * 300, "ab" * 150, "  " * 40 + "x", "word " * 60,
    ("It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want "
     "of a wife. However little known the feelings or views of such a man may be on his first entering a "
     "neighbourhood, this truth is so well fixed in the minds of the surrounding families, that he is considered "
     "the rightful property of some one or other of their daughters.\n\n\u201cMy dear Mr. Bennet,\u201d said his "
     "lady to him one day, \u201chave you heard that Netherfield Park is let at last?\u201d"),
]

# Leading/trailing-space variants of a few words: spaces change BPE results in every scheme.
VARIANT_BASES = ["hello", "Hello world", "42", "\u4f60\u597d", "\U0001f600", "<s>", "don't", "x", "\u00e9t\u00e9",
                 "The end.", "ok!", "a b", "123 456", "\u041f\u0440\u0438\u0432\u0435\u0442", "</s>", "<|im_end|>"]
VARIANTS = [fmt.format(w) for w in VARIANT_BASES for fmt in (" {}", "{} ", " {} ", "  {}", "{}  ", "\n{}", "{}\n", "\t{}")]


def all_strings():
    seen = set()
    out = []
    for s in BASE + VARIANTS:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


if __name__ == "__main__":
    print(len(all_strings()))

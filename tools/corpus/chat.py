"""Synthetic ChatML examples made from the training units of the corpus.

The corpus holds no dialogues, so the model learns the chat format from simple,
honest tasks whose answers are taken verbatim from the (training) text:
  * continue   - user gives the first sentence of a paragraph, assistant writes the rest;
  * define     - "What does X mean?" answered from the WordNet gloss of X;
  * sentence   - "Use X in a sentence" answered with a WordNet example sentence;
  * dictionary - "Look up X" answered with the start of the GCIDE entry;
  * jargon     - hacker-slang / computing terms answered from the Jargon File / FOLDOC;
  * greeting   - a few fixed greetings answered with a fixed, truthful self-description.
Some conversations get a system message, some have two turns.  Only training units
are used, never held-out ones.
"""

import random
import re

SYSTEMS = [
    "You are a helpful assistant.",
    "You are a helpful assistant. Answer in plain English.",
    "You are a small language model that writes English prose.",
    "You are Fp6 Tiny, a small assistant.",
]

GREETINGS = ["Hello", "Hello!", "Hi", "Hi there.", "Good morning.", "Hey", "Who are you?",
             "What are you?", "What can you do?", "Introduce yourself."]
GREETING_REPLIES = [
    "Hello. I am a small language model trained on old books, dictionaries and software "
    "documentation. I can continue a passage of text or tell you what a word means.",
    "Good day to you. I am a very small language model. Give me the beginning of a passage "
    "and I will continue it, or ask me the meaning of a word.",
    "I am a small language model. I learned English from public domain books, the Bible, "
    "old commentaries and dictionaries, so my English may sound old-fashioned.",
]

_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def sentences(p):
    return [s for s in _SENT.split(p.strip()) if s]


def cut(text, limit):
    """At most `limit` characters, ending at a sentence end where possible."""
    if len(text) <= limit:
        return text
    out = ""
    for s in sentences(text):
        if len(out) + len(s) + 1 > limit:
            break
        out = (out + " " + s).strip()
    return out or text[:limit].rsplit(" ", 1)[0] + "..."


def _paragraphs(units, min_len=200, max_len=2000):
    for u in units:
        for p in u.text.split("\n\n"):
            if min_len <= len(p) <= max_len and "\n" not in p and len(sentences(p)) >= 2:
                yield p


def continue_examples(rng, units_by_src, plan):
    out = []
    for src, n in plan:
        paras = list(_paragraphs(units_by_src.get(src, [])))
        if src in ("kjv", "web"):  # one verse per line: first verse -> next verses
            paras = []
            for u in units_by_src.get(src, []):
                lines = u.text.split("\n")
                for i in range(0, len(lines) - 3, 4):
                    paras.append(" ".join(lines[i:i + 4]))
        rng.shuffle(paras)
        for p in paras[:n]:
            s = sentences(p)
            first, rest = s[0], " ".join(s[1:])
            if len(first) < 25 or len(rest) < 40:
                continue
            prompt = rng.choice(["Continue: {}", "Continue this text: {}",
                                 "Please continue the following passage.\n\n{}",
                                 "What comes next? {}", "Go on from here: {}"]).format(first)
            out.append(("continue", [("user", prompt), ("assistant", cut(rest, 700))]))
    return out


_WN = re.compile(r"^(.*?) \((noun|verb|adjective|adverb)\): (.*)$")


def _wordnet_entries(units):
    for u in units:
        m = _WN.match(u.text)
        if not m:
            continue
        words = m.group(1).split(", ")
        gloss = m.group(3)
        parts = [p.strip() for p in gloss.split(";")]
        defs = [p for p in parts if not p.startswith('"')]
        exs = [p.strip('"') for p in parts if p.startswith('"') and p.endswith('"')]
        if not defs or len(defs[0]) < 8:
            continue
        yield words, m.group(2), "; ".join(defs), exs


def define_examples(rng, units, n_define, n_sentence):
    entries = [e for e in _wordnet_entries(units) if e[0][0][:1].islower()]
    rng.shuffle(entries)
    out = []
    for words, pos, d, exs in entries[:n_define]:
        w = words[0]
        art = "an" if w[0] in "aeiou" else "a"
        if pos == "noun" and re.match(r"^(a|an|the|any|one) ", d):
            q = rng.choice(["What is {} {}?", "Tell me what {} {} is."]).format(art, w)
            a = f"{art.capitalize()} {w} is {d}."
        else:
            q = rng.choice(['What does "{}" mean?', "Tell me about the word {}.",
                            'Define the word "{}".', "What is the meaning of {}?"]).format(w)
            a = f'"{w}" is {"an" if pos[0] in "aeiou" else "a"} {pos}. It means {d}.'
        if len(words) > 1:
            a += " Similar words: " + ", ".join(words[1:4]) + "."
        if exs:
            a += f' For example: "{exs[0]}"'
        out.append(("define", [("user", q), ("assistant", a)]))
    with_ex = [e for e in entries[n_define:] if any(e[0][0].lower() in x.lower() for x in e[3])]
    for words, pos, d, exs in with_ex[:n_sentence]:
        w = words[0]
        ex = next(x for x in exs if w.lower() in x.lower())
        q = rng.choice(['Use the word "{}" in a sentence.', 'Give me an example sentence with "{}".',
                        "Write a sentence that uses the word {}."]).format(w)
        ex = ex[0].upper() + ex[1:]
        if ex[-1] not in ".!?":
            ex += "."
        out.append(("sentence", [("user", q), ("assistant", ex)]))
    return out


def dictionary_examples(rng, units, n):
    cands = []
    for u in units:
        for entry in u.text.split("\n\n"):
            head = entry.split(",", 1)[0].split(" ", 1)[0]
            if re.match(r"^[A-Za-z]{3,}$", head) and len(entry) > 80:
                cands.append((head, entry))
    rng.shuffle(cands)
    out, used = [], set()
    for head, entry in cands:
        if len(out) >= n:
            break
        if head.lower() in used:
            continue
        used.add(head.lower())
        q = rng.choice(['Look up "{}" in the dictionary.', "What does the dictionary say about {}?",
                        'Give me the dictionary entry for "{}".']).format(head.lower())
        out.append(("dictionary", [("user", q), ("assistant", cut(entry, 600))]))
    return out


def term_examples(rng, units, n, slang):
    cands = []
    for u in units:
        if u.key.startswith("jargon:intro"):
            continue
        head, _, body = u.text.partition("\n\n")
        head = head.split(",")[0].strip()
        if 2 <= len(head) <= 40 and len(body) > 60:
            cands.append((head, body))
    rng.shuffle(cands)
    out = []
    for head, body in cands[:n]:
        if slang:
            q = rng.choice(['What does "{}" mean in hacker slang?', "In the Jargon File, what is {}?",
                            'Explain the hacker term "{}".']).format(head)
        else:
            q = rng.choice(["In computing, what is {}?", "Explain {} in computing.",
                            "What does {} mean in computing?"]).format(head)
        out.append(("jargon" if slang else "computing", [("user", q), ("assistant", cut(body, 700))]))
    return out


def greeting_examples(rng, n):
    out = []
    for _ in range(n):
        out.append(("greeting", [("user", rng.choice(GREETINGS)),
                                 ("assistant", rng.choice(GREETING_REPLIES))]))
    return out


def build(train_units, seed=1234):
    """Return (list of conversations as [{"role", "content"}], stats)."""
    rng = random.Random(seed)
    singles = []
    singles += continue_examples(rng, train_units, [("austen", 1800), ("tdavid", 1000),
                                                    ("mhcc", 800), ("web", 400), ("kjv", 300),
                                                    ("jargon", 200)])
    singles += define_examples(rng, train_units.get("wordnet", []), 3000, 1200)
    singles += dictionary_examples(rng, train_units.get("gcide", []), 1200)
    singles += term_examples(rng, train_units.get("jargon", []), 700, slang=True)
    singles += term_examples(rng, train_units.get("foldoc", []), 800, slang=False)
    singles += greeting_examples(rng, 300)
    rng.shuffle(singles)
    stats = {}
    for kind, _ in singles:
        stats[kind] = stats.get(kind, 0) + 1
    convs, i, two_turn, with_system = [], 0, 0, 0
    while i < len(singles):
        turns = list(singles[i][1])
        i += 1
        if rng.random() < 0.15 and i < len(singles):
            turns += singles[i][1]
            i += 1
            two_turn += 1
        msgs = [{"role": r, "content": c} for r, c in turns]
        if rng.random() < 0.25:
            msgs.insert(0, {"role": "system", "content": rng.choice(SYSTEMS)})
            with_system += 1
        convs.append(msgs)
    stats.update({"examples": len(singles), "conversations": len(convs),
                  "two_turn_conversations": two_turn, "with_system_message": with_system})
    return convs, stats

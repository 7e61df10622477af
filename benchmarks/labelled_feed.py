"""A labelled feed: real articles and generated variants of them, with gold stories.

Each wikiref220 article (real news, Windows-1252, CRLF) is an original. A
fixed-seed generator gives most originals two to six variants of these kinds:

- ``exact``: the same text under another id
- ``wrapped``: the text inside site boilerplate (navigation, share bar,
  newsletter plea, "Related Posts" with other headlines)
- ``truncated``: the first 30-60% of the sentences (a truncated lede)
- ``edited``: a few words changed, one sentence dropped, one added
- ``reordered``: paragraphs after the lede shuffled
- ``spun``: 25-35% of common words replaced by synonyms (names, numbers kept)
- ``abridged``: about half the sentences, in order, lightly spun
- ``rewrite``: spun, paragraphs reordered and trimmed

The five seed articles (five outlets' rewrites of one wire story) are one more
gold story. Gold: an original and its variants form one story; distinct
wikiref220 articles are distinct stories, even on the same topic.

    python benchmarks/labelled_feed.py OUT_DIR [--wikiref DIR] [--seed N]

writes OUT_DIR/feed/ (originals as .txt, variants as .jsonl and .json) and
OUT_DIR/labels.csv (doc_id,cluster) plus OUT_DIR/kinds.csv (doc_id,kind,original).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import shutil
from pathlib import Path

REPO = Path(__file__).parent.parent
DEFAULT_WIKIREF = REPO.parent / "shared" / "corpora" / "wikiref220"
KINDS = ("exact", "wrapped", "truncated", "edited", "reordered", "spun", "abridged", "rewrite")

SYNONYMS = {
    "said": ["stated", "noted", "added"], "says": ["states", "notes"], "told": ["informed", "told"],
    "big": ["large", "major"], "large": ["big", "sizeable"], "small": ["little", "minor"], "new": ["fresh", "latest"],
    "important": ["significant", "key"], "major": ["key", "big"], "many": ["numerous", "several"],
    "people": ["individuals", "persons"], "help": ["assist", "aid"], "show": ["reveal", "indicate"],
    "shows": ["reveals", "indicates"], "showed": ["revealed", "indicated"], "use": ["employ", "utilise"],
    "used": ["employed", "utilised"], "make": ["create", "produce"], "made": ["created", "produced"],
    "began": ["started", "commenced"], "begin": ["start", "commence"], "start": ["begin", "launch"],
    "started": ["began", "launched"], "end": ["finish", "close"], "ended": ["finished", "concluded"],
    "get": ["obtain", "receive"], "got": ["obtained", "received"], "give": ["provide", "offer"],
    "gave": ["provided", "offered"], "find": ["discover", "locate"], "found": ["discovered", "located"],
    "think": ["believe", "reckon"], "believe": ["think", "consider"], "want": ["wish", "seek"],
    "wanted": ["wished", "sought"], "need": ["require", "must have"], "needed": ["required"],
    "try": ["attempt", "seek"], "tried": ["attempted", "sought"], "ask": ["request", "query"],
    "asked": ["requested", "queried"], "buy": ["purchase", "acquire"], "bought": ["purchased", "acquired"],
    "very": ["highly", "extremely"], "also": ["additionally", "too"], "however": ["yet", "nevertheless"],
    "but": ["yet", "though"], "because": ["since", "as"], "about": ["around", "roughly"],
    "around": ["about", "roughly"], "before": ["prior to", "ahead of"], "after": ["following", "once"],
    "during": ["throughout", "amid"], "including": ["such as", "among them"], "could": ["might", "may"],
    "would": ["will", "should"], "government": ["administration", "authorities"], "officials": ["authorities", "representatives"],
    "company": ["firm", "business"], "companies": ["firms", "businesses"], "country": ["nation", "state"],
    "city": ["town", "metropolis"], "year": ["twelvemonth", "year"], "week": ["seven days", "week"],
    "month": ["month", "thirty days"], "search": ["hunt", "quest"], "plane": ["aircraft", "jet"],
    "aircraft": ["plane", "jet"], "attack": ["assault", "strike"], "attacks": ["assaults", "strikes"],
    "killed": ["slain", "left dead"], "police": ["officers", "law enforcement"], "phone": ["handset", "device"],
    "device": ["gadget", "unit"], "team": ["side", "squad"], "game": ["match", "contest"], "match": ["game", "fixture"],
    "win": ["victory", "triumph"], "won": ["claimed", "secured"], "lost": ["dropped", "was beaten in"],
    "first": ["initial", "earliest"], "last": ["previous", "final"], "next": ["following", "coming"],
    "early": ["initial", "prompt"], "late": ["belated", "tardy"], "good": ["fine", "decent"], "bad": ["poor", "awful"],
    "high": ["elevated", "lofty"], "low": ["reduced", "modest"], "quickly": ["rapidly", "swiftly"], "fast": ["quick", "rapid"],
    "recent": ["latest", "current"], "recently": ["lately", "newly"], "still": ["yet", "nonetheless"],
    "says.": ["states."], "report": ["account", "statement"], "reported": ["stated", "announced"],
    "reports": ["accounts", "statements"], "announced": ["declared", "revealed"], "according": ["as per", "according"],
    "expected": ["anticipated", "predicted"], "likely": ["probable", "expected"], "possible": ["feasible", "potential"],
    "issue": ["matter", "problem"], "problem": ["issue", "difficulty"], "question": ["query", "issue"],
    "woman": ["lady", "woman"], "man": ["gentleman", "man"], "children": ["kids", "youngsters"], "family": ["relatives", "household"],
    "world": ["globe", "planet"], "public": ["general public", "citizens"], "support": ["backing", "help"],
    "decision": ["ruling", "choice"], "plan": ["scheme", "proposal"], "plans": ["schemes", "proposals"],
    "part": ["portion", "piece"], "number": ["figure", "amount"], "several": ["various", "a number of"],
    "meeting": ["session", "gathering"], "added": ["continued", "went on"], "spokesman": ["representative", "spokesperson"],
}  # fmt: skip
WRAPPERS = (
    ["Home | News | World", "Share this article", "Advertisement"],
    ["Home > News > Latest", "Tweet", "Share on Facebook"],
)
FOOTERS = (
    ["Sign up for our newsletter to get the news first", "Related Posts"],
    ["Follow us on Twitter", "You may also like"],
    ["Click here to subscribe", "Previous Article"],
)
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


def _sentences(text: str) -> list[str]:
    return [s for s in SENTENCE.split(text.replace("\n", " ")) if s.strip()]


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def _spin(text: str, rng: random.Random, share: float) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        options = SYNONYMS.get(word.lower())
        if not options or rng.random() > share * 2.2:  # about `share` of all words, as most words have no entry
            return word
        choice = rng.choice(options)
        return choice.capitalize() if word[0].isupper() else choice

    return re.sub(r"[A-Za-z]+\.?", lambda m: swap(m) if m.group(0).lower() in SYNONYMS else m.group(0), text)


def make_variant(kind: str, text: str, rng: random.Random, headlines: list[str]) -> str:
    """One variant of ``kind`` of an article ``text``."""
    paragraphs, sentences = _paragraphs(text), _sentences(text)
    if kind == "exact":
        return text
    if kind == "wrapped":
        footer = rng.choice(FOOTERS)
        return "\n".join([*rng.choice(WRAPPERS), *paragraphs, *footer, *rng.sample(headlines, 3)])
    if kind == "truncated":
        return " ".join(sentences[: max(3, int(len(sentences) * rng.uniform(0.3, 0.6)))])
    if kind == "edited":
        edited = list(sentences)
        if len(edited) > 4:
            del edited[rng.randrange(1, len(edited))]
        edited.insert(rng.randrange(1, len(edited) + 1), "The report could not be independently verified.")
        return _spin(" ".join(edited), rng, 0.04)
    if kind == "reordered":
        rest = paragraphs[1:]
        rng.shuffle(rest)
        return "\n".join([paragraphs[0], *rest])
    if kind == "spun":
        return _spin(text, rng, rng.uniform(0.25, 0.35))
    if kind == "abridged":
        kept = [s for i, s in enumerate(sentences) if i == 0 or rng.random() < 0.5]
        return _spin(" ".join(kept), rng, 0.1)
    if kind == "rewrite":
        rest = paragraphs[1:]
        rng.shuffle(rest)
        kept = [paragraphs[0], *rest[: max(2, int(len(rest) * 0.7))]]
        return _spin("\n".join(kept), rng, 0.3)
    raise ValueError(kind)


def read_wikiref(directory: Path) -> dict[str, str]:
    return {
        p.name: p.read_bytes().decode("cp1252", errors="replace").replace("\r\n", "\n")
        for p in sorted(directory.glob("*.txt"))
        if not p.name.startswith("README")
    }


def generate(out: Path, wikiref: Path, seed: int) -> dict[str, int]:
    """Write the feed and its labels; return counts per kind."""
    rng = random.Random(seed)
    articles = read_wikiref(wikiref)
    feed = out / "feed"
    if feed.exists():
        shutil.rmtree(feed)
    (feed / "originals").mkdir(parents=True)
    shutil.copytree(REPO / "seeds", feed / "seeds")
    labels = [(f"seeds/{p.name}", "seeds") for p in sorted((REPO / "seeds").iterdir())]
    kinds_rows = [(doc_id, "seed", "seeds") for doc_id, _ in labels]
    headlines = [_paragraphs(t)[0][:80] for t in articles.values()]
    jsonl, array = [], []
    for name, text in articles.items():
        (feed / "originals" / name).write_text(text, encoding="utf-8")
        original = f"originals/{name}"
        labels.append((original, name))
        kinds_rows.append((original, "original", name))
        count = rng.choice([0, 2, 3, 4, 5, 6])
        for n, kind in enumerate(rng.sample(KINDS, count)):
            doc_id = f"{name}/{kind}"
            record = {"id": doc_id, "title": _paragraphs(text)[0][:120], "text": make_variant(kind, text, rng, headlines)}
            (jsonl if n % 3 else array).append(record)
            labels.append((doc_id, name))
            kinds_rows.append((doc_id, kind, name))
    (feed / "variants.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in jsonl), encoding="utf-8")
    (feed / "more_variants.json").write_text(json.dumps(array, ensure_ascii=False), encoding="utf-8")
    with open(out / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("doc_id", "cluster"), *labels])
    with open(out / "kinds.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("doc_id", "kind", "original"), *kinds_rows])
    counts: dict[str, int] = {}
    for _, kind, _ in kinds_rows:
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a labelled feed of real articles and generated variants.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--wikiref", type=Path, default=DEFAULT_WIKIREF)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(generate(args.out, args.wikiref, args.seed))


if __name__ == "__main__":
    main()

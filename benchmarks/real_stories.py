"""A story/event benchmark from real text, split into train and test by story.

A **story** is one report and what outlets make of it (copies, wrapped,
truncated, edited copies, rewrites, spins, summaries, same-day updates). An
**event** is a happening several different reports cover: two different
articles about one event are two stories in one event (the hard negatives).

Sources:

- **wikiref220** (real news, 16 topics): every article is an original and its
  own story; its event is its topic (the file-name prefix). Distinct articles
  of one topic are the hard negatives. Each topic gets a base date and each of
  its articles a ``published`` time within +-2 days of it.
- **Variants** of each original, two to five (``labelled_feed.make_variant``:
  exact, wrapped, truncated, edited, reordered, spun, abridged, rewrite, plus
  ``update``: the original with one paragraph of another article of the same
  topic and split appended, a same-day update), each from another made-up
  outlet, published within 12 hours after the original (an update 2-8 hours).
- **MSRP** (Microsoft Research Paraphrase Corpus, real sentences from news
  clusters): 4-8 paraphrase pairs (Quality 1) stitched into two documents,
  the #1 sentences and the #2 sentences: one story (kind ``msrp_rewrite``);
  4-8 non-paraphrase pairs (Quality 0) stitched the same way: two documents of
  one event but different stories (kind ``msrp_negative``). Each stitched
  story (or negative pair) is its own event on its own date. No sentence is
  used twice. MSRP's train file feeds the train split, its test file the test
  split.
- **seeds/** (five outlets' rewrites of one story): one story, one event, in
  the test split only, with ``published`` null (they carry no dates).

Wikiref originals are split 50/50 per topic by a seeded hash of the story
(sorted by hash within each topic, alternating), so both splits hold many
same-topic hard negatives; a story's variants go with it.

    python benchmarks/real_stories.py OUT_DIR [--seed 7] [--wikiref DIR] [--msrp DIR]

writes OUT_DIR/{train,test}/ with ``feed/*.jsonl`` (id, title, text,
published, source), ``labels.csv`` (doc_id,cluster: the story, as ``dedup
evaluate`` reads it), ``events.csv`` (doc_id,event) and ``kinds.csv``
(doc_id,kind,story,event). The same seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import shutil
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from labelled_feed import DEFAULT_WIKIREF, KINDS, REPO, make_variant, read_wikiref

DEFAULT_MSRP = REPO.parent / "shared" / "corpora" / "msrp"
SPLITS = ("train", "test")
VARIANT_KINDS = (*KINDS, "update")
OUTLETS = (
    "Northgate Herald", "The Daily Meridian", "Coastline Courier", "Metro Wire Today", "The Evening Ledger",
    "Harbour Post", "Capital Dispatch", "The Morning Tribune", "Riverside Gazette", "Global Newsline",
    "The Civic Observer", "Summit Press", "Eastern Chronicle", "Lakeside Times", "The Weekly Sentinel",
)  # fmt: skip
EPOCH = datetime(2015, 1, 1, tzinfo=timezone.utc)
YEAR_SECONDS = 365 * 86400


def _rng(seed: int, *key: str) -> random.Random:
    """A generator of its own for one key: one story's draws do not shift another's."""
    return random.Random("/".join([str(seed), *key]))


def _hash(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}/{key}".encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def topic_and_story(file_name: str) -> tuple[str, str]:
    """``malaysia.airlines.flight.10.txt`` -> (``malaysia.airlines.flight``, the same
    without .txt); ``ParisAttacks2015 (7).txt`` -> (``ParisAttacks2015``, ``ParisAttacks2015.7``)."""
    stem = file_name.removesuffix(".txt")
    match = re.fullmatch(r"(.+?) \((\d+)\)", stem) or re.fullmatch(r"(.+)\.(\d+)", stem)
    if not match:
        return stem, stem
    return match.group(1), f"{match.group(1)}.{match.group(2)}"


def split_wikiref(stories: dict[str, str], seed: int) -> dict[str, str]:
    """story -> split: within each topic, stories sorted by a seeded hash go to
    train and test in turn (the topic's hash picks which comes first)."""
    by_topic: dict[str, list[str]] = defaultdict(list)
    for story, topic in stories.items():
        by_topic[topic].append(story)
    split = {}
    for topic, members in sorted(by_topic.items()):
        first = int(_hash(seed, "topic/" + topic), 16) % 2
        for rank, story in enumerate(sorted(members, key=lambda s: _hash(seed, "story/" + s))):
            split[story] = SPLITS[(rank + first) % 2]
    return split


def _update_paragraph(others: list[str], rng: random.Random) -> str:
    """One substantial paragraph (not the headline) of one of ``others``."""
    text = rng.choice(others)
    paragraphs = _paragraphs(text)[1:] or _paragraphs(text)
    substantial = [p for p in paragraphs if len(p.split()) >= 20]
    return rng.choice(substantial) if substantial else max(paragraphs, key=len)


def wikiref_docs(articles: dict[str, str], seed: int) -> dict[str, list[tuple[dict, tuple[str, str, str, str]]]]:
    """split -> [(feed record, (doc_id, kind, story, event))] for the originals and their variants."""
    named = {topic_and_story(name): text for name, text in articles.items()}
    stories = {story: topic for topic, story in named}
    texts = {story: text for (_, story), text in named.items()}
    split = split_wikiref(stories, seed)
    topics = sorted(set(stories.values()))
    base = {}
    for topic in topics:
        rng = _rng(seed, "base", topic)
        base[topic] = EPOCH + timedelta(seconds=rng.randrange(YEAR_SECONDS // 60) * 60)
    out: dict[str, list] = {s: [] for s in SPLITS}
    for part in SPLITS:
        members = sorted(s for s in stories if split[s] == part)
        headlines = [_paragraphs(texts[s])[0][:80] for s in members]
        for story in members:
            topic, text = stories[story], texts[story]
            event = f"wikiref:{topic}"
            rng = _rng(seed, "story", story)
            published = base[topic] + timedelta(minutes=rng.randrange(-48 * 60, 48 * 60 + 1))
            title = _paragraphs(text)[0][:120]
            others = [texts[s] for s in members if s != story and stories[s] == topic]
            pool = [k for k in VARIANT_KINDS if others or k != "update"]
            kinds = rng.sample(pool, rng.randint(2, 5))
            outlets = rng.sample(OUTLETS, 1 + len(kinds))
            doc_id = f"wikiref/{story}"
            out[part].append(({"id": doc_id, "title": title, "text": text, "published": _iso(published), "source": outlets[0]}, (doc_id, "original", story, event)))
            for kind, outlet in zip(kinds, outlets[1:]):
                if kind == "update":
                    variant = text.rstrip("\n") + "\n\n" + _update_paragraph(others, rng) + "\n"
                    later = timedelta(minutes=rng.randrange(2 * 60, 8 * 60 + 1))
                else:
                    variant = make_variant(kind, text, rng, headlines)
                    later = timedelta(minutes=rng.randrange(15, 12 * 60 + 1))
                variant_id = f"{doc_id}/{kind}"
                record = {"id": variant_id, "title": title, "text": variant, "published": _iso(published + later), "source": outlet}
                out[part].append((record, (variant_id, kind, story, event)))
    return out


def read_msrp(path: Path) -> list[tuple[str, str, str, str, str]]:
    """Rows (quality, id1, id2, sentence1, sentence2); the header and its BOM dropped."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [tuple(r) for r in rows[1:] if len(r) == 5]  # type: ignore[misc]


def _msrp_text(sentences: list[str]) -> str:
    """Two sentences a paragraph."""
    return "\n".join(" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)) + "\n"


def msrp_docs(path: Path, part: str, seed: int, used: set[str]) -> list[tuple[dict, tuple[str, str, str, str]]]:
    """Stitched documents of one MSRP file: positive groups (one story, two
    documents) and negative groups (two stories of one event). ``used`` holds
    the sentence ids and texts already taken (by either split): a pair using
    one again is skipped."""
    rng = _rng(seed, "msrp", part)
    pairs: dict[str, list[tuple[str, str]]] = {"1": [], "0": []}
    for quality, id1, id2, s1, s2 in read_msrp(path):
        keys = {id1, id2, " ".join(s1.split()).lower(), " ".join(s2.split()).lower()}
        if quality not in pairs or keys & used or id1 == id2:
            continue
        used |= keys
        pairs[quality].append((s1.strip(), s2.strip()))
    out = []
    for quality, name in (("1", "pos"), ("0", "neg")):
        group_pairs = pairs[quality]
        rng.shuffle(group_pairs)
        start, n = 0, 0
        while len(group_pairs) - start >= 4:
            size = rng.randint(4, 8)
            if len(group_pairs) - start - size < 4:  # the remainder (4 to 11 pairs) closes the list
                size = len(group_pairs) - start if len(group_pairs) - start <= 8 else len(group_pairs) - start - 4
            group = group_pairs[start : start + size]
            start += size
            n += 1
            key = f"msrp/{part}/{name}{n:04d}"
            event = f"msrp:{part}:{name}{n:04d}"
            moment = EPOCH + timedelta(seconds=rng.randrange(YEAR_SECONDS // 60) * 60)
            later = moment + timedelta(minutes=rng.randrange(15, 12 * 60 + 1))
            outlets = rng.sample(OUTLETS, 2)
            for side, (sentences, when, outlet) in enumerate((([a for a, _ in group], moment, outlets[0]), ([b for _, b in group], later, outlets[1]))):
                letter = "ab"[side] if quality == "1" else "cd"[side]
                doc_id = f"{key}/{letter}"
                story = key if quality == "1" else doc_id
                kind = "msrp_rewrite" if quality == "1" else "msrp_negative"
                record = {"id": doc_id, "title": sentences[0], "text": _msrp_text(sentences), "published": _iso(when), "source": outlet}
                out.append((record, (doc_id, kind, story, event)))
    return out


def seed_docs() -> list[tuple[dict, tuple[str, str, str, str]]]:
    """The five seed rewrites, read as ``dedup`` reads a .txt file (title: the
    first non-empty line; text: the whole file); no date, no outlet."""
    out = []
    for path in sorted((REPO / "seeds").glob("*.txt")):
        text = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
        title = next((line.strip() for line in text.splitlines() if line.strip()), "")
        doc_id = f"seeds/{path.stem}"
        out.append(({"id": doc_id, "title": title.lstrip("# ")[:300], "text": text, "published": None, "source": None}, (doc_id, "seed", "seeds", "seeds")))
    return out


def _write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8", newline="\n")


def _write_csv(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows])


def build(out: Path, seed: int = 7, wikiref: Path = DEFAULT_WIKIREF, msrp: Path = DEFAULT_MSRP) -> dict[str, dict[str, int]]:
    """Write OUT/train and OUT/test; return the document counts per split and kind."""
    wiki = wikiref_docs(read_wikiref(wikiref), seed)
    used: set[str] = set()
    sources = {
        "train": {"wikiref": wiki["train"], "msrp": msrp_docs(msrp / "msr_paraphrase_train.txt", "train", seed, used)},
        "test": {"wikiref": wiki["test"], "msrp": msrp_docs(msrp / "msr_paraphrase_test.txt", "test", seed, used), "seeds": seed_docs()},
    }
    counts: dict[str, dict[str, int]] = {}
    for part, files in sources.items():
        directory = out / part
        if directory.exists():
            shutil.rmtree(directory)
        (directory / "feed").mkdir(parents=True)
        rows = []
        for name, docs in files.items():
            _write_jsonl(directory / "feed" / f"{name}.jsonl", [record for record, _ in docs])
            rows += [row for _, row in docs]
        ids = [r[0] for r in rows]
        assert len(ids) == len(set(ids)), f"{part}: duplicate doc ids"
        _write_csv(directory / "labels.csv", ("doc_id", "cluster"), [(d, story) for d, _, story, _ in rows])
        _write_csv(directory / "events.csv", ("doc_id", "event"), [(d, event) for d, _, _, event in rows])
        _write_csv(directory / "kinds.csv", ("doc_id", "kind", "story", "event"), rows)
        kinds = Counter(kind for _, kind, _, _ in rows)
        counts[part] = {kind: kinds[kind] for kind in ("original", *VARIANT_KINDS, "msrp_rewrite", "msrp_negative", "seed") if kinds[kind]}
        counts[part] |= {
            "documents": len(rows),
            "stories": len({story for _, _, story, _ in rows}),
            "events": len({event for _, _, _, event in rows}),
        }
    return counts


def print_counts(counts: dict[str, dict[str, int]]) -> None:
    keys = [k for k in ("original", *VARIANT_KINDS, "msrp_rewrite", "msrp_negative", "seed", "documents", "stories", "events") if any(k in c for c in counts.values())]
    print(f"{'':>14}" + "".join(f"{part:>8}" for part in counts))
    for key in keys:
        print(f"{key:>14}" + "".join(f"{counts[part].get(key, 0):>8}" for part in counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--wikiref", type=Path, default=DEFAULT_WIKIREF)
    parser.add_argument("--msrp", type=Path, default=DEFAULT_MSRP)
    args = parser.parse_args()
    print_counts(build(args.out, args.seed, args.wikiref, args.msrp))


if __name__ == "__main__":
    main()

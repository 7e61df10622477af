"""A synthetic news feed of any size, with gold stories, for throughput runs.

Stories are about 400 words of English drawn from wordfreq's word list with
Zipf-like weights, sprinkled with invented names and numbers (the facts that
tell stories apart). Of the documents, ``duplicate_rate`` are variants of an
earlier story, of these kinds (as a wire story reaches a feed):

- ``exact``: the same text under another id and source
- ``wrapped``: the text inside site boilerplate lines
- ``truncated``: the first 40-70% of the sentences
- ``edited``: a few words changed and one sentence dropped
- ``spun``: about a quarter of the words replaced, names and numbers kept

With ``sentence_pool`` N (``--sentence-pool``), a story is instead stitched
from about 22 sentences drawn from a pool of N sentences written once (a few
thousand: each sentence is then in hundreds of stories), as real feeds share
quotes, boilerplate paragraphs and agency copy across unrelated stories:
stories that are not variants of each other share sentences, which is harder
on anything that finds candidates by shared text.

Files are JSONL (``id``, ``title``, ``text``, ``source``, ``published``), 10,000
documents each; ``labels.csv`` holds ``doc_id,cluster``.

    python benchmarks/synthetic_feed.py OUT_DIR --docs 10000 [--seed N] [--duplicate-rate R] [--sentence-pool N]
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from wordfreq import top_n_list, zipf_frequency

KINDS = ("exact", "wrapped", "truncated", "edited", "spun")
DOCS_PER_FILE = 10_000
BOILERPLATE_TOP = ["Home | World | Business | Sport | Opinion", "Share this article", "Advertisement"]
BOILERPLATE_BOTTOM = ["Sign up for our daily newsletter", "Related Posts", "Previous Article", "Next Article"]
START = datetime(2026, 11, 1, tzinfo=timezone.utc)


class Writer:
    """Stories and their variants, as seeded random text."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        words = [w for w in top_n_list("en", 20_000) if w.isalpha() and len(w) > 1]
        self.words = np.array(words, dtype=object)
        weights = np.array([10 ** zipf_frequency(w, "en") for w in words])
        self.cumulative = np.cumsum(weights / weights.sum())
        syllables = ["ka", "lo", "mar", "ten", "vi", "do", "ran", "sel", "bu", "gor", "fen", "li", "tos", "an", "er", "ush"]
        self.names = np.array(
            ["".join(self.rng.choice(syllables, size=self.rng.integers(2, 4))).capitalize() for _ in range(20_000)], dtype=object
        )

    def _draw_words(self, n: int) -> np.ndarray:
        return self.words[np.searchsorted(self.cumulative, self.rng.random(n))]

    def story(self) -> tuple[str, list[str]]:
        """A title and the story's sentences (about 400 words)."""
        names = self.names[self.rng.integers(0, len(self.names), size=6)]
        words = self._draw_words(440)
        sentences: list[str] = []
        start = 0
        while start < len(words) - 8:
            length = int(self.rng.integers(12, 26))
            sentence = list(words[start : start + length])
            start += length
            for _ in range(int(self.rng.integers(0, 3))):
                sentence.insert(int(self.rng.integers(0, len(sentence))), str(names[self.rng.integers(0, 6)]))
            if self.rng.random() < 0.4:
                sentence.insert(int(self.rng.integers(0, len(sentence))), str(int(self.rng.integers(2, 5000))))
            sentence[0] = sentence[0].capitalize()
            sentences.append(" ".join(sentence) + ".")
        title = " ".join([str(names[0]), *self._draw_words(6)]).capitalize()
        return title, sentences

    def pooled_story(self, pool: np.ndarray) -> tuple[str, list[str]]:
        """A title and about 22 distinct sentences of ``pool``, drawn uniformly."""
        sentences = list(pool[self.rng.choice(len(pool), size=int(self.rng.integers(18, 27)), replace=False)])
        title = " ".join([str(self.names[self.rng.integers(0, len(self.names))]), *self._draw_words(6)]).capitalize()
        return title, sentences

    def sentence_pool(self, size: int) -> np.ndarray:
        """``size`` sentences, from stories written for the pool."""
        sentences: list[str] = []
        while len(sentences) < size:
            sentences += self.story()[1]
        return np.array(sentences[:size], dtype=object)

    def variant(self, kind: str, sentences: list[str]) -> str:
        if kind == "exact":
            return " ".join(sentences)
        if kind == "wrapped":
            return "\n".join([*BOILERPLATE_TOP, " ".join(sentences), *BOILERPLATE_BOTTOM])
        if kind == "truncated":
            keep = max(2, int(len(sentences) * self.rng.uniform(0.4, 0.7)))
            return " ".join(sentences[:keep])
        if kind == "edited":
            edited = list(sentences)
            del edited[int(self.rng.integers(1, len(edited)))]
            tokens = " ".join(edited).split(" ")
            for at in self.rng.integers(0, len(tokens), size=6):
                tokens[at] = str(self._draw_words(1)[0])
            return " ".join(tokens)
        tokens = " ".join(sentences).split(" ")  # spun: common words swapped, facts kept
        for at in np.flatnonzero(self.rng.random(len(tokens)) < 0.25):
            if tokens[at].islower():
                tokens[at] = str(self._draw_words(1)[0])
        return " ".join(tokens)


def generate(out: Path, docs: int, seed: int = 1, duplicate_rate: float = 0.3, sentence_pool: int = 0) -> None:
    """Write ``docs`` documents under ``out/feed`` and ``out/labels.csv``
    (stories stitched from a pool of ``sentence_pool`` sentences, if not 0)."""
    writer = Writer(seed)
    pool = writer.sentence_pool(sentence_pool) if sentence_pool else None
    feed = out / "feed"
    feed.mkdir(parents=True, exist_ok=True)
    rng = writer.rng
    recent: list[tuple[int, str, list[str]]] = []  # stories variants are drawn from: the last few hundred
    with open(out / "labels.csv", "w", encoding="utf-8") as labels:
        labels.write("doc_id,cluster\n")
        handle = None
        for n in range(docs):
            if n % DOCS_PER_FILE == 0:
                if handle:
                    handle.close()
                handle = open(feed / f"part-{n // DOCS_PER_FILE:05d}.jsonl", "w", encoding="utf-8")
            if recent and rng.random() < duplicate_rate:
                story, title, sentences = recent[int(rng.integers(0, len(recent)))]
                text = writer.variant(KINDS[int(rng.integers(0, len(KINDS)))], sentences)
            else:
                story = n
                title, sentences = writer.story() if pool is None else writer.pooled_story(pool)
                text = " ".join(sentences)
                recent.append((story, title, sentences))
                if len(recent) > 500:
                    recent.pop(0)
            doc_id = f"d{n:07d}"
            published = START + timedelta(seconds=int(story * 10 + rng.integers(0, 7200)))
            record = {"id": doc_id, "title": title, "text": text, "source": f"site{int(rng.integers(0, 50))}", "published": published.isoformat()}
            handle.write(json.dumps(record) + "\n")
            labels.write(f"{doc_id},s{story}\n")
        if handle:
            handle.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duplicate-rate", type=float, default=0.3)
    parser.add_argument("--sentence-pool", type=int, default=0, help="stitch stories from a pool of this many sentences (0: each story its own)")
    args = parser.parse_args()
    generate(args.out, args.docs, args.seed, args.duplicate_rate, args.sentence_pool)


if __name__ == "__main__":
    main()

"""Near-duplicate-only peers of ``dedup run``, for benchmarks/throughput.py.

Each reads a synthetic feed (``synthetic_feed.py``'s JSONL files), shingles
each text into word 5-grams (3-grams for plain datasketch, as it always ran),
sketches 128-permutation MinHash, finds candidates by LSH at threshold 0.5 and
joins every candidate pair by union-find. None verifies a candidate nor does
paraphrase, diffs or reports: they are the floor a MinHash-LSH deduplicator
pays, not equivalents of ours.

- ``rensa``: rensa's Rust ``RMinHash`` (sketches made on ``--workers``
  processes by multiprocessing, one file each at a time) and ``RMinHashLSH``
  (``BANDS`` bands of ``ROWS`` rows),
  query then insert, in the main process.
- ``numpy``: as text-dedup's MinHash script does it: each shingle hashed
  (xxh32), the permutations ``(a h + b) mod (2^61 - 1)`` taken as a
  (shingles x 128) numpy array and its column minima kept, on ``--workers``
  processes; then each band's rows grouped (``np.unique`` over the band's
  bytes) and each group joined.
- ``datasketch``: plain datasketch in this process on one core (``MinHash``
  updated shingle by shingle, ``MinHashLSH``, query then insert): slow, so
  run on the first ``--docs`` documents.

Prints one JSON line: docs, seconds (reading included, start-up not),
clusters, candidate pairs.

    python benchmarks/peers.py {rensa,numpy,datasketch} FEED_DIR [--docs N] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Iterator
from itertools import islice
from multiprocessing import Pool
from pathlib import Path

import numpy as np

WORD = re.compile(r"\w+")
NUM_PERM = 128
THRESHOLD = 0.5
BANDS, ROWS = 32, 4
"""LSH bands of 128 permutations: rensa's bands must divide them, so 32 of 4
rows (a pair of Jaccard s is a candidate with probability 1 - (1 - s^4)^32:
0.87 at 0.5, 0.10 at 0.2), not datasketch's optimum for 0.5 (25 of 5)."""
SEED = 42
MERSENNE = np.uint64((1 << 61) - 1)
MAX_HASH = np.uint64((1 << 32) - 1)


def texts(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)["text"]


def shingles(text: str, n: int = 5) -> list[str]:
    """Lower-cased word ``n``-grams (the text itself if it is shorter)."""
    tokens = WORD.findall(text.lower())
    return [" ".join(tokens[j : j + n]) for j in range(max(1, len(tokens) - n + 1))]


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving
            i = parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)

    def clusters(self) -> int:
        return len({self.find(i) for i in range(len(self.parent))})


def rensa_sketches(path: Path) -> list:
    from rensa import RMinHash

    return RMinHash.from_token_sets([shingles(text) for text in texts(path)], NUM_PERM, SEED)


def run_rensa(files: list[Path], workers: int) -> tuple[int, int, int]:
    from rensa import RMinHashLSH

    lsh = RMinHashLSH(THRESHOLD, NUM_PERM, BANDS)
    pairs, key = 0, 0
    parent = UnionFind(0)
    with Pool(workers) as pool:
        for sketches in pool.imap(rensa_sketches, files):
            for sketch in sketches:
                parent.parent.append(key)
                for other in lsh.query(sketch):
                    parent.union(other, key)
                    pairs += 1
                lsh.insert(key, sketch)
                key += 1
    return key, parent.clusters(), pairs


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(SEED)  # as text-dedup draws them
    a = rng.randint(1, int(MERSENNE), size=NUM_PERM, dtype=np.uint64)
    b = rng.randint(0, int(MERSENNE), size=NUM_PERM, dtype=np.uint64)
    return a, b


def numpy_signatures(path: Path) -> np.ndarray:
    """(documents x 128) uint32 MinHash signatures of a file's texts, text-dedup's way."""
    import xxhash

    a, b = _permutations()
    rows = []
    for text in texts(path):
        hashes = np.fromiter((xxhash.xxh32_intdigest(s.encode()) for s in shingles(text)), dtype=np.uint64)
        rows.append((((hashes[:, None] * a + b) % MERSENNE) & MAX_HASH).min(axis=0))
    return np.array(rows, dtype=np.uint32)


def run_numpy(files: list[Path], workers: int) -> tuple[int, int, int]:
    with Pool(workers) as pool:
        signatures = np.concatenate(list(pool.imap(numpy_signatures, files)))
    n = len(signatures)
    parent = UnionFind(n)
    pairs = 0
    for band in range(BANDS):
        keys = np.ascontiguousarray(signatures[:, band * ROWS : (band + 1) * ROWS]).view(np.dtype((np.void, 4 * ROWS))).ravel()
        _, group, sizes = np.unique(keys, return_inverse=True, return_counts=True)
        shared = np.flatnonzero(sizes[group] > 1)  # documents in a bucket with another
        order = shared[np.argsort(group[shared], kind="stable")]
        first = {}
        for doc, g in zip(order.tolist(), group[order].tolist()):
            if g in first:
                parent.union(doc, first[g])
            else:
                first[g] = doc
        pairs += int((sizes * (sizes - 1) // 2).sum())
    return n, parent.clusters(), pairs


def run_datasketch(files: list[Path], docs: int) -> tuple[int, int, int]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    parent = UnionFind(0)
    pairs = 0
    for i, text in enumerate(islice((t for path in files for t in texts(path)), docs)):
        signature = MinHash(num_perm=NUM_PERM)
        for shingle in shingles(text, 3):
            signature.update(shingle.encode("utf-8"))
        parent.parent.append(i)
        for other in lsh.query(signature):
            parent.union(other, i)
            pairs += 1
        lsh.insert(i, signature)
    return len(parent.parent), parent.clusters(), pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("peer", choices=["rensa", "numpy", "datasketch"])
    parser.add_argument("feed", type=Path)
    parser.add_argument("--docs", type=int, help="the first N documents (datasketch only; the others read whole files)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    files = sorted(args.feed.glob("*.jsonl"))
    started = time.perf_counter()
    if args.peer == "rensa":
        docs, clusters, pairs = run_rensa(files, args.workers)
    elif args.peer == "numpy":
        docs, clusters, pairs = run_numpy(files, args.workers)
    else:
        docs, clusters, pairs = run_datasketch(files, args.docs or 10**12)
    seconds = time.perf_counter() - started
    print(json.dumps({"peer": args.peer, "docs": docs, "seconds": round(seconds, 2), "docs_per_second": round(docs / seconds, 1), "clusters": clusters, "candidate_pairs": pairs}))


if __name__ == "__main__":
    main()

"""Cluster: text hashes become exact copies, verified edges near-copy groups and story clusters.

Documents arrive sorted in canonical preference order, and index ``i`` is
their rank: every level visits them in that order, so the result is
deterministic and the first member of each group and story is its canonical.

0. Exact copies: documents with one text hash (the same words) are copies of
   the first-ranked of them, their representative; only representatives are
   sketched against each other.
1. Near-copy groups, by leader clustering over the exact copies'
   representatives: an unassigned one opens a group and takes in every
   unassigned one with a near-copy edge to it. Every member is thus a
   near-copy of the group's leader, never only of another member, so a chain
   A~B, B~C with A≁C cannot pull C in. An exact copy is in its
   representative's group, whichever group took that in.
2. Story clusters, over groups, by average linkage: two stories merge only
   while at least ``story.min_link_fraction`` of the pairs of their groups are
   linked by a verified edge. A rewrite must match about half of a story, not
   one member at its edge, which again stops chains across same-topic stories.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict

import numpy as np
import xxhash

from dedup.arrays import distinct
from dedup.kernels.verify import Edge


def exact_copies(text_hash: np.ndarray) -> np.ndarray:
    """Each document's exact-copy representative: the first-ranked document with its ``text_hash``."""
    n = len(text_hash)
    order = np.argsort(text_hash, kind="stable")  # ties in rank order: each hash's first is its most preferred
    starts = np.r_[True, text_hash[order][1:] != text_hash[order][:-1]] if n else np.empty(0, bool)
    first = np.empty(n, dtype=np.int64)
    first[order] = order[np.flatnonzero(starts)][np.cumsum(starts) - 1]
    return first


def near_copy_groups(edges: list[Edge], copy_of: np.ndarray) -> np.ndarray:
    """Leader clustering of documents ``0..n-1``, visited in that order, over
    the near-copy ``edges`` between exact copies' representatives; each
    document ``i`` then takes the group of ``copy_of[i]``, its representative
    (itself, or the first-ranked document with its text)."""
    n = len(copy_of)
    neighbours: dict[int, list[int]] = defaultdict(list)
    for e in edges:
        neighbours[e.a].append(e.b)
        neighbours[e.b].append(e.a)
    group = np.full(n, -1, dtype=np.int64)
    for node in range(n):
        if group[node] >= 0:
            continue
        group[node] = node
        for other in neighbours.get(node, ()):
            if group[other] < 0:
                group[other] = node
    return group[copy_of]


def story_clusters(group: np.ndarray, edges: list[Edge], min_link_fraction: float) -> np.ndarray:
    """Average-linkage agglomeration of near-copy groups into stories.

    Two groups are linked when any verified edge joins their members. Stories
    start as single groups; the pair of stories with the highest link density
    (links between them / product of their sizes in groups) merges, ties to the
    pair with the earliest members, until no pair reaches ``min_link_fraction``.
    Each connected component of the link graph is agglomerated on its own.
    """
    linked: dict[int, set[int]] = defaultdict(set)
    for e in edges:
        ga, gb = int(group[e.a]), int(group[e.b])
        if ga != gb:
            linked[ga].add(gb)
            linked[gb].add(ga)
    story_of_group = {int(g): int(g) for g in distinct(group)}
    seen: set[int] = set()
    for start in sorted(linked):
        if start in seen:
            continue
        component, frontier = {start}, [start]
        while frontier:
            for other in linked[frontier.pop()]:
                if other not in component:
                    component.add(other)
                    frontier.append(other)
        seen |= component
        for story, members in _agglomerate(component, linked, min_link_fraction).items():
            for g in members:
                story_of_group[g] = story
    return np.array([story_of_group[int(g)] for g in group], dtype=np.int64)


def _agglomerate(component: set[int], linked: dict[int, set[int]], min_link_fraction: float) -> dict[int, list[int]]:
    """Average linkage within one component; stories keyed by their first group.

    Link counts between stories are kept per pair and merged as stories merge;
    a heap holds candidate merges by density, and entries made stale by a
    merge are skipped when popped. O(links * log links) for the component.
    """
    size = {g: 1 for g in component}
    members = {g: [g] for g in component}
    links = {g: {h: 1 for h in linked[g]} for g in component}
    heap = [(-1.0, a, b) for a in component for b in linked[a] if a < b]
    heapq.heapify(heap)
    while heap:
        negative_density, a, b = heapq.heappop(heap)
        count = links.get(a, {}).get(b)
        if count is None or count / (size[a] * size[b]) != -negative_density:
            continue  # stale: a or b has merged since this entry was pushed
        if -negative_density < min_link_fraction:
            break
        keep, gone = a, b  # a < b: the story keeps its earliest group's key
        for other, n in links.pop(gone).items():
            del links[other][gone]
            if other != keep:
                links[other][keep] = links[keep][other] = links[keep].get(other, 0) + n
        size[keep] += size.pop(gone)
        members[keep] += members.pop(gone)
        for other, n in links[keep].items():
            heapq.heappush(heap, (-(n / (size[keep] * size[other])), min(keep, other), max(keep, other)))
    return members


def cluster_id_for(founder_doc_id: str, prefix: str = "c") -> str:
    """A new story's (or, with prefix "e", event's) id, derived from its founding document's id."""
    return prefix + xxhash.xxh3_64_hexdigest(founder_doc_id.encode("utf-8", "surrogatepass"))[:15]


def name_stories(story: np.ndarray, founder_keys: list[tuple], doc_ids: list[str], previous: list[str | None], prefix: str = "c") -> dict[int, str]:
    """A stable id for each story (keyed by its first index); events are named
    by the same rule, with ids starting with "e".

    A story whose members had ids in an earlier run keeps the id most of them
    had (ties: the id of the earliest-ranked member), unless a larger share
    of another story claimed it first (a split). Otherwise its id derives
    from its founder: the member with the smallest ``founder_keys`` entry
    (first run seen, then feed path and record), so one run over a feed and
    several runs over the same files arriving in path order name stories alike.
    """
    stories = story.tolist()
    members: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(stories):
        members[s].append(i)
    voted = {s for s, old_id in zip(stories, previous) if old_id is not None}
    names: dict[int, str] = {}
    used: set[str] = set()
    for s in sorted(members):
        if s in voted:  # (most stories of a run are new: no votes to count)
            votes = Counter(previous[i] for i in members[s] if previous[i] is not None)
            first_rank = {}
            for i in members[s]:
                if previous[i] is not None:
                    first_rank.setdefault(previous[i], i)
            for old_id, _ in sorted(votes.items(), key=lambda kv: (-kv[1], first_rank[kv[0]])):
                if old_id not in used:
                    names[s] = old_id
                    break
        if s not in names:
            founder = doc_ids[min(members[s], key=founder_keys.__getitem__)]
            names[s], salt = cluster_id_for(founder, prefix), 1
            while names[s] in used:  # the founder's id went to another story (a split)
                names[s], salt = cluster_id_for(f"{founder}#{salt}", prefix), salt + 1
        used.add(names[s])
    return names

"""Clustering guards against chaining; ids stay stable."""

from __future__ import annotations

import numpy as np

from dedup.kernels.cluster import cluster_id_for, exact_copies, name_stories, near_copy_groups, story_clusters
from dedup.kernels.verify import Edge


def test_exact_copies_are_represented_by_their_first_ranked_document() -> None:
    assert exact_copies(np.array([9, 4, 9, 4, 7, 9], dtype=np.uint64)).tolist() == [0, 1, 0, 1, 4, 0]
    assert exact_copies(np.empty(0, dtype=np.uint64)).tolist() == []


def test_a_chain_does_not_pull_in_a_document_unlike_the_leader() -> None:
    edges = [Edge(0, 1, "near-copy", 0.8), Edge(1, 2, "near-copy", 0.8)]  # A~B, B~C, A≁C
    group = near_copy_groups(edges, np.arange(3))
    assert group.tolist() == [0, 0, 2]


def test_an_exact_copy_joins_its_representatives_group_when_another_leader_took_that_in() -> None:
    # 0 leads; 1 is its near-copy; 2 is an exact copy of 1 (1 represents their text) and has no edge of its own
    group = near_copy_groups([Edge(0, 1, "near-copy", 0.8)], np.array([0, 1, 1]))
    assert group.tolist() == [0, 0, 0]


def test_stories_merge_by_average_linkage_not_single_links() -> None:
    # groups 0,1,2 fully linked; 3 linked to 2 only: 1 of 3 pairs < 0.5
    edges = [Edge(0, 1, "paraphrase", 0.5), Edge(0, 2, "paraphrase", 0.5), Edge(1, 2, "paraphrase", 0.5), Edge(2, 3, "paraphrase", 0.5)]
    groups = np.arange(4)
    assert story_clusters(groups, edges, min_link_fraction=0.5).tolist() == [0, 0, 0, 3]
    assert story_clusters(groups, edges, min_link_fraction=0.3).tolist() == [0, 0, 0, 0]


def test_near_copies_share_a_group_inside_the_story() -> None:
    near = [Edge(0, 1, "near-copy", 0.9)]
    para = [Edge(0, 2, "paraphrase", 0.6)]
    group = near_copy_groups(near, np.arange(3))
    assert group.tolist() == [0, 0, 2]
    assert story_clusters(group, near + para, min_link_fraction=0.5).tolist() == [0, 0, 0]


def test_story_ids_are_inherited_by_majority_and_new_ones_derive_from_the_founder() -> None:
    story = np.array([0, 0, 0, 3, 3])
    founders = [(1, "b", 0), (1, "a", 0), (2, "c", 0), (2, "d", 0), (2, "e", 0)]
    ids = ["x1", "x2", "x3", "x4", "x5"]
    names = name_stories(story, founders, ids, ["old", "old", None, None, None])
    assert names == {0: "old", 3: cluster_id_for("x4")}
    fresh = name_stories(story, founders, ids, [None] * 5)
    assert fresh[0] == cluster_id_for("x2")  # first run seen, then path: "a" < "b"


def test_a_split_story_keeps_its_id_on_one_side_only() -> None:
    story = np.array([0, 0, 2, 2, 2])
    names = name_stories(story, [(1, str(i), 0) for i in range(5)], [f"d{i}" for i in range(5)], ["s", "s", "s", "s", "s"])
    assert names[0] == "s" and names[2] != "s"

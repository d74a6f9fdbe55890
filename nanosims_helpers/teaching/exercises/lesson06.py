"""Lesson 06, hierarchical clustering: the checks and hints of its exercises."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._framework import Wrong, exercise, _default_features, _number, _close


@lru_cache(maxsize=None)
def _tree():
    from ...hierarchical import ward_tree

    return ward_tree(_default_features("soil_256"), random_state=0)


@exercise(
    "06-1",
    expects="a height (a number)",
    hints=(
        "A cut at a height undoes every merge above it: the number of clusters left is set by the heights.",
        "`tree.linkage[:, 2]` lists the merge heights, lowest first. A cut between two merge heights keeps "
        "every merge below it and undoes every merge above it.",
        "The last 3 merges join the 4 clusters into one: any height between the 4th-last and the 3rd-last "
        "merge heights, `tree.linkage[-4, 2]` and `tree.linkage[-3, 2]`, works.",
    ),
)
def _check_06_1(answer):
    from ...hierarchical import cut_tree
    from ...metrics import adjusted_rand

    tree = _tree()
    height = _number(answer, "the height")
    if height <= 0:
        raise Wrong("Heights are positive distances.")
    by_height = cut_tree(tree, height=height)
    n = len(np.unique(by_height))
    if n > 4:
        raise Wrong(f"That height gives {n} clusters: cut higher up the tree.")
    if n < 4:
        raise Wrong(f"That height gives {n} cluster(s): cut lower down the tree.")
    if adjusted_rand(by_height, cut_tree(tree, n_clusters=4)) != 1.0:
        raise Wrong("4 clusters, but not the same as cutting into 4: is `tree` the one of the exercise?")
    return "Any height between the 4th-last and the 3rd-last merge gives the same 4 clusters."


@lru_cache(maxsize=1)
def _crop_agreements_06_2() -> tuple[float, float]:
    """The fast method's agreement with exact Ward on the two 64 x 64 crops of exercise 06-2."""
    from ...hierarchical import compare_with_exact

    features = _default_features("soil_256")
    return tuple(compare_with_exact(crop, n_clusters=4, random_state=0).adjusted_rand
                 for crop in (features[:64, :64], features[-64:, -64:]))


@exercise(
    "06-2",
    expects="the lower of the two agreements (a number)",
    hints=(
        "The fast method is checked against exact Ward on crops small enough for exact Ward.",
        "`compare_with_exact(crop, n_clusters=4, random_state=0).adjusted_rand` is the agreement of the "
        "fast method with exact Ward on one crop; do both crops and keep the lower.",
        "`min(compare_with_exact(features[:64, :64], ...).adjusted_rand, "
        "compare_with_exact(features[-64:, -64:], ...).adjusted_rand)`.",
    ),
)
def _check_06_2(answer):
    agreements = _crop_agreements_06_2()
    value = _number(answer, "the agreement")
    if _close(value, max(agreements), 1e-6) and not _close(value, min(agreements), 1e-6):
        raise Wrong("That is the HIGHER of the two agreements; the question asks for the lower.")
    if not _close(value, min(agreements), 1e-6):
        raise Wrong(
            "Not the agreement of either crop. Compare the fast method with exact Ward (compare_with_exact "
            "does both) on each 64 x 64 crop, 4 clusters, random_state=0; the truth map is not needed."
        )
    return "On small crops the fast method and exact Ward agree closely."

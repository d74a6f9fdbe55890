"""Lesson 05, choosing the number of clusters: the checks and hints of its exercises."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ._framework import Wrong, exercise, _sample, _default_features, _justified_choice


@lru_cache(maxsize=None)
def _over_split():
    from ...clustering import kmeans_map

    return kmeans_map(_default_features("soil_256"), n_clusters=12, random_state=0)


@lru_cache(maxsize=1)
def _ari_by_groups_05_1() -> pd.Series:
    """ARI with the truth of the 12 clusters regrouped into n = 2..6 groups (exercise 05-1)."""
    from ...hierarchical import regroup_clusters
    from ...metrics import adjusted_rand

    _, truth = _sample("soil_256")
    many = _over_split()
    return pd.Series({n: adjusted_rand(regroup_clusters(many.labels, many.centers, n_clusters=n).labels, truth)
                      for n in range(2, 7)})


@exercise(
    "05-1",
    expects="a pair: a number of groups and its adjusted Rand index with the truth",
    hints=(
        "The same 12 clusters can be regrouped into fewer groups; the truth map says which number of groups "
        "fits best.",
        "Regroup the same 12 clusters into n = 2, ..., 6 groups with `regroup_clusters` and compute, for each n, "
        "the adjusted Rand index of the regrouped labels with the truth: "
        "`pd.Series({n: ... "
        "for n in range(2, 7)})` is the table: answer its `.idxmax()` and `.max()`.",
        "`ari = pd.Series({n: adjusted_rand(regroup_clusters(many.labels, many.centers, n_clusters=n).labels, truth) "
        "for n in range(2, 7)})`; `answer = (int(ari.idxmax()), ari.max())`.",
    ),
)
def _check_05_1(answer):
    _, truth = _sample("soil_256")
    ari = _ari_by_groups_05_1()
    n = _justified_choice(answer, ari, "a number of groups", "the adjusted Rand index of {} groups")
    if n != ari.idxmax():
        raise Wrong(f"With {n} groups the ARI is lower than with another n: compare them all.")
    return f"ARI {ari[n]:.3f}, the best of n = 2 to 6; the truth has {len(np.unique(truth))} phases."


@exercise(
    "05-2",
    expects="a label map of the image's shape (y, x): one group number per pixel",
    hints=(
        "Clusters that get the same name belong to the same phase: merge them by name.",
        "Name each of the 12 clusters from its mean profile (as in lesson 02: the phase whose signature mass "
        "is strongest), then give every pixel the name of its cluster.",
        "`names = signatures.idxmax(axis=1)`; `np.unique(names, return_inverse=True)[1]` numbers the names; "
        "index that array with `many.labels` to get one group number per pixel.",
    ),
)
def _check_05_2(answer):
    from ...metrics import adjusted_rand
    from ...profiles import profile_matrix

    image, truth = _sample("soil_256")
    many = _over_split()
    named = np.asarray(answer)
    if named.shape != truth.shape:
        if named.shape == (12,):
            raise Wrong("That is one group per CLUSTER: index it with `many.labels` to get one per pixel.")
        raise Wrong(f"Your map has shape {named.shape}; the image is {truth.shape}, one group per pixel.")
    means = pd.DataFrame(profile_matrix(many.features, many.labels), columns=image.masses)
    signatures = pd.DataFrame({
        "organic matter": means["12C14N"],
        "aluminosilicate": means["27Al16O"],
        "iron oxide": means["56Fe16O"],
        "pore/resin": means["12C"] - means["12C14N"],
    })
    expected = np.unique(signatures.idxmax(axis=1), return_inverse=True)[1][many.labels]
    if adjusted_rand(named, many.labels) == 1.0:
        raise Wrong("Your map still has the 12 clusters: merge the clusters that get the same name.")
    if adjusted_rand(named, expected) != 1.0:
        if adjusted_rand(named, np.unique(signatures.idxmin(axis=1), return_inverse=True)[1][many.labels]) == 1.0:
            raise Wrong("You named every cluster after its WEAKEST signature: take the largest.")
        raise Wrong(
            "These groups differ from naming every cluster after its strongest signature (mean profiles of "
            "`many.features`, the four signatures of lesson 02)."
        )
    return (f"ARI with the truth {adjusted_rand(named, truth):.3f}, against "
            f"{adjusted_rand(many.labels, truth):.3f} for the 12 clusters.")

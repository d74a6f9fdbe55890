"""Lesson 02, clustering with k-means: the checks and hints of its exercises."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._framework import Wrong, exercise, _sample, _name, _phases, _choice_and_number, _justifies, _kmeans_labels


@exercise(
    "02-1",
    expects="the names of the two phases that share a cluster and the share of the image's pixels in that cluster, "
    "e.g. ('organic matter', 'pore/resin', 0.4)",
    hints=(
        "Without the two metal oxides, which phases look alike in 12C, 16O and 12C14N?",
        "Cross-tabulate clusters against true phases: `pd.crosstab(labels.ravel(), truth.ravel())`. "
        "For every phase, in which cluster are most of its pixels?",
        "`main = pd.crosstab(labels.ravel(), truth.ravel()).idxmax()` gives the main cluster of every phase "
        "(column); the two phases with the same value share it: `pair = [PHASES[p] for p in main.index if "
        "(main == main[p]).sum() == 2]`; `answer = (*pair, (labels == main[PHASES.index(pair[0])]).mean())`.",
    ),
)
def _check_02_1(answer):
    image, truth = _sample("soil_256")
    if isinstance(answer, str) or len(answer) != 3:
        raise Wrong("Give two phase names and a share, e.g. ('organic matter', 'pore/resin', 0.4).")
    phases = _phases()
    given = {_name(name, phases, "a phase") for name in answer[:2]}
    labels = _kmeans_labels("soil_256", 3, masses=("12C", "16O", "12C14N"))
    table = pd.crosstab(labels.ravel(), truth.ravel())
    main_cluster = {phases[p]: table[p].idxmax() for p in table.columns}
    if len(given) != 2:
        raise Wrong("You named the same phase twice.")
    first, second = sorted(given)
    if main_cluster[first] != main_cluster[second]:
        raise Wrong(f"Most {first} pixels and most {second} pixels are in different clusters; look again at the table.")
    _justifies(answer[2], float((labels == main_cluster[first]).mean()), 0.005,
               "the share of the image's pixels in the cluster they share")
    return "Without 27Al16O and 56Fe16O both minerals are 'oxygen, little carbon', so k-means cannot part them."


@exercise(
    "02-2",
    expects="a pair: a cluster number and its median 12C14N count",
    hints=(
        "Nitrogen, counted as 12C14N, marks organic matter: look for the cluster with the most of it.",
        "`cluster_profiles(image.counts, labels, image.masses)` describes the clusters in counts; pivot it "
        "to one row per cluster and one column per mass, and take the 12C14N column.",
        "`cn = profiles.pivot(index='cluster', columns='mass', values='median')['12C14N']`; "
        "`answer = (int(cn.idxmax()), cn.max())`; `np.bincount(truth[labels == c]).argmax()` is the main "
        "phase of cluster c.",
    ),
)
def _check_02_2(answer):
    image, truth = _sample("soil_256")
    labels = _kmeans_labels("soil_256", 4)
    cn = image.counts[:, :, image.mass_index("12C14N")]
    medians = pd.Series([np.median(cn[labels == c]) for c in range(labels.max() + 1)])
    given, number = _choice_and_number(answer, "the cluster number and its median 12C14N count")
    if isinstance(given, str):
        raise Wrong("Give the cluster's number, not a name: the phase comes after, from the truth.")
    cluster = int(given)
    if cluster != given or not 0 <= cluster < len(medians):
        raise Wrong(f"{given!r} is not a cluster number: they run from 0 to {len(medians) - 1}.")
    _justifies(number, medians[cluster], 0.5, f"the median 12C14N count of cluster {cluster}")
    if cluster == medians.idxmin():
        raise Wrong("That is the cluster with the LOWEST median 12C14N.")
    if cluster != medians.idxmax():
        raise Wrong(
            "Another cluster has a higher median 12C14N count. "
            "Did you use method='kmeans', 4 clusters and random_state=0?"
        )
    phase = _phases()[np.bincount(truth[labels == cluster]).argmax()]
    return f"Cluster {cluster} is mostly {phase}: nitrogen (12C14N) marks organic matter."

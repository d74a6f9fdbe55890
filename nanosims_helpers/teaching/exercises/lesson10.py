"""Lesson 10, the explorer: the self-check quiz on comparing settings."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from ._framework import Wrong, exercise, _sample, _number, _close, _kmeans_labels, _justified_choice

#: The explorer shows an ARI with three decimals: an answer read off it is right within this.
SHOWN_TOLERANCE = 5e-4

#: The range of k of quiz 10-2, as on the explorer's slider in "Things to try".
K_RANGE_10_2 = range(2, 9)


@lru_cache(maxsize=1)
def _ari_by_k_10_2() -> pd.Series:
    """ARI with the truth of k-means (default preprocessing) at every k of quiz 10-2."""
    from ...metrics import adjusted_rand

    truth = _sample("soil_256")[1]
    return pd.Series({k: adjusted_rand(_kmeans_labels("soil_256", k), truth) for k in K_RANGE_10_2})


@exercise(
    "10-1",
    expects="an adjusted Rand index (a number)",
    hints=(
        "The Compare tab scores how much two maps agree with each other, not with the truth.",
        "Cluster soil_256 twice with k-means, k = 4, random_state=0: preprocessing 'max' and the default "
        "(RECOMMENDED_PREPROCESSING); `adjusted_rand` of the two maps.",
        "`answer = adjusted_rand(cluster_image(image, 4, method='kmeans', preprocessing='max').labels, "
        "cluster_image(image, 4, method='kmeans', preprocessing=RECOMMENDED_PREPROCESSING).labels)`",
    ),
)
def _check_10_1(answer):
    from ...metrics import adjusted_rand
    from ...preprocessing import RECOMMENDED_PREPROCESSING

    value = _number(answer, "the adjusted Rand index")
    truth = _sample("soil_256")[1]
    expected = adjusted_rand(_kmeans_labels("soil_256", 4, "max"), _kmeans_labels("soil_256", 4, RECOMMENDED_PREPROCESSING))
    if any(_close(value, adjusted_rand(_kmeans_labels("soil_256", 4, name), truth), SHOWN_TOLERANCE)
           for name in ("max", RECOMMENDED_PREPROCESSING)):
        raise Wrong("That is one map's agreement with the truth; the Compare tab compares the two maps.")
    if not _close(value, expected, SHOWN_TOLERANCE):
        raise Wrong("Not the ARI between the k-means maps (k = 4, random_state=0) after 'max' and after the "
                    "default preprocessing.")
    return "Two settings that agree this little cannot both be right: the truth (or a physics check) decides."


@exercise(
    "10-2",
    expects="a pair: the k from 2 to 8 with the best adjusted_rand, and that adjusted_rand",
    hints=(
        "Move k and read `adjusted_rand` each time; in code, one map per k.",
        "k-means with the default preprocessing and random_state=0, k = 2 to 8, each scored with "
        "`adjusted_rand(labels, truth)`.",
        "`ari = pd.Series({k: adjusted_rand(cluster_image(image, k, method='kmeans').labels, truth) "
        "for k in range(2, 9)})`; `answer = (int(ari.idxmax()), ari.max())`",
    ),
)
def _check_10_2(answer):
    ari = _ari_by_k_10_2()
    k = _justified_choice(answer, ari, "a k", "the adjusted_rand of k-means at k = {}")
    if k != ari.idxmax():
        raise Wrong(f"k = {k} is not the best: another k agrees better with the truth.")
    return "The truth's number of phases; the internal scores of the Clusters tab need not agree."

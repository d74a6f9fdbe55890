"""Lesson 04, judging a clustering: the checks and hints of its exercises."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ._framework import Wrong, exercise, _sample, _number, _close, _phases, _justified_choice


#: ARI differences up to this count as a tie in exercise 04-1: on one image they are noise.
TIE_04_1 = 0.01

#: The scalings exercise 04-1 compares; RECOMMENDED_PREPROCESSING is added when it is not among them.
SCALINGS_04_1 = ("max", "percentile", "zscore", "asinh", "anscombe+zscore")


def scalings_04_1() -> tuple[str, ...]:
    """The scalings of exercise 04-1: :data:`SCALINGS_04_1` and the kit's default preprocessing for k-means."""
    from ...preprocessing import RECOMMENDED_PREPROCESSING

    return tuple(dict.fromkeys((*SCALINGS_04_1, RECOMMENDED_PREPROCESSING)))


@lru_cache(maxsize=None)
def _ari_by_scaling() -> pd.Series:
    from ...metrics import adjusted_rand
    from ...pipeline import cluster_image

    image, truth = _sample("soil_256")
    return pd.Series({
        name: adjusted_rand(cluster_image(image, 4, method="kmeans", preprocessing=name, random_state=0).labels, truth)
        for name in scalings_04_1()
    })


@exercise(
    "04-1",
    expects="a pair: the name of a scaling, such as 'zscore', and its adjusted Rand index with the truth",
    hints=(
        "With a truth map you can score whole pipelines: the same clustering after each scaling, scored "
        "against the truth.",
        "Cluster with k-means and each scaling (same k = 4, same random_state), compute the adjusted Rand index of "
        "each label map with the truth, and compare.",
        "`ari = pd.Series({name: adjusted_rand(cluster_image(image, 4, method='kmeans', preprocessing=name, "
        "random_state=0).labels, truth) for name in scalings_04_1()})`; `answer = (ari.idxmax(), ari.max())`.",
    ),
)
def _check_04_1(answer):
    ari = _ari_by_scaling()
    scaling = _justified_choice(answer, ari, "the scaling", "the adjusted Rand index of {}")
    if scaling == ari.idxmin():
        raise Wrong(f"{scaling} gives the LOWEST agreement with the truth of all; compare every scaling's ARI.")
    if ari.max() - ari[scaling] > TIE_04_1:
        raise Wrong(f"{scaling} is not the best: another scaling agrees better with the truth.")
    ties = [name for name in ari.index if ari.max() - ari[name] <= TIE_04_1]
    tie = f"; {len(ties)} scalings are within {TIE_04_1} of each other: one image cannot settle that" * (len(ties) > 1)
    return f"ARI {ari[scaling]:.3f}{tie}; max scaling only {ari['max']:.3f}."


def merged_truth(truth: np.ndarray) -> np.ndarray:
    """The truth map of exercise 04-2 with organic matter and pore/resin given one number, then renumbered."""
    phases = _phases()
    merged = np.where(truth == phases.index("pore/resin"), phases.index("organic matter"), truth)
    return merged.max() - merged


@exercise(
    "04-2",
    expects="two numbers: (ARI of the merged, renumbered truth, ARI of random labels)",
    hints=(
        "The ARI compares groupings of pixels, whatever their numbers: renumbering costs nothing, merging "
        "two groups does, and chance scores about 0.",
        "Give pore/resin the number of organic matter (`np.where`), renumber the result (`max - merged`) and "
        "compare with `adjusted_rand(..., truth)`. Draw random labels 0-3 with a seeded generator.",
        "`merged = np.where(truth == PHASES.index('pore/resin'), PHASES.index('organic matter'), truth)`; "
        "`answer = (adjusted_rand(merged.max() - merged, truth), "
        "adjusted_rand(np.random.default_rng(0).integers(0, 4, size=truth.shape), truth))`.",
    ),
)
def _check_04_2(answer):
    from ...metrics import adjusted_rand

    merged, chance = (_number(value, "each ARI") for value in answer)
    truth = _sample("soil_256")[1]
    expected = adjusted_rand(merged_truth(truth), truth)
    if _close(merged, 1.0, 1e-9):
        raise Wrong("1 is the ARI of a renumbering alone; after merging two phases the grouping differs.")
    if not _close(merged, expected, 1e-6):
        raise Wrong(
            "Not the ARI of the truth with pore/resin merged into organic matter (then renumbered) against the "
            "truth: compare with adjusted_rand, not with `==` on the labels."
        )
    if not abs(chance) < 0.01:
        raise Wrong(
            f"Random labels give {chance:.3f}? Expected about 0 for any seed. A share of equal labels (about "
            "1/4 for 4 clusters) is not the adjusted Rand index."
        )
    return (f"Merging two phases costs {1 - expected:.2f} of the ARI, renumbering nothing; chance scores "
            "about 0 (it can be negative).")

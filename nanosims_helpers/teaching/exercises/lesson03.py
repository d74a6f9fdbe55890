"""Lesson 03, reducing dimensions with PCA: the checks and hints of its exercises."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._framework import Wrong, exercise, _sample, _default_features, _name, _number, _choice_and_number, _justifies


def _pca_of_default_features() -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (largest first) and eigenvectors (columns) of the covariance of the pixels."""
    table = _default_features("soil_256").reshape(-1, _sample("soil_256")[0].counts.shape[-1])
    values, vectors = np.linalg.eigh(np.cov(table, rowvar=False))
    return values[::-1], vectors[:, ::-1]


@exercise(
    "03-1",
    expects="a pair: a number of components and the share of the variance they explain",
    hints=(
        "Each component explains a share of the variance; add them up, largest first.",
        "The cumulative sum of `pca.explained_variance_ratio_` says how much the first 1, 2, 3, ... "
        "components explain together; the first to reach 0.9 is the answer. "
        "`np.searchsorted(np.cumsum(ratios), 0.9)` is the POSITION (counted from 0) of the first sum that "
        "reaches 0.9: the number of components is one more.",
        "`total = np.cumsum(pca.explained_variance_ratio_)`; `n = int(np.searchsorted(total, 0.9)) + 1`; "
        "`answer = (n, total[n - 1])`.",
    ),
)
def _check_03_1(answer):
    values, _ = _pca_of_default_features()
    cumulative = np.cumsum(values / values.sum())
    given, share = _choice_and_number(answer, "the number of components and the share they explain")
    n = int(given)
    if n != given or not 1 <= n <= len(values):
        raise Wrong(f"{given!r}: give a whole number of components between 1 and {len(values)}.")
    _justifies(share, cumulative[n - 1], 0.005, f"the share of the variance {n} component(s) explain")
    if cumulative[n - 1] < 0.9:
        raise Wrong(
            f"{n} component(s) explain {cumulative[n - 1]:.1%}, less than 90 %. Counting from 0 is the usual "
            "cause: a position from searchsorted is one less than a number of components."
        )
    if n > 1 and cumulative[n - 2] >= 0.9:
        raise Wrong(f"{n - 1} components already explain {cumulative[n - 2]:.1%}: you want the smallest number.")
    return f"{n} components explain {cumulative[n - 1]:.1%}, {n - 1} only {cumulative[n - 2] if n > 1 else 0:.1%}."


@exercise(
    "03-2",
    expects="a pair: a mass name such as '16O' and its absolute loading on PC3",
    hints=(
        "A component is a weighted sum of the masses; the weights are its loadings.",
        "The loadings of PC3 are `pca.components_[2]` (the third row: rows count from 0). The sign of a "
        "loading is arbitrary: compare absolute values.",
        "`weights = pd.Series(pca.components_[2], index=image.masses).abs()`; "
        "`answer = (weights.idxmax(), weights.max())`.",
    ),
)
def _check_03_2(answer):
    image, _ = _sample("soil_256")
    given, loading = _choice_and_number(answer, "the mass and its absolute loading on PC3")
    mass = _name(given, image.masses, "the mass")
    _, vectors = _pca_of_default_features()
    weights = pd.Series(np.abs(vectors[:, 2]), index=image.masses)
    _justifies(abs(_number(loading, "the loading")), weights[mass], 0.005, f"the absolute loading of {mass} on PC3")
    if mass != weights.idxmax():
        for position, name in (("first", 0), ("second", 1)):
            if mass == image.masses[int(np.argmax(np.abs(vectors[:, name])))]:
                raise Wrong(f"That mass drives the {position} component. PC3 is the third row, `components_[2]`.")
        if mass == weights.idxmin():
            raise Wrong("That mass has the smallest weight on PC3. Compare absolute loadings, largest first.")
        raise Wrong(f"{mass} is not the largest absolute loading of PC3 (the sign does not matter).")
    return "Its loading is the largest of PC3, whatever the sign."

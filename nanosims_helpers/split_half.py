"""Choosing k by split-half: cluster two independent halves of the counts apart and compare the maps.

Ion counts are Poisson, so one measurement can be split into two independent measurements of the
same field, each with about half the counts (:func:`~nanosims_helpers.count_split.split_counts`):

* an image with two or more planes: half A is the sum of the even planes (1st, 3rd, ...), half B
  the sum of the odd planes (2nd, 4th, ...); with an odd number of planes the last plane is
  shared out by binomial thinning, so both halves get the same expected counts;
* an image with one plane: binomial thinning of every count, each ion going to half A or half B
  with probability 1/2. Only whole, raw counts can be thinned: load the file without the
  dead-time correction.

Cluster each half the same way and compare the two maps pixel by pixel. Clusters that are in the
sample come back in both halves; clusters cut out of noise land in different places. Two scores
per k (:func:`split_half_scores`):

* ``split_half_f1``: every cluster of each half is matched with the cluster of the other half
  that overlaps it best (F1 = ``2 |a and b| / (|a| + |b|)``), and the worst-matched cluster's F1
  is the score. One cluster that does not come back is enough to pull it down, as in the
  "prediction strength" of Tibshirani and Walther (2005). The beam blurs about one pixel, so a
  boundary that moves by a pixel between the halves is not a disagreement: a pixel of cluster a
  counts as found in b when b is within :data:`TOLERANCE_PX` pixels of it (and the other way
  round). Without that tolerance, small clusters fail on their rims alone: the labelled cells of
  the realistic sample (radius 2-4 pixels) came back with F1 0.61-0.76 at the true k.
* ``split_half_ari``: the adjusted Rand index of the two maps (cluster numbers do not matter, so
  no matching is needed); it is dominated by the big clusters.

:func:`recommend_k` turns them, with the knee of the entropy curve, into one k. The rule, and what
it gave on the realistic sample and on the real files, is in its docstring.

The halves themselves, and the held-out counts that keep the tests on found groups honest, are
made in :mod:`nanosims_helpers.count_split` (whose names are importable from here too).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import ndimage

from ._lazy import renamed
from .count_split import MAKE_AN_IMAGE as _MAKE_AN_IMAGE
from .count_split import (
    MIN_COUNTS_PER_PIXEL,
    MIN_SPLIT_PIXELS,
    CountSplit,
    check_splittable,
    hold_out_counts,
    remember_split,
    split_counts,
    split_of,
    with_split,
)
from .errors import NanoSIMSError
from .image import NanoSIMSImage, check_image  # noqa: F401 - the examples build images
from .metrics import adjusted_rand

__all__ = [
    "CountSplit",
    "MIN_COUNTS_PER_PIXEL",
    "MIN_SPLIT_PIXELS",
    "SPLIT_HALF_COLUMNS",
    "SPLIT_HALF_THRESHOLD",
    "TOLERANCE_PX",
    "KChoice",
    "hold_out_counts",
    "recommend_counted_k",
    "recommend_k",
    "remember_split",
    "split_counts",
    "split_half_scores",
    "split_of",
    "with_split",
]

#: Worst-cluster split-half F1 that :func:`recommend_k` asks of a k (see its docstring).
SPLIT_HALF_THRESHOLD = 0.85
#: Pixels a boundary may move between the two halves and still count as the same (the beam blur).
TOLERANCE_PX = 1
#: Columns of the table returned by :func:`split_half_scores`.
SPLIT_HALF_COLUMNS = ("k", "split_half_f1", "split_half_ari")


def _default_cluster(image, n_clusters, random_state=0):
    from .pipeline import cluster_image  # imported here: the pipeline imports every clustering module

    return cluster_image(image, n_clusters, random_state=random_state)


def _half_labels(halves, k: int, cluster, random_state) -> list[np.ndarray]:
    """Cluster both halves into k clusters; ``cluster`` may return a ClusterResult or a label map."""
    return [np.asarray(getattr(result, "labels", result)) for result in
            (cluster(half, k, random_state=random_state) for half in halves)]


def _near_counts(labels: np.ndarray, other: np.ndarray, n_other: int, tolerance_px: int) -> np.ndarray:
    """[i, j]: pixels of cluster i of ``labels`` with a pixel of cluster j of ``other`` within ``tolerance_px``."""
    n_labels = labels.max() + 1
    size = 2 * tolerance_px + 1
    counts = np.empty((n_labels, n_other), dtype=np.int64)
    for j in range(n_other):
        near = ndimage.maximum_filter(other == j, size=size) if tolerance_px else other == j
        counts[:, j] = np.bincount(labels[near], minlength=n_labels)
    return counts


def near_f1_matrix(first, second, tolerance_px: int = TOLERANCE_PX) -> np.ndarray:
    """F1 of every pair (cluster i of ``first``, cluster j of ``second``), with a boundary tolerance.

    ``(n_i + n_j) / (|i| + |j|)``, where n_i counts the pixels of i that have a pixel of j within
    ``tolerance_px`` pixels (a square neighbourhood) and n_j the other way round. With
    ``tolerance_px=0`` it is the usual F1, ``2 |i and j| / (|i| + |j|)``.

    Parameters
    ----------
    first, second : ndarray of int, shape (y, x)
        Two label maps of the same pixels, codes 0..k-1.
    tolerance_px : int
        How far, in pixels, a boundary may move.

    Returns
    -------
    ndarray of float, shape (k_first, k_second)

    Examples
    --------
    >>> first = np.array([[0, 0, 1, 1]])
    >>> second = np.array([[0, 0, 0, 1]])
    >>> near_f1_matrix(first, second, 0).round(2).tolist()
    [[0.8, 0.0], [0.4, 0.67]]
    >>> near_f1_matrix(first, second, 1).round(2).tolist()
    [[1.0, 0.0], [0.8, 1.0]]
    """
    first, second = np.asarray(first), np.asarray(second)
    n_first, n_second = first.max() + 1, second.max() + 1
    found = _near_counts(first, second, n_second, tolerance_px) + _near_counts(second, first, n_first, tolerance_px).T
    sizes = np.bincount(first.ravel(), minlength=n_first)[:, None] + np.bincount(second.ravel(), minlength=n_second)
    return found / np.maximum(sizes, 1)


def _agreement(k: int, first: np.ndarray, second: np.ndarray, tolerance_px: int) -> dict:
    """One row of :func:`split_half_scores`: worst matched F1 over the clusters of both halves, and ARI."""
    f1 = near_f1_matrix(_codes(first), _codes(second), tolerance_px)
    worst = min(f1.max(axis=1).min(), f1.max(axis=0).min())
    return {"k": k, "split_half_f1": float(worst), "split_half_ari": adjusted_rand(first, second)}


def _codes(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0..n-1 (a cluster may be empty in a half)."""
    return np.unique(labels, return_inverse=True)[1].reshape(labels.shape)


@renamed(ks="n_clusters_range")
def split_half_scores(
    image, n_clusters_range=range(2, 13), *, cluster=None, tolerance_px: int = TOLERANCE_PX, random_state=0
) -> pd.DataFrame:
    """Cluster both halves of ``image`` (:func:`split_counts`) for each k and score their agreement.

    Parameters
    ----------
    image : NanoSIMSImage
        Raw counts, with planes where they were kept.
    n_clusters_range : iterable of int
        Numbers of clusters to try, each >= 2.
    cluster : callable, optional
        ``cluster(half, k, random_state=...)`` returning a ClusterResult or a (y, x) label map,
        for a half image (a NanoSIMSImage). Default: :func:`nanosims_helpers.pipeline.cluster_image`
        with its default settings, so the check scores the pipeline the kit recommends.
    tolerance_px : int
        Pixels a boundary may move between the halves (see the module description). Use 0 for
        pixel-by-pixel methods, whose speckled maps agree everywhere within one pixel.
    random_state : int
        Seed of the split and of the clustering.

    Returns
    -------
    pandas.DataFrame
        One row per k, columns :data:`SPLIT_HALF_COLUMNS`: ``split_half_f1`` (the F1 of the
        worst-matched cluster, 0 to 1) and ``split_half_ari`` (adjusted Rand index of the two
        maps; 1 = the same clusters, about 0 = no more alike than chance); see the module description.

    Raises
    ------
    NanoSIMSError
        As :func:`split_counts`, or if a k is below 2 or above the number of pixels, or the
        clustering fails.

    Examples
    --------
    >>> planes = np.ones((2, 16, 16, 2))
    >>> planes[:, :, 8:] = [40.0, 2.0]
    >>> planes[:, :, :8] = [3.0, 30.0]
    >>> image = NanoSIMSImage.from_planes(np.random.default_rng(0).poisson(planes).astype(float), ("12C", "16O"))
    >>> split_half_scores(image, [2]).round(2).values.tolist()
    [[2.0, 1.0, 1.0]]
    """
    from .choosing_k import _check_k_values

    image = check_splittable(image)
    k_list = _check_k_values(n_clusters_range, image.shape[0] * image.shape[1])
    cluster = _default_cluster if cluster is None else cluster
    halves = split_counts(image, random_state=random_state)
    rows = [_agreement(k, *_half_labels(halves, k, cluster, random_state), tolerance_px) for k in k_list]
    return pd.DataFrame(rows, columns=list(SPLIT_HALF_COLUMNS))


class KChoice(NamedTuple):
    """The k :func:`recommend_k` chose, with the evidence.

    Attributes
    ----------
    k : int
        The recommended number of clusters.
    split_half_f1, split_half_ari : float
        The split-half scores of that k (NaN when the image could not be split).
    entropy_knee : int
        The knee of the k-means entropy curve: the largest k considered.
    rule : str
        One sentence saying how ``k`` was chosen, for reports.
    scores : pandas.DataFrame
        The split-half scores computed (columns :data:`SPLIT_HALF_COLUMNS`), from the knee down.
    """

    k: int
    split_half_f1: float
    split_half_ari: float
    entropy_knee: int
    rule: str
    scores: pd.DataFrame


@renamed(k_max="max_clusters")
def recommend_k(
    image, max_clusters: int = 31, *, features=None, cluster=None, threshold: float = SPLIT_HALF_THRESHOLD,
    tolerance_px: int = TOLERANCE_PX, random_state=0
) -> KChoice:
    """Recommend a number of clusters: the largest k, up to the entropy knee, that both halves reproduce.

    The rule:

    1. The knee of the k-means entropy curve over k = 2..``max_clusters``
       (:func:`~nanosims_helpers.choosing_k.find_knee`) is the largest k considered. On its own it
       over-splits: 8-12 on every real and simulated image the kit was tried on.
    2. From the knee down, both halves of the image (:func:`split_counts`) are clustered into k
       clusters with ``cluster``; the first k whose worst-matched cluster has a split-half F1 of at
       least ``threshold`` is recommended: every one of its clusters comes back in an independent
       half of the counts.
    3. If no k reaches the threshold, the k with the best split-half F1 is recommended, with a
       warning; if the image cannot be split (too small or too sparse, see :func:`split_counts`),
       the knee is, with a warning.

    Measured with the default pipeline (``method="spatial"``) clustering the halves and a
    one-pixel boundary tolerance (``benchmarks/bench_choosing_k.py``): on the realistic sample
    (6 phases) the rule gave 6 on each of 5 seeds, where the knee alone gave 8-11; on ``soil_256``
    (4 phases) 5, where the knee gave 11; on the real files 2 (image_sun.im) and 5
    (openmims_051117.im). Without the tolerance the labelled cells failed on their rims and the
    rule gave 3-4 on the realistic sample. Each half holds half the counts, so a faint phase found
    in the whole image can be missing from the halves, and the rule then stops below it: read it
    as "the largest k the data support at half their counts", and look at the table in
    ``scores`` before settling on k. The threshold 0.85 is a convention (Tibshirani and Walther
    used 0.8-0.9), not a law.

    Parameters
    ----------
    image : NanoSIMSImage
        Raw counts, with planes where they were kept (``load_image(path, keep_planes=True)``).
    max_clusters : int
        Largest k of the entropy sweep, at least 4.
    features : array_like, shape (y, x, n_features), optional
        What the entropy sweep clusters; default the asinh of the image's ion masses
        (:meth:`~nanosims_helpers.image.NanoSIMSImage.for_clustering`).
    cluster : callable, optional
        How the halves are clustered, as in :func:`split_half_scores`; default ``cluster_image``.
    threshold : float
        Worst-cluster split-half F1 a k must reach, between 0 and 1.
    tolerance_px : int
        Pixels a boundary may move between the halves, as in :func:`split_half_scores`.
    random_state : int
        Seed of the sweep, the split and the clustering.

    Returns
    -------
    KChoice

    Raises
    ------
    NanoSIMSError
        If ``image`` is not a NanoSIMSImage, ``max_clusters`` or ``threshold`` is out of range, or the
        clustering fails.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> means = np.zeros((2, 24, 24, 2))
    >>> means[:, :12], means[:, 12:, :12], means[:, 12:, 12:] = [40.0, 2.0], [3.0, 30.0], [30.0, 30.0]
    >>> image = NanoSIMSImage.from_planes(rng.poisson(means).astype(float), ("12C", "16O"))
    >>> choice = recommend_k(image, max_clusters=8)
    >>> choice.k, round(choice.split_half_f1, 2)
    (3, 1.0)
    """
    from .choosing_k import find_knee, sweep_k
    from .preprocessing import preprocess

    check_image(image, _MAKE_AN_IMAGE)  # only the type: an image too small to split falls back to the knee
    if isinstance(max_clusters, bool) or not isinstance(max_clusters, (int, np.integer)) or max_clusters < 4:
        raise NanoSIMSError(f"max_clusters={max_clusters!r}: the entropy knee needs k = 2..max_clusters with "
                            "max_clusters a whole number >= 4.")
    if not 0 < threshold <= 1:
        raise NanoSIMSError(f"threshold={threshold!r}: a split-half F1 lies between 0 and 1; use e.g. 0.85.")
    if features is None:
        features = preprocess(image.for_clustering().counts)
    knee = int(find_knee(sweep_k(features, range(2, max_clusters + 1), random_state=random_state, progress=False)))
    try:
        halves = split_counts(image, random_state=random_state)
    except NanoSIMSError as exc:
        warnings.warn(f"{exc} No split-half check: k = {knee}, the knee of the entropy curve.", UserWarning,
                      stacklevel=2)
        return KChoice(knee, np.nan, np.nan, knee,
                       f"knee of the entropy curve (k = 2..{max_clusters}); no split-half check",
                       pd.DataFrame(columns=list(SPLIT_HALF_COLUMNS)))
    cluster = _default_cluster if cluster is None else cluster
    rows = []
    for k in range(knee, 1, -1):
        rows.append(_agreement(k, *_half_labels(halves, k, cluster, random_state), tolerance_px))
        if rows[-1]["split_half_f1"] >= threshold:
            best, rule = rows[-1], (f"largest k up to the entropy knee ({knee}) whose clusters all come back in "
                                    f"both halves of the counts (split-half F1 >= {threshold:g})")
            break
    else:
        best = max(rows, key=lambda row: row["split_half_f1"])
        rule = f"best split-half F1 up to the entropy knee ({knee}); no k reached {threshold:g}"
        warnings.warn(
            f"{image.name}: no k up to {knee} has every cluster reproduced in both halves of the counts "
            f"(split-half F1 >= {threshold:g}); k = {best['k']} has the best ({best['split_half_f1']:.2f}). "
            "The clusters may be noise: look at the maps of both halves.",
            UserWarning,
            stacklevel=2,
        )
    return KChoice(best["k"], best["split_half_f1"], best["split_half_ari"], knee, rule,
                   pd.DataFrame(rows, columns=list(SPLIT_HALF_COLUMNS)))


def recommend_counted_k(image, *, n_clusters: int | None = None, threshold: float = SPLIT_HALF_THRESHOLD,
                        tolerance_px: int = TOLERANCE_PX, random_state=0) -> KChoice:
    """Recommend the number of phases the counting model tells apart, with its split-half scores.

    :func:`nanosims_helpers.poisson_model.count_phases` keeps a phase when most of its pixels are
    not explained without it (a per-pixel likelihood-ratio test, one degree of freedom per
    mass), so a small phase with many counts per pixel counts and a large one within counting
    noise of another does not. One fit of the whole image instead of a k sweep; both halves of
    the counts (:func:`split_counts`) are then clustered at that k with the counting model (the
    labels only, with one final refit: :func:`~nanosims_helpers.poisson_model.fit_phases`) and
    scored as in :func:`split_half_scores`, as evidence; a worst-cluster F1 below ``threshold``
    gives a warning (a phase the whole image supports may be too faint for half of its counts),
    not another k. So it costs about three fits of the model, and a fixed k one fit and its
    confidence map. The count and the time beside a fixed k are measured on the realistic sample,
    with and without a rare charcoal phase, by ``benchmarks/bench_counted_k.py``.

    Parameters
    ----------
    image : NanoSIMSImage
        Raw counts, with planes where they were kept.
    n_clusters : int, optional
        The count, where the whole image was already fitted with it
        (``cluster_image(image, None, method="poisson")``, as ``nanosims-cluster -k auto`` does, so
        that the image is fitted once); by default counted here.
    threshold, tolerance_px, random_state
        As in :func:`recommend_k`.

    Returns
    -------
    KChoice
        ``entropy_knee`` is the count itself (no entropy sweep is run); ``scores`` holds the one
        row of split-half scores (empty when the image cannot be split, with a warning).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> means = np.zeros((2, 32, 32, 2))
    >>> means[:, :16], means[:, 16:, :16], means[:, 16:, 16:] = [40.0, 2.0], [3.0, 30.0], [30.0, 30.0]
    >>> image = NanoSIMSImage.from_planes(rng.poisson(means).astype(float), ("12C", "16O"))
    >>> recommend_counted_k(image).k
    3
    """
    from .poisson_model import count_phases, fit_phases

    check_image(image, _MAKE_AN_IMAGE)
    counted = image.for_clustering()
    k = count_phases(counted.counts, random_state=random_state) if n_clusters is None else n_clusters
    rule = "phases the counting model tells apart, pixel by pixel (likelihood-ratio test per pixel)"
    try:
        halves = split_counts(counted, random_state=random_state)
    except NanoSIMSError as exc:
        warnings.warn(f"{exc} No split-half check of k = {k}.", UserWarning, stacklevel=2)
        return KChoice(k, np.nan, np.nan, k, rule, pd.DataFrame(columns=list(SPLIT_HALF_COLUMNS)))

    def cluster(half, n_clusters, random_state):  # the labels alone: no confidence map, one final refit
        return fit_phases(half.counts, n_clusters, random_state=random_state, refits=1)[0].labels

    row = _agreement(k, *_half_labels(halves, k, cluster, random_state), tolerance_px)
    if row["split_half_f1"] < threshold:
        warnings.warn(
            f"{image.name}: at k = {k} the worst-matched cluster comes back in the other half of the counts "
            f"with F1 {row['split_half_f1']:.2f} (below {threshold:g}): a phase may be too faint for half "
            "the counts. Look at the maps of both halves.", UserWarning, stacklevel=2)
    return KChoice(k, row["split_half_f1"], row["split_half_ari"], k, rule,
                   pd.DataFrame([row], columns=list(SPLIT_HALF_COLUMNS)))

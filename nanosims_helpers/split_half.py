"""Splitting the counts in two independent halves: choosing k (split-half), and tests on held-out counts.

Ion counts are Poisson, so one measurement can be split into two independent measurements of the
same field, each with about half the counts:

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

The same split keeps tests honest (:func:`hold_out_counts`): groups found on one half of the
counts (clusters, regions) are tested on the other half, which the search never saw, so each
half is an independent Poisson measurement and the test is valid whatever the search looked at
(count splitting or data fission: Neufeld et al. 2024, Biostatistics 25, 270-287; Leiner et al.
2023, JASA 120, 318-331). A :class:`CountSplit` holds both halves and says how they were made;
label maps the kit finds on a split remember it (:func:`split_of`), so
:func:`~nanosims_helpers.isotopes.isotope_table` tests them on the right counts.
"""

from __future__ import annotations

import warnings
import weakref
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import ndimage

from .errors import NanoSIMSError
from .image import NanoSIMSImage, check_image
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

#: Fewest pixels an image needs to be split and clustered (16 x 16).
MIN_SPLIT_PIXELS = 256
#: Fewest counts per pixel, on average over the image and summed over the masses, for a split:
#: each half then holds at least one count per pixel on average.
MIN_COUNTS_PER_PIXEL = 2.0
#: Worst-cluster split-half F1 that :func:`recommend_k` asks of a k (see its docstring).
SPLIT_HALF_THRESHOLD = 0.85
#: Pixels a boundary may move between the two halves and still count as the same (the beam blur).
TOLERANCE_PX = 1
#: Columns of the table returned by :func:`split_half_scores`.
SPLIT_HALF_COLUMNS = ("k", "split_half_f1", "split_half_ari")


#: How to make an image :func:`split_counts` can split, for the error a wrong argument gets.
_MAKE_AN_IMAGE = "load one with load_image(path, keep_planes=True), or build one with NanoSIMSImage.from_planes"


def _check_image(image) -> NanoSIMSImage:
    check_image(image, _MAKE_AN_IMAGE)
    n_pixels = image.shape[0] * image.shape[1]
    if n_pixels < MIN_SPLIT_PIXELS:
        raise NanoSIMSError(
            f"{image.name}: {image.shape[0]} x {image.shape[1]} pixels are too few to split in two and cluster; "
            f"a split-half check needs at least {MIN_SPLIT_PIXELS} pixels (16 x 16)."
        )
    per_pixel = float(image.counts.sum()) / n_pixels
    if per_pixel < MIN_COUNTS_PER_PIXEL:
        raise NanoSIMSError(
            f"{image.name}: {per_pixel:.2g} counts per pixel on average (all masses together) are too few to "
            f"split in two; a split-half check needs at least {MIN_COUNTS_PER_PIXEL:g}. Bin the pixels "
            "(a coarser raster) or sum more planes first."
        )
    return image


def _thin(counts: np.ndarray, name: str, rng) -> tuple[np.ndarray, np.ndarray]:
    """Send each ion of ``counts`` to half A or B with probability 1/2; return (A, B)."""
    if counts.min() < 0 or not np.array_equal(counts, np.round(counts)):
        raise NanoSIMSError(
            f"{name}: binomial splitting needs whole, non-negative ion counts, but these hold fractions or "
            "negative values (dead-time-corrected or processed counts). Load the file without the "
            "dead-time correction (load_image(path, keep_planes=True)) to split it."
        )
    first = rng.binomial(counts.astype(np.int64), 0.5).astype(float)
    return first, counts - first


#: How :func:`_halves` splits an image with planes, and one without.
PLANE_SPLIT, THINNING = "odd/even planes", "binomial thinning"


def _halves(image: NanoSIMSImage, rng) -> tuple[np.ndarray, np.ndarray, str]:
    """Counts (y, x, mass) of halves A and B of ``image``, and how they were made (the module's rule)."""
    if image.n_planes < 2:
        return (*_thin(image.counts, image.name, rng), THINNING)
    planes = image.planes
    paired = planes.shape[0] // 2 * 2
    first, second = planes[0:paired:2].sum(axis=0), planes[1:paired:2].sum(axis=0)
    if paired < planes.shape[0]:  # an odd number of planes: the last one is thinned
        extra_first, extra_second = _thin(planes[-1], f"{image.name}, last plane", rng)
        first, second = first + extra_first, second + extra_second
    return first, second, PLANE_SPLIT


def split_counts(image: NanoSIMSImage, random_state=0) -> tuple[NanoSIMSImage, NanoSIMSImage]:
    """Split the counts of ``image`` into two independent halves (see the module description).

    Parameters
    ----------
    image : NanoSIMSImage
        Raw counts; with ``planes`` (``load_image(path, keep_planes=True)``) the planes are shared
        out, else every count is thinned.
    random_state : int or numpy.random.Generator
        Seed of the binomial thinning.

    Returns
    -------
    tuple of NanoSIMSImage
        Halves A and B, summed over their planes (no ``planes``); their counts add up to
        ``image.counts``. Masses, path and pixel size as ``image``.

    Raises
    ------
    NanoSIMSError
        If ``image`` is not a NanoSIMSImage, has fewer than :data:`MIN_SPLIT_PIXELS` pixels or fewer
        than :data:`MIN_COUNTS_PER_PIXEL` counts per pixel, or counts that must be thinned are not
        whole and non-negative.

    Examples
    --------
    >>> planes = np.random.default_rng(0).poisson(3.0, (4, 16, 16, 2)).astype(float)
    >>> image = NanoSIMSImage.from_planes(planes, ("12C", "16O"))
    >>> a, b = split_counts(image)
    >>> bool(np.array_equal(a.counts, planes[0::2].sum(axis=0)))
    True
    >>> bool(np.array_equal(a.counts + b.counts, image.counts))
    True
    >>> a, b = split_counts(NanoSIMSImage(image.counts, image.masses), random_state=1)  # one plane: thinned
    >>> bool(np.array_equal(a.counts + b.counts, image.counts)), bool((a.counts != planes[0::2].sum(axis=0)).any())
    (True, True)
    """
    image = _check_image(image)
    first, second, _ = _halves(image, np.random.default_rng(random_state))
    return tuple(NanoSIMSImage(half, image.masses, image.path, image.pixel_size_um) for half in (first, second))


@dataclass(frozen=True, eq=False)
class CountSplit:
    """An image's counts in two independent halves: one to find groups on, one held out to test them.

    Made by :func:`hold_out_counts` (and by
    :func:`~nanosims_helpers.pipeline.cluster_image` given ``ratios``); read by
    :func:`~nanosims_helpers.isotopes.isotope_table` and
    :func:`~nanosims_helpers.regions.region_table`.

    Attributes
    ----------
    selection : NanoSIMSImage
        Every mass of the image, summed over planes; the held-out masses hold only half A of their
        counts. Find the clusters or regions on it.
    held_out : NanoSIMSImage or None
        Half B of the held-out masses (only those masses): counts the search never saw. None when
        no mass was held out.
    found_on : tuple of str
        The masses whose counts choose the groups: a test of any other mass of them, not held out,
        would be circular.
    kind : str
        ``"odd/even planes"``, ``"binomial thinning"`` (each ion to a half with probability 1/2)
        or ``"none"`` (nothing held out).
    random_state : int or None
        Seed of the thinning.

    Examples
    --------
    >>> image = NanoSIMSImage(np.full((2, 2, 2), 10.0), ("12C", "13C"))
    >>> split = hold_out_counts(image, ["13C"], random_state=0)
    >>> split.describe()
    'held-out half: binomial thinning, random_state 0'
    """

    selection: NanoSIMSImage
    held_out: NanoSIMSImage | None
    found_on: tuple[str, ...]
    kind: str = "none"
    random_state: int | None = None

    def describe(self) -> str:
        """What the held-out counts are, for the ``test_counts`` column of the tables."""
        seed = f", random_state {self.random_state}" if self.kind == THINNING else ""
        return f"held-out half: {self.kind}{seed}"

    def record(self) -> dict:
        """The split as plain values, for a JSON file (``STEM_scores.json``)."""
        return {
            "kind": self.kind,
            "fraction_held_out": 0.5 if self.held_out is not None else 0.0,
            "random_state": self.random_state,
            "held_out_masses": [] if self.held_out is None else list(self.held_out.masses),
            "found_on": list(self.found_on),
        }


def hold_out_counts(image: NanoSIMSImage, masses, *, found_on=None, random_state=0) -> CountSplit:
    """Split the counts of ``masses`` in two halves (the module's rule): find groups on one, test on the other.

    Only the masses to be tested need splitting: the others keep all their counts for the search,
    since different masses are independent Poisson measurements of the same pixels. Groups (clusters,
    regions) found on ``split.selection`` and tested on ``split.held_out`` give valid p-values and
    unbiased ratios, whatever the search looked at.

    Parameters
    ----------
    image : NanoSIMSImage
        Raw counts, with planes where kept (``load_image(path, keep_planes=True)``): two or more
        planes are shared out odd/even, else every count is thinned, which needs whole counts.
    masses : sequence of str
        The masses to hold half of out; none gives a split without held-out counts.
    found_on : sequence of str, optional
        The masses the groups will be found on; default every mass of ``image``.
    random_state : int
        Seed of the thinning.

    Returns
    -------
    CountSplit

    Raises
    ------
    NanoSIMSError
        If a mass is missing, or counts that must be thinned are not whole and non-negative (load
        the file without the dead-time correction).

    Examples
    --------
    >>> planes = np.random.default_rng(0).poisson([300.0, 3.3, 50.0], (2, 8, 8, 3)).astype(float)
    >>> image = NanoSIMSImage.from_planes(planes, ("12C", "13C", "16O"))
    >>> split = hold_out_counts(image, ["13C", "12C"])
    >>> split.held_out.masses, split.kind
    (('13C', '12C'), 'odd/even planes')
    >>> bool(np.array_equal(split.selection.channel("13C") + split.held_out.channel("13C"), image.channel("13C")))
    True
    >>> bool(np.array_equal(split.selection.channel("16O"), image.channel("16O")))  # not held out: all counts
    True
    """
    image = check_image(image, _MAKE_AN_IMAGE)
    found_on = tuple(image.masses if found_on is None else (image.masses[image.mass_index(m)] for m in found_on))
    masses = list(dict.fromkeys(image.masses[image.mass_index(m)] for m in masses))
    if not masses:
        return CountSplit(image, None, found_on)
    part = image.select(masses)
    first, second, kind = _halves(part, np.random.default_rng(random_state))
    selection = image.counts.copy()
    selection[..., [image.mass_index(m) for m in masses]] = first
    seed = random_state if kind == THINNING else None
    return CountSplit(NanoSIMSImage(selection, image.masses, image.path, image.pixel_size_um),
                      NanoSIMSImage(second, part.masses, image.path, image.pixel_size_um), found_on, kind, seed)


#: Label and region maps the kit found, by id: (a weak reference to the map, its CountSplit).
_SPLITS: dict[int, tuple] = {}


def remember_split(labels: np.ndarray, split: CountSplit | None) -> None:
    """Remember that the map ``labels`` (this very array) was found on ``split`` (see :func:`split_of`).

    Kept as long as the array lives. A copy, or a map computed from it, is not remembered: the
    functions that derive maps (``merge_clusters``, ``cluster_regions``) pass the split on.
    """
    if split is None or not isinstance(labels, np.ndarray):
        return
    key = id(labels)
    _SPLITS[key] = (weakref.ref(labels), split)
    weakref.finalize(labels, _SPLITS.pop, key, None)


def split_of(labels) -> CountSplit | None:
    """The CountSplit the kit found the map ``labels`` on, or None for a map it did not make.

    Examples
    --------
    >>> image = NanoSIMSImage(np.full((2, 2, 2), 10.0), ("12C", "13C"))
    >>> labels = np.array([[0, 0], [1, 1]])
    >>> split_of(labels) is None
    True
    >>> remember_split(labels, hold_out_counts(image, ["13C"]))
    >>> split_of(labels).held_out.masses, split_of(labels.copy()) is None
    (('13C',), True)
    """
    entry = _SPLITS.get(id(labels))
    return entry[1] if entry is not None and entry[0]() is labels else None


def with_split(labels) -> tuple:
    """``(map, CountSplit or None)`` of a ClusterResult (its ``labels`` and ``split``) or of a map.

    Examples
    --------
    >>> with_split(np.zeros((2, 2), int))[1] is None
    True
    """
    if hasattr(labels, "labels") and hasattr(labels, "split"):  # a ClusterResult
        return labels.labels, labels.split or split_of(labels.labels)
    return labels, split_of(labels)


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


def split_half_scores(
    image, ks=range(2, 13), *, cluster=None, tolerance_px: int = TOLERANCE_PX, random_state=0
) -> pd.DataFrame:
    """Cluster both halves of ``image`` (:func:`split_counts`) for each k and score their agreement.

    Parameters
    ----------
    image : NanoSIMSImage
        Raw counts, with planes where they were kept.
    ks : iterable of int
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

    image = _check_image(image)
    k_list = _check_k_values(ks, image.shape[0] * image.shape[1])
    cluster = _default_cluster if cluster is None else cluster
    halves = split_counts(image, random_state)
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


def recommend_k(
    image, k_max: int = 31, *, features=None, cluster=None, threshold: float = SPLIT_HALF_THRESHOLD,
    tolerance_px: int = TOLERANCE_PX, random_state=0
) -> KChoice:
    """Recommend a number of clusters: the largest k, up to the entropy knee, that both halves reproduce.

    The rule:

    1. The knee of the k-means entropy curve over k = 2..``k_max``
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
    k_max : int
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
        If ``image`` is not a NanoSIMSImage, ``k_max`` or ``threshold`` is out of range, or the
        clustering fails.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> means = np.zeros((2, 24, 24, 2))
    >>> means[:, :12], means[:, 12:, :12], means[:, 12:, 12:] = [40.0, 2.0], [3.0, 30.0], [30.0, 30.0]
    >>> image = NanoSIMSImage.from_planes(rng.poisson(means).astype(float), ("12C", "16O"))
    >>> choice = recommend_k(image, k_max=8)
    >>> choice.k, round(choice.split_half_f1, 2)
    (3, 1.0)
    """
    from .choosing_k import find_knee, sweep_k
    from .preprocessing import preprocess

    check_image(image, _MAKE_AN_IMAGE)  # only the type: an image too small to split falls back to the knee
    if isinstance(k_max, bool) or not isinstance(k_max, (int, np.integer)) or k_max < 4:
        raise NanoSIMSError(f"k_max={k_max!r}: the entropy knee needs k = 2..k_max with k_max a whole number >= 4.")
    if not 0 < threshold <= 1:
        raise NanoSIMSError(f"threshold={threshold!r}: a split-half F1 lies between 0 and 1; use e.g. 0.85.")
    if features is None:
        features = preprocess(image.for_clustering().counts)
    knee = int(find_knee(sweep_k(features, range(2, k_max + 1), random_state=random_state, progress=False)))
    try:
        halves = split_counts(image, random_state)
    except NanoSIMSError as exc:
        warnings.warn(f"{exc} No split-half check: k = {knee}, the knee of the entropy curve.", UserWarning,
                      stacklevel=2)
        return KChoice(knee, np.nan, np.nan, knee, f"knee of the entropy curve (k = 2..{k_max}); no split-half check",
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


def recommend_counted_k(image, *, threshold: float = SPLIT_HALF_THRESHOLD, tolerance_px: int = TOLERANCE_PX,
                        random_state=0) -> KChoice:
    """Recommend the number of phases the counting model tells apart, with its split-half scores.

    :func:`nanosims_helpers.poisson_model.count_phases` keeps a phase when most of its pixels are
    not explained without it (a per-pixel likelihood-ratio test, one degree of freedom per
    mass), so a small phase with many counts per pixel counts and a large one within counting
    noise of another does not. One fit of the whole image instead of a k sweep; both halves of
    the counts (:func:`split_counts`) are then clustered at that k with the counting model and
    scored as in :func:`split_half_scores`, as evidence; a worst-cluster F1 below ``threshold``
    gives a warning (a phase the whole image supports may be too faint for half of its counts),
    not another k. On the realistic sample the count is measured against the true number of
    phases, with and without a rare charcoal phase, by ``benchmarks/bench_pipelines.py``
    ("counting model, k from the counts").

    Parameters
    ----------
    image : NanoSIMSImage
        Raw counts, with planes where they were kept.
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
    from .poisson_model import count_phases, poisson_map

    check_image(image, _MAKE_AN_IMAGE)
    counted = image.for_clustering()
    k = count_phases(counted.counts, random_state=random_state)
    rule = "phases the counting model tells apart, pixel by pixel (likelihood-ratio test per pixel)"
    try:
        halves = split_counts(counted, random_state)
    except NanoSIMSError as exc:
        warnings.warn(f"{exc} No split-half check of k = {k}.", UserWarning, stacklevel=2)
        return KChoice(k, np.nan, np.nan, k, rule, pd.DataFrame(columns=list(SPLIT_HALF_COLUMNS)))

    def cluster(half, n_clusters, random_state):
        return poisson_map(half.counts, n_clusters, random_state=random_state)

    row = _agreement(k, *_half_labels(halves, k, cluster, random_state), tolerance_px)
    if row["split_half_f1"] < threshold:
        warnings.warn(
            f"{image.name}: at k = {k} the worst-matched cluster comes back in the other half of the counts "
            f"with F1 {row['split_half_f1']:.2f} (below {threshold:g}): a phase may be too faint for half "
            "the counts. Look at the maps of both halves.", UserWarning, stacklevel=2)
    return KChoice(k, row["split_half_f1"], row["split_half_ari"], k, rule,
                   pd.DataFrame([row], columns=list(SPLIT_HALF_COLUMNS)))

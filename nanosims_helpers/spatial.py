"""Clustering that uses where the pixels are: denoising, phase cores, and neighbour agreement.

Pixel-by-pixel clustering fails on realistic NanoSIMS images (the sample ``realistic_256``) in
three ways, and :func:`spatial_map` answers each:

* **Counting noise.** A few hundred ions per pixel leave the dim masses (13C, 12C15N) mostly
  zeros. The counts are smoothed with a small Gaussian (:data:`FIT_SMOOTHING_PX`, below the beam
  size) before the phases are found, pooling the ions of neighbouring pixels.
* **Mixed pixels.** The beam blurs every boundary, and KMeans spends clusters on the mixtures
  (a mix of resin and N-rich organic matter looks like N-poor organic matter). The phases are
  found on the *core* pixels only: those where the features change least across the
  neighbourhood (:func:`core_mask`), over-clustered and merged back by Ward weighted by the
  square root of the micro-cluster sizes
  (:func:`nanosims_helpers.hierarchical.regroup_clusters`). Small distinct phases (labelled
  cells, a few hundred pixels) survive: their centres have flat features too.
* **Salt and pepper.** Every pixel then joins its nearest phase, with a Potts prior: each of its
  8 neighbours in the same cluster lowers the cost by :data:`POTTS_BETA` (:func:`potts_icm`).

Together with the ``"composition"`` preprocessing (each pixel rescaled to the mean total, so
the ion-yield field drops out), this scored ARI 0.92-0.93 and a labelled-cell F1 of 0.85-0.89 on
five seeds of the realistic sample, where asinh + KMeans scored 0.55-0.73 and 0.07
(``benchmarks/bench_pipelines.py``).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from .clustering import ClusterResult, fit_kmeans
from .errors import NanoSIMSError
from .hierarchical import largest_first, regroup_clusters
from .preprocessing import preprocess
from .validation import check_features, check_finite_array, check_n_clusters, check_non_negative

__all__ = [
    "assign_phases", "core_mask", "core_phases", "edge_strength", "neighbour_votes", "phase_centers", "potts_icm",
    "potts_sweeps",
    "smooth_counts", "spatial_map",
]

#: Gaussian smoothing (pixels) of the counts before the phases are found.
FIT_SMOOTHING_PX = 0.7
#: Gaussian smoothing (pixels) of the counts before every pixel is assigned: light, so that
#: boundaries stay where they are (soil_256 fell from ARI 0.98 to 0.92 with 0.7 here).
ASSIGN_SMOOTHING_PX = 0.35
#: Scale (pixels) of the feature gradient that tells boundaries from phase interiors.
EDGE_SIGMA_PX = 1.0
#: Share of the pixels, those with the flattest features, on which the phases are found. At 0.6
#: and below the labelled cells (whose rims are all edge) were lost on most seeds.
CORE_QUANTILE = 0.7
#: Micro-clusters fitted on the core pixels before the Ward merge: at least this many, or three
#: per cluster. 10, 15 and 20 gave the same maps.
MIN_MICRO_CLUSTERS = 15
#: Fewest pixels a micro-cluster needs to take part in the merge: fewer are hot or odd pixels,
#: not a phase (on a 48 x 48 image a hot pixel, flat at its centre, took a cluster of its own).
#: The labelled cells of the realistic sample have micro-clusters of a few tens of core pixels.
MIN_PHASE_PIXELS = 5
#: Cost (in squared feature units) saved by each of the 8 neighbours with the same label.
POTTS_BETA = 1.0
#: Most sweeps of the Potts clean-up; it stops earlier when no label changes.
POTTS_SWEEPS = 5

_NEIGHBOURS = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])


def smooth_counts(counts, sigma_px: float) -> np.ndarray:
    """Gaussian-smooth every mass channel of a (y, x, mass) image over y and x.

    The total counts are kept: the filter sums to 1 and the image is reflected at its edges.

    Parameters
    ----------
    counts : array_like, shape (y, x, mass)
    sigma_px : float
        Standard deviation of the Gaussian in pixels, >= 0 (0 returns a float copy).

    Returns
    -------
    ndarray of float, shape (y, x, mass)

    Raises
    ------
    NanoSIMSError
        If ``counts`` is not a finite 3-D array or ``sigma_px`` is negative.

    Examples
    --------
    >>> counts = np.zeros((5, 5, 1))
    >>> counts[2, 2] = 9.0
    >>> smoothed = smooth_counts(counts, 1.0)
    >>> round(float(smoothed.sum()), 6), bool(smoothed[2, 2, 0] < 9.0)
    (9.0, True)
    """
    values = check_finite_array(counts, "counts", ndim=(3,))
    check_non_negative(sigma_px, "sigma_px", "a smoothing width in pixels")
    if sigma_px == 0:
        return values.copy()
    return ndimage.gaussian_filter(values, (sigma_px, sigma_px, 0), mode="reflect")


def edge_strength(features, sigma_px: float = EDGE_SIGMA_PX) -> np.ndarray:
    """How fast the features change around each pixel: the root sum of squared gradients.

    Parameters
    ----------
    features : array_like, shape (y, x, feature)
    sigma_px : float
        Scale of the Gaussian derivative, > 0.

    Returns
    -------
    ndarray of float, shape (y, x)
        0 in a flat region, large on boundaries.

    Examples
    --------
    >>> features = np.zeros((8, 8, 1))
    >>> features[:, 4:] = 1.0
    >>> strength = edge_strength(features)
    >>> bool(strength[4, 3] > strength[4, 0])
    True
    """
    values = check_finite_array(features, "features", ndim=(3,))
    squared = sum(ndimage.gaussian_gradient_magnitude(values[:, :, j], sigma_px) ** 2 for j in range(values.shape[2]))
    return np.sqrt(squared)


def core_mask(features, quantile: float = CORE_QUANTILE, sigma_px: float = EDGE_SIGMA_PX) -> np.ndarray:
    """True for the pixels whose features change least around them (phase interiors).

    Parameters
    ----------
    features : array_like, shape (y, x, feature)
    quantile : float
        Share of the pixels to keep, in (0, 1].
    sigma_px : float
        Scale of :func:`edge_strength`.

    Returns
    -------
    ndarray of bool, shape (y, x)

    Raises
    ------
    NanoSIMSError
        If ``quantile`` is not in (0, 1].

    Examples
    --------
    >>> features = np.zeros((8, 8, 1))
    >>> features[:, 4:] = 1.0
    >>> core_mask(features, 0.5)[0].astype(int)
    array([1, 1, 0, 0, 0, 0, 1, 1])
    """
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float, np.number)) or not 0 < quantile <= 1:
        raise NanoSIMSError(f"quantile={quantile!r}: give the share of pixels to keep, above 0 and at most 1.")
    strength = edge_strength(features, sigma_px)
    return strength <= np.quantile(strength, quantile)


def potts_icm(costs, labels, beta: float = POTTS_BETA, n_sweeps: int = POTTS_SWEEPS) -> np.ndarray:
    """Smooth a label map with a Potts prior by iterated conditional modes.

    Each sweep gives every pixel the label ``j`` that minimises
    ``costs[y, x, j] - beta * (number of its 8 neighbours labelled j)``, all pixels at once;
    sweeps stop when nothing changes. Isolated pixels join their neighbours unless their own
    cost difference outweighs the neighbours' vote; regions wider than a pixel or two stay.

    Parameters
    ----------
    costs : array_like, shape (y, x, k)
        Cost of each label for each pixel, e.g. squared distances to cluster centres.
    labels : array_like of int, shape (y, x)
        Starting labels, 0 .. k-1 (usually the cheapest label of each pixel).
    beta : float
        Weight of one neighbour's vote, >= 0 (0 returns the cheapest label of each pixel).
    n_sweeps : int
        Most sweeps, >= 1.

    Returns
    -------
    ndarray of int, shape (y, x)

    Raises
    ------
    NanoSIMSError
        If shapes do not match or an argument is out of range.

    Examples
    --------
    >>> costs = np.zeros((5, 5, 2))
    >>> costs[..., 1] = 1.0          # label 0 is a little cheaper everywhere ...
    >>> costs[2, 2] = [1.0, 0.0]     # ... except at the centre, which prefers label 1
    >>> labels = costs.argmin(axis=-1)
    >>> int(potts_icm(costs, labels, beta=0.5)[2, 2]), int(potts_icm(costs, labels, beta=0.0)[2, 2])
    (0, 1)
    """
    costs = check_finite_array(costs, "costs", ndim=(3,))
    labels = np.asarray(labels)
    n_labels = costs.shape[2]
    if labels.shape != costs.shape[:2] or labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= n_labels:
        raise NanoSIMSError(
            f"labels: expected whole numbers 0 .. {n_labels - 1} in a map of shape {costs.shape[:2]}, "
            f"got shape {labels.shape}."
        )
    check_non_negative(beta, "beta", "a neighbour weight")
    if isinstance(n_sweeps, bool) or not isinstance(n_sweeps, (int, np.integer)) or n_sweeps < 1:
        raise NanoSIMSError(f"n_sweeps={n_sweeps!r}: give a whole number of sweeps, 1 or more.")
    return potts_sweeps(costs, labels, beta, n_sweeps)


#: Pixels per block of rows in :func:`potts_sweeps` (bounds its temporaries on large images).
SWEEP_BLOCK_PIXELS = 1 << 18


def potts_sweeps(costs: np.ndarray, labels: np.ndarray, beta: float, n_sweeps: int) -> np.ndarray:
    """The sweeps of :func:`potts_icm`, on arrays already checked: in blocks of rows and in the
    costs' own floating type, so that a (pixel x label) table of the whole image is never copied.

    Examples
    --------
    >>> costs = np.zeros((3, 3, 2), dtype=np.float32)
    >>> costs[..., 1] = 1.0          # label 0 is cheaper everywhere but at the centre
    >>> costs[1, 1] = [1.0, 0.0]
    >>> potts_sweeps(costs, costs.argmin(axis=2), 0.5, 5).tolist()
    [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
    """
    weight = costs.dtype.type(beta)
    rows = max(SWEEP_BLOCK_PIXELS // costs.shape[1], 1)
    for _ in range(n_sweeps):
        votes = neighbour_votes(labels, costs.shape[2])
        updated = np.empty(labels.shape, dtype=np.intp)
        for start in range(0, costs.shape[0], rows):
            updated[start: start + rows] = np.argmin(costs[start: start + rows] - weight * votes[start: start + rows],
                                                     axis=2)
        if np.array_equal(updated, labels):
            break
        labels = updated
    return labels


def neighbour_votes(labels: np.ndarray, n_labels: int) -> np.ndarray:
    """How many of the 8 neighbours of each pixel carry each label, (y, x, n_labels) small integers.

    Pixels outside the image are no one's neighbours.

    Examples
    --------
    >>> neighbour_votes(np.array([[0, 1], [1, 1]]), 2)[0, 0].tolist()
    [0, 3]
    """
    one_hot = np.pad(labels[:, :, None] == np.arange(n_labels), ((1, 1), (1, 1), (0, 0))).view(np.uint8)
    height, width = labels.shape
    votes = np.zeros((height, width, n_labels), dtype=np.uint8)
    for dy, dx in zip(*np.nonzero(_NEIGHBOURS)):
        votes += one_hot[dy: dy + height, dx: dx + width]
    return votes


def spatial_map(
    counts,
    n_clusters: int,
    *,
    preprocessing: str = "composition",
    core_quantile: float = CORE_QUANTILE,
    beta: float = POTTS_BETA,
    masses=None,
    random_state=0,
) -> ClusterResult:
    """Cluster the pixels of a count image with denoising, phase cores and a Potts clean-up.

    The kit's recommended method (the module docstring says why and what it scored):

    1. smooth the counts (sigma :data:`FIT_SMOOTHING_PX`) and ``preprocess`` them;
    2. keep the core pixels (:func:`core_mask`), fit ``max(MIN_MICRO_CLUSTERS, 3 k)``
       micro-clusters on them with KMeans and merge those into ``k`` clusters by Ward (weights:
       square roots of the micro-cluster sizes);
    3. preprocess lightly smoothed counts (sigma :data:`ASSIGN_SMOOTHING_PX`), take each cluster's
       centre as the mean of its core pixels there, and give every pixel its nearest centre;
    4. clean the map with :func:`potts_icm`.

    Parameters
    ----------
    counts : array_like, shape (y, x, mass)
        Ion counts (not preprocessed: the method smooths them itself).
    n_clusters : int
        Number of clusters, k >= 2.
    preprocessing : str
        A key of :data:`nanosims_helpers.preprocessing.PREPROCESSING`; ``"composition"`` by default.
    core_quantile : float
        Share of the pixels the phases are found on (:func:`core_mask`); 1 uses every pixel.
    beta : float
        Weight of a neighbour's vote in the Potts clean-up (:func:`potts_icm`); 0 switches it off.
    masses : sequence of str, optional
        Channel names, used only in warnings.
    random_state : int
        Seed of the micro-clusters: the same seed gives the same labels.

    Returns
    -------
    ClusterResult
        ``labels`` (y, x; cluster 0 the largest), ``centers`` and ``features``
        (the preprocessed, lightly smoothed counts the pixels were assigned on), ``pca=None``.

    Raises
    ------
    NanoSIMSError
        If ``counts`` is not a finite 3-D array, is constant, or has fewer distinct pixels than
        ``n_clusters``.

    Examples
    --------
    >>> counts = np.zeros((12, 12, 2))
    >>> counts[:, :7] = [30.0, 2.0]
    >>> counts[:, 7:] = [2.0, 40.0]
    >>> spatial_map(counts, 2).labels[0]
    array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    """
    values = check_features(counts, "counts", ndim=(3,))
    n_pixels = values.shape[0] * values.shape[1]
    n_clusters = check_n_clusters(n_clusters, n_pixels)
    fit_features = preprocess(smooth_counts(values, FIT_SMOOTHING_PX), preprocessing, masses=masses)
    core = core_mask(fit_features, core_quantile).ravel()
    if np.count_nonzero(core) < n_clusters:
        core[:] = True
    groups = core_phases(fit_features.reshape(n_pixels, -1)[core], n_clusters, random_state=random_state)
    features = preprocess(smooth_counts(values, ASSIGN_SMOOTHING_PX), preprocessing, masses=masses)
    centers = phase_centers(features.reshape(n_pixels, -1)[core], groups, n_clusters)
    labels = assign_phases(features, centers, beta)
    rank = largest_first(np.bincount(labels.ravel(), minlength=n_clusters))
    return ClusterResult(rank[labels], centers[np.argsort(rank)], features)


def phase_centers(features, groups, n_clusters: int) -> np.ndarray:
    """Mean feature row of each phase: the rows of ``features`` whose ``groups`` entry is that phase.

    Parameters
    ----------
    features : ndarray, shape (pixels, n_features)
    groups : ndarray of int, shape (pixels,)
        Phase of each row, 0 .. n_clusters-1, or -1 for rows that belong to none
        (:func:`core_phases`).
    n_clusters : int

    Returns
    -------
    ndarray of float, shape (n_clusters, n_features)

    Examples
    --------
    >>> phase_centers(np.array([[1.0], [3.0], [10.0], [99.0]]), np.array([0, 0, 1, -1]), 2).ravel().tolist()
    [2.0, 10.0]
    """
    kept = np.asarray(groups) >= 0
    groups, rows = np.asarray(groups)[kept], np.asarray(features, dtype=float)[kept]
    sums = np.stack([np.bincount(groups, weights=column, minlength=n_clusters) for column in rows.T], axis=1)
    return sums / np.bincount(groups, minlength=n_clusters)[:, None]


def assign_phases(features, centers, beta: float = POTTS_BETA) -> np.ndarray:
    """Give every pixel its nearest phase centre, then clean the map with :func:`potts_icm`.

    The cost of a phase is the squared Euclidean distance of the pixel's features to its centre;
    on a tie the lower number wins. Every step is element-wise (no threaded matrix products), so
    the labels are the same bit for bit on any machine, in any process.

    Parameters
    ----------
    features : array_like, shape (y, x, n_features)
    centers : array_like, shape (k, n_features)
        Phase centres in the same feature space.
    beta : float
        Weight of a neighbour's vote (0: the nearest centre alone).

    Returns
    -------
    ndarray of int, shape (y, x)
        Phase numbers 0 .. k-1; a phase may get no pixel.

    Raises
    ------
    NanoSIMSError
        If either array holds NaN or infinite values, or their numbers of features differ.

    Examples
    --------
    >>> features = np.array([[[0.0], [0.9], [2.0]]])
    >>> assign_phases(features, [[0.0], [1.0], [5.0]], beta=0.0).tolist()
    [[0, 1, 1]]
    """
    values = check_finite_array(features, "features", ndim=(3,))
    centers = check_finite_array(centers, "centers", ndim=(2,))
    if centers.shape[1] != values.shape[2]:
        raise NanoSIMSError(
            f"centers: {centers.shape[1]} feature(s) per centre for images with {values.shape[2]}; "
            "use centres fitted on the same masses and features."
        )
    costs = np.stack([((values - center) ** 2).sum(axis=2) for center in centers], axis=2)
    return potts_icm(costs, costs.argmin(axis=2), beta)


def core_phases(features: np.ndarray, n_clusters: int, *, random_state=0) -> np.ndarray:
    """Phase of every core pixel: micro-clusters by KMeans, merged into ``n_clusters`` by Ward.

    Ward weights each micro-cluster by the square root of its pixel count: with the full count a
    small distinct phase (labelled cells on 1 % of a 128 x 128 image) was cheap to merge into a
    large one and got lost for 2 of 3 seeds; with equal weights large phases split instead
    (ARI 0.75 on the realistic sample). Micro-clusters of fewer than :data:`MIN_PHASE_PIXELS`
    pixels take no part: their pixels get -1 (and are not used for the centres).

    Parameters
    ----------
    features : ndarray, shape (pixels, n_features)
        Features of the core pixels (:func:`core_mask`), of one image or sampled from many.
    n_clusters : int
        Number of phases, k >= 2.
    random_state : int
        Seed of the micro-clusters.

    Returns
    -------
    ndarray of int, shape (pixels,)
        Phase 0 .. k-1 of each row, or -1.

    Raises
    ------
    NanoSIMSError
        If the rows hold fewer distinct values than ``n_clusters``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pixels = np.concatenate([rng.normal(0, 0.1, (300, 2)), rng.normal(5, 0.1, (200, 2))])
    >>> groups = core_phases(pixels, 2)
    >>> len(set(groups[:300].tolist())), len(set(groups[300:].tolist())), bool(groups[0] != groups[-1])
    (1, 1, True)
    """
    n_micro = min(max(MIN_MICRO_CLUSTERS, 3 * n_clusters), np.unique(features, axis=0).shape[0])
    if n_micro < n_clusters:
        raise NanoSIMSError(
            f"n_clusters={n_clusters}: the image has only {n_micro} distinct pixel value(s) where it is "
            f"not a boundary; use at most {n_micro} clusters."
        )
    model = KMeans(n_micro, n_init=1, random_state=random_state)
    with threadpool_limits(limits=1):  # see clustering.kmeans_map: faster on a busy 2-core machine
        fit_kmeans(model, features)
    counts = np.bincount(model.labels_, minlength=n_micro)
    kept = np.flatnonzero(counts >= MIN_PHASE_PIXELS)
    if kept.size < n_clusters:
        kept = np.flatnonzero(counts)
    if kept.size == n_clusters:
        groups = np.arange(n_clusters)
    else:
        groups = regroup_clusters(np.arange(kept.size), model.cluster_centers_[kept], n_clusters,
                                  sizes=np.sqrt(counts[kept])).mapping
    mapping = np.full(n_micro, -1)
    mapping[kept] = groups
    return mapping[model.labels_]

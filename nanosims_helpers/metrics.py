"""Scores of a clustering: how compact and well separated the clusters are, and how they agree.

Every function takes the clustered ``values``, an image (y, x, feature) or a pixel table
(pixel, feature), and ``labels``, an image-shaped label map (y, x) or one label per pixel.
Label names do not matter (0..k-1, or any whole numbers): only which pixels share a label.

============================  ===========  =======================================================
score                         better when  what it measures
============================  ===========  =======================================================
``silhouette``                higher       how much closer each pixel is to its own cluster than
                                           to the next one, from -1 to 1
``calinski_harabasz``         higher       spread between clusters over spread within them
``davies_bouldin``            lower        average worst overlap of a cluster with another, >= 0
``clustering_entropy``        lower        disorder of the values within the clusters, >= 0
``adjusted_rand``             higher       agreement with a reference map; 1 = same, ~0 = chance
``matched_f1``                higher       per reference cluster: F1 of its best-matching cluster,
                                           0 to 1 (1 = found exactly)
============================  ===========  =======================================================
"""

from __future__ import annotations

import numpy as np
import sklearn
from scipy.optimize import linear_sum_assignment
from scipy.special import xlogy
from sklearn.metrics import adjusted_rand_score, silhouette_score

from ._lazy import renamed
from .errors import NanoSIMSError
from .profiles import cluster_means
from .validation import check_finite_array, check_label_map, check_label_map_pair, check_whole_number

#: Pixels drawn for the silhouette unless ``exact=True``: well under a second, ~200 MiB at most.
SILHOUETTE_SAMPLE_SIZE = 5000
#: Bins per feature of :func:`clustering_entropy`.
ENTROPY_BINS = 10
#: Memory (MiB) scikit-learn may use for one block of pixel-to-pixel distances, so the exact
#: silhouette of a whole image fits in a 2 GB Binder session.
_WORKING_MEMORY_MIB = 256


def _pixels(values, name: str = "values") -> np.ndarray:
    """Return ``values`` as a (pixel, feature) float table."""
    array = check_finite_array(values, name)
    return array.reshape(-1, array.shape[-1])


def _pixels_and_codes(values, labels) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate ``values`` and ``labels`` together; return the pixel table, codes 0..k-1 and k.

    Labels are renamed 0..k-1 in sorted order of their names.
    """
    values_shape = np.shape(values)
    if len(values_shape) == 2 and np.shape(labels) == tuple(values_shape):
        raise NanoSIMSError(
            f"values of shape {values_shape} are read as {values_shape[0]} pixels x {values_shape[1]} "
            "features, but labels has the same shape. For a one-channel image pass values[..., None]."
        )
    pixels = _pixels(values)
    names, codes = np.unique(check_label_map(labels, values_shape[:-1]), return_inverse=True)
    return pixels, codes.ravel(), names.size


def _require_clusters(n_clusters: int, n_pixels: int, score: str) -> None:
    """Scores that compare clusters need 2 <= k <= n_pixels - 1."""
    if n_clusters < 2:
        raise NanoSIMSError(
            f"labels: all pixels are in one cluster, but the {score} compares clusters; "
            "give labels with at least 2 clusters."
        )
    if n_clusters >= n_pixels:
        raise NanoSIMSError(
            f"labels: {n_clusters} clusters for {n_pixels} pixels (every pixel its own cluster); "
            f"the {score} needs fewer clusters than pixels."
        )


def _dispersion_scores(pixels: np.ndarray, codes: np.ndarray, n_clusters: int) -> dict[str, float]:
    """Inertia, Calinski-Harabasz and Davies-Bouldin from one pass over the pixels.

    Same definitions and edge cases as ``sklearn.metrics``, computed feature by feature (fastest
    on a column-major ``pixels``), about 5x faster, which matters when
    :func:`nanosims_helpers.choosing_k.sweep_k` scores 30 clusterings.
    """
    centroids, sizes = cluster_means(pixels, codes, n_clusters)
    squared = sum((column - centre[codes]) ** 2 for column, centre in zip(pixels.T, centroids.T))
    inertia = float(squared.sum())
    n_pixels = pixels.shape[0]
    grand_mean = sizes @ centroids / n_pixels
    between = float(sizes @ ((centroids - grand_mean) ** 2).sum(axis=1))
    if inertia == 0.0:
        calinski = 1.0  # scikit-learn's convention when every cluster is a single point
    else:
        calinski = between * (n_pixels - n_clusters) / (inertia * (n_clusters - 1))
    spread = np.bincount(codes, weights=np.sqrt(squared), minlength=n_clusters) / sizes
    return {"inertia": inertia, "calinski_harabasz": calinski, "davies_bouldin": _davies_bouldin(centroids, spread)}


def _davies_bouldin(centroids: np.ndarray, spread: np.ndarray) -> float:
    separation = np.sqrt(((centroids[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=-1))
    if np.allclose(spread, 0) or np.allclose(separation, 0):
        return 0.0
    separation[separation == 0] = np.inf
    return float(np.mean(np.max((spread[:, None] + spread[None, :]) / separation, axis=1)))


@renamed(values='features')
def calinski_harabasz(features, labels) -> float:
    """Calinski-Harabasz index: spread between clusters over spread within them (higher is better).

    Equal to ``sklearn.metrics.calinski_harabasz_score`` (including its value 1.0 when all
    pixels of each cluster are identical).

    Parameters
    ----------
    features : array_like, shape (y, x, n_features) or (n_pixels, n_features)
        What was clustered.
    labels : array_like of int, shape (y, x) or (n_pixels,)
        Cluster of each pixel.

    Returns
    -------
    float

    Raises
    ------
    NanoSIMSError
        If ``features`` holds NaN or infinite features, ``labels`` do not hold one whole number per
        pixel, or there are fewer than 2 clusters.

    Examples
    --------
    >>> calinski_harabasz([[0.0], [1.0], [10.0], [11.0]], [0, 0, 1, 1])
    200.0
    """
    pixels, codes, n_clusters = _pixels_and_codes(features, labels)
    _require_clusters(n_clusters, pixels.shape[0], "Calinski-Harabasz index")
    return _dispersion_scores(pixels, codes, n_clusters)["calinski_harabasz"]


@renamed(values='features')
def davies_bouldin(features, labels) -> float:
    """Davies-Bouldin index: average worst overlap of each cluster with another (lower is better).

    Equal to ``sklearn.metrics.davies_bouldin_score``. Parameters and errors as in
    :func:`calinski_harabasz`.

    Examples
    --------
    >>> davies_bouldin([[0.0], [1.0], [10.0], [11.0]], [0, 0, 1, 1])
    0.1
    """
    pixels, codes, n_clusters = _pixels_and_codes(features, labels)
    _require_clusters(n_clusters, pixels.shape[0], "Davies-Bouldin index")
    return _dispersion_scores(pixels, codes, n_clusters)["davies_bouldin"]


def _sample_indices(n_pixels: int, sample_size: int, random_state) -> np.ndarray:
    """Sorted indices of ``sample_size`` distinct pixels, the same for the same seed."""
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_pixels, size=sample_size, replace=False))


def _silhouette(pixels, codes, *, sample_size: int, exact: bool, random_state) -> float:
    if not exact and pixels.shape[0] > sample_size:
        chosen = _sample_indices(pixels.shape[0], sample_size, random_state)
        pixels, codes = pixels[chosen], codes[chosen]
        if np.unique(codes).size < 2:
            raise NanoSIMSError(
                f"silhouette: the {sample_size} sampled pixels all fall in one cluster; "
                "use a larger sample_size or exact=True."
            )
    with sklearn.config_context(working_memory=_WORKING_MEMORY_MIB):
        return float(silhouette_score(pixels, codes))


def _silhouette_of_distances(distances: np.ndarray, codes: np.ndarray, n_clusters: int) -> float:
    """Mean silhouette from a precomputed (m, m) distance matrix, as ``sklearn.metrics.silhouette_score``.

    Faster than scikit-learn when the same pixels are scored for many label maps (as in a k
    sweep): one matrix product per map. Clusters numbered 0..n_clusters-1 may be absent from
    ``codes``; at least 2 must be present.
    """
    rows = np.arange(codes.size)
    membership = np.zeros((codes.size, n_clusters), dtype=distances.dtype)
    membership[rows, codes] = 1
    totals = (distances @ membership).astype(float)  # summed distance of each pixel to each cluster
    sizes = np.bincount(codes, minlength=n_clusters)
    own_size = sizes[codes]
    within = totals[rows, codes] / np.maximum(own_size - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_to = np.where(sizes > 0, totals / sizes, np.inf)
    mean_to[rows, codes] = np.inf
    nearest = mean_to.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(own_size > 1, (nearest - within) / np.maximum(within, nearest), 0.0)
    return float(np.nan_to_num(scores).mean())


@renamed(values='features')
def silhouette(
    features, labels, *, sample_size: int = SILHOUETTE_SAMPLE_SIZE, exact: bool = False, random_state=0
) -> float:
    """Mean silhouette coefficient, from -1 to 1 (higher is better), on a random sample of pixels.

    For each pixel, a = mean distance to the other pixels of its cluster and b = mean distance
    to the pixels of the nearest other cluster; its silhouette is (b - a) / max(a, b). The exact
    score compares every pair of pixels: on one 256 x 256 image that takes about a minute. By
    default it is computed on ``sample_size`` pixels drawn at random (the same pixels for the same
    ``random_state``), which takes well under a second and is within about 0.01 of the exact value.

    Parameters
    ----------
    features : array_like, shape (y, x, n_features) or (n_pixels, n_features)
        What was clustered.
    labels : array_like of int, shape (y, x) or (n_pixels,)
        Cluster of each pixel.
    sample_size : int
        Number of pixels drawn when there are more; at least 3.
    exact : bool
        If True, use every pixel: about a minute on a 256 x 256 image, with blocks of
        distances of at most 256 MiB (a 2 GB Binder session copes).
    random_state : int
        Seed of the sample.

    Returns
    -------
    float

    Raises
    ------
    NanoSIMSError
        As :func:`calinski_harabasz`; also if ``sample_size`` is not a whole number >= 3 or the
        sample holds a single cluster.

    Examples
    --------
    >>> round(silhouette([[0.0], [1.0], [10.0], [11.0]], [0, 0, 1, 1]), 3)
    0.9
    """
    sample_size = check_whole_number(sample_size, "sample_size", minimum=3)
    pixels, codes, n_clusters = _pixels_and_codes(features, labels)
    _require_clusters(n_clusters, pixels.shape[0], "silhouette")
    return _silhouette(pixels, codes, sample_size=sample_size, exact=exact, random_state=random_state)


def adjusted_rand(labels, reference) -> float:
    """Adjusted Rand index of two label maps: 1 when they group the pixels identically, ~0 by chance.

    Label names do not matter, only which pixels are grouped together, so a clustering can be
    compared with a map of known phases. Equal to ``sklearn.metrics.adjusted_rand_score``.

    Parameters
    ----------
    labels, reference : array_like of int, shape (y, x) or (n_pixels,)
        Two label maps of the same pixels.

    Returns
    -------
    float
        At most 1; can be slightly negative.

    Raises
    ------
    NanoSIMSError
        If the maps differ in shape or size, or do not hold whole numbers.

    Examples
    --------
    >>> adjusted_rand([0, 0, 1, 1], [5, 5, 2, 2])
    1.0
    """
    flat, reference_flat = check_label_map_pair(labels, reference)
    return float(adjusted_rand_score(reference_flat, flat))


def f1_matrix(reference_codes, n_reference: int, codes, n_clusters: int) -> np.ndarray:
    """F1 of every pair (reference cluster r, cluster c): ``2 |r and c| / (|r| + |c|)``, 0 for empty pairs.

    Both label arrays hold codes 0..n-1, one per pixel (checked by the callers).

    Examples
    --------
    >>> f1_matrix(np.array([0, 0, 1, 1]), 2, np.array([1, 1, 1, 0]), 2).round(2).tolist()
    [[0.0, 0.8], [0.67, 0.4]]
    """
    both = np.bincount(reference_codes * n_clusters + codes, minlength=n_reference * n_clusters)
    both = both.reshape(n_reference, n_clusters)
    sizes = both.sum(axis=1, keepdims=True) + both.sum(axis=0, keepdims=True)
    return 2 * both / np.maximum(sizes, 1)


def matched_f1(labels, reference) -> np.ndarray:
    """For each cluster of ``reference``, the F1 score of the cluster of ``labels`` that matches it best.

    F1 of reference cluster r and cluster c is ``2 |r and c| / (|r| + |c|)``: 1 when c is
    exactly r. Label names do not matter. ``matched_f1(a, b).min()`` is the agreement of the
    worst-reproduced cluster of ``b``.

    Parameters
    ----------
    labels, reference : array_like of int, shape (y, x) or (n_pixels,)
        Two label maps of the same pixels.

    Returns
    -------
    ndarray of float, shape (number of distinct labels in ``reference``,)
        In the order of the sorted reference labels.

    Raises
    ------
    NanoSIMSError
        If the maps differ in shape or size, or do not hold whole numbers.

    Examples
    --------
    >>> matched_f1([0, 0, 1, 1, 1, 1], [5, 5, 5, 5, 2, 2]).round(2).tolist()
    [0.67, 0.67]
    """
    flat, reference_flat = check_label_map_pair(labels, reference)
    _, reference_codes = np.unique(reference_flat, return_inverse=True)
    _, codes = np.unique(flat, return_inverse=True)
    return f1_matrix(reference_codes, reference_codes.max() + 1, codes, codes.max() + 1).max(axis=1)



def match_labels(labels, reference) -> np.ndarray:
    """Renumber the clusters of ``labels`` after the ``reference`` groups they share most pixels with.

    Each cluster is paired with at most one reference group and each group with at most one
    cluster, pairs chosen to share as many pixels as possible (the Hungarian method,
    ``scipy.optimize.linear_sum_assignment``); a paired cluster takes its group's number.
    Clusters left without a partner (more clusters than groups) are numbered after the largest
    reference label, largest cluster first. Only the numbers change, not which pixels are
    grouped together: use it to give two maps of the same pixels matching colours.

    Parameters
    ----------
    labels, reference : array_like of int, shape (y, x) or (n_pixels,)
        Two label maps of the same pixels, e.g. a clustering and the true phases.

    Returns
    -------
    ndarray of int, the shape of ``labels``

    Raises
    ------
    NanoSIMSError
        If the maps differ in shape or size, or do not hold whole numbers.

    Examples
    --------
    >>> match_labels([[0, 0, 1, 2, 2]], [[3, 3, 0, 0, 0]]).tolist()
    [[3, 3, 4, 0, 0]]
    """
    flat, reference_flat = check_label_map_pair(labels, reference)
    _, codes = np.unique(flat, return_inverse=True)
    groups, reference_codes = np.unique(reference_flat, return_inverse=True)
    n_clusters, n_groups = codes.max() + 1, groups.size
    shared = np.bincount(codes * n_groups + reference_codes, minlength=n_clusters * n_groups)
    clusters, partners = linear_sum_assignment(shared.reshape(n_clusters, n_groups), maximize=True)
    numbers = np.full(n_clusters, -1, dtype=np.int64)
    numbers[clusters] = groups[partners]
    unpaired = np.flatnonzero(numbers < 0)
    unpaired = unpaired[np.argsort(-np.bincount(codes, minlength=n_clusters)[unpaired], kind="stable")]
    numbers[unpaired] = groups.max() + 1 + np.arange(unpaired.size)
    return numbers[codes].reshape(np.shape(labels))


def _feature_bins(pixels: np.ndarray, bins: int) -> np.ndarray:
    """Histogram cell of every value, ``feature * bins + bin``, shape (pixel, feature).

    ``bins`` equal-width bins from each feature's minimum to its maximum over all pixels (the
    edges of ``numpy.histogram(feature, bins)``); a constant feature falls in its bin 0.
    """
    low, high = pixels.min(axis=0), pixels.max(axis=0)
    width = high - low
    fraction = np.divide(pixels - low, width, out=np.zeros_like(pixels), where=width > 0)
    index = (fraction * bins).astype(np.intp)
    np.minimum(index, bins - 1, out=index)
    return index + np.arange(pixels.shape[1]) * bins


def _entropy_of_bins(cells: np.ndarray, codes: np.ndarray, n_clusters: int, bins: int) -> float:
    """Size-weighted mean over clusters of the summed per-feature histogram entropies (nats).

    ``cells`` comes from :func:`_feature_bins`; ``codes`` are cluster numbers 0..k-1.
    """
    n_pixels, n_features = cells.shape
    n_cells = n_features * bins
    counts = np.bincount((codes[:, None] * n_cells + cells).ravel(), minlength=n_clusters * n_cells)
    counts = counts.reshape(n_clusters, n_features, bins).astype(float)
    sizes = counts[:, 0, :].sum(axis=1)
    # sum_c n_c * sum_bins p log p, with n_c * p = count, divided by all pixels: the weighted mean
    return float(-xlogy(counts, counts / sizes[:, None, None]).sum() / n_pixels)


@renamed(values='features')
def clustering_entropy(features, labels, bins: int = ENTROPY_BINS) -> float:
    """Entropy of the features inside the clusters, in nats (lower means more uniform clusters).

    Definition:

    1. Each feature is binned once over the whole image: ``bins`` equal-width bins from that
       feature's minimum to its maximum over all pixels (the edges of ``numpy.histogram``).
    2. For each cluster, the Shannon entropy (natural logarithm, so in nats) of the histogram of
       each feature over the cluster's pixels is computed, and summed over the features.
    3. The result is the mean of these per-cluster sums, weighted by cluster size (pixel count).

    Properties that follow: it is 0 when every feature is constant inside every cluster; it
    never rises when a cluster is split in two (so it falls as k grows, and its knee rather than
    its minimum suggests k); adding a feature never lowers it, and it is at most
    ``n_features * log(bins)``, so compare features only between clusterings of the same features
    (the reference notebook's 2.85 on 7 channels against 0.83 on 2 principal components, both at
    k=3, mostly reflects the number of features). A single cluster is allowed: its entropy is
    that of the whole image, the starting point of the curve.

    Parameters
    ----------
    features : array_like, shape (y, x, n_features) or (n_pixels, n_features)
        What was clustered.
    labels : array_like of int, shape (y, x) or (n_pixels,)
        Cluster of each pixel.
    bins : int
        Number of bins per feature, 1 or more.

    Returns
    -------
    float

    Raises
    ------
    NanoSIMSError
        If ``features`` holds NaN or infinite features, ``labels`` do not hold one whole number per
        pixel, or ``bins`` is not a whole number >= 1.

    Examples
    --------
    Two clusters; the feature is constant inside the first and spread over two bins inside the
    second, so the entropy is (2 * 0 + 2 * log 2) / 4:

    >>> features = [[0.0], [0.0], [0.25], [1.0]]
    >>> round(clustering_entropy(features, [0, 0, 1, 1], bins=2), 4)
    0.3466
    """
    bins = check_whole_number(bins, "bins", minimum=1)
    pixels, codes, n_clusters = _pixels_and_codes(features, labels)
    return _entropy_of_bins(_feature_bins(pixels, bins), codes, n_clusters, bins)


@renamed(reference="truth", values="features")
def score_table(
    features, labels, *, truth=None, silhouette_sample_size: int = SILHOUETTE_SAMPLE_SIZE, random_state=0
) -> dict[str, float]:
    """All scores of one clustering, as a dict (ready for ``pandas.DataFrame([...])``).

    Parameters
    ----------
    features : array_like, shape (y, x, n_features) or (n_pixels, n_features)
        What was clustered.
    labels : array_like of int, shape (y, x) or (n_pixels,)
        Cluster of each pixel, at least 2 clusters.
    truth : array_like of int, optional
        A map to compare with (e.g. the true phases of a simulated image).
    silhouette_sample_size : int
        Pixels the silhouette is estimated on; smaller is faster and rougher.
    random_state : int
        Seed of the silhouette's pixel sample.

    Returns
    -------
    dict
        Keys ``"silhouette"`` (on a sample of ``silhouette_sample_size`` pixels),
        ``"calinski_harabasz"``, ``"davies_bouldin"``, ``"entropy"`` (``bins=10``), and
        ``"adjusted_rand"`` when ``truth`` is given.

    Raises
    ------
    NanoSIMSError
        As the individual scores.

    Examples
    --------
    >>> scores = score_table([[0.0], [1.0], [10.0], [11.0]], [0, 0, 1, 1], truth=[1, 1, 0, 0])
    >>> sorted(scores)
    ['adjusted_rand', 'calinski_harabasz', 'davies_bouldin', 'entropy', 'silhouette']
    """
    pixels, codes, n_clusters = _pixels_and_codes(features, labels)
    _require_clusters(n_clusters, pixels.shape[0], "score table")
    dispersion = _dispersion_scores(pixels, codes, n_clusters)
    scores = {
        "silhouette": _silhouette(
            pixels, codes, sample_size=silhouette_sample_size, exact=False, random_state=random_state
        ),
        "calinski_harabasz": dispersion["calinski_harabasz"],
        "davies_bouldin": dispersion["davies_bouldin"],
        "entropy": _entropy_of_bins(_feature_bins(pixels, ENTROPY_BINS), codes, n_clusters, ENTROPY_BINS),
    }
    if truth is not None:
        scores["adjusted_rand"] = adjusted_rand(labels, truth)
    return scores

"""Ward hierarchical clustering of every pixel of an image, in seconds instead of minutes.

Exact Ward clustering of a 256 x 256 image merges 65,536 pixels one pair at a time: SciPy needs
about 33 GB of memory for it and fastcluster about 35 s (12 minutes at 512 x 512). The kit does
it in two steps:

1. group the pixels into about a thousand *micro-clusters* of very similar pixels (a few
   iterations of KMeans from a random start, fitted on a random sample of pixels, then every
   pixel assigned to its nearest micro-cluster; KMeans' default k-means++ start would cost
   more than all the rest);
2. run Ward on the micro-cluster centroids, each weighted by its pixel count
   (:func:`nanosims_helpers.ward.ward_linkage`): this is exactly Ward on the pixels once the
   pixels of each micro-cluster have been merged.

Cutting this tree gives the same clusters as exact Ward except for pixels that a micro-cluster
put together but exact Ward would have split; :func:`compare_with_exact` measures the agreement.
On simulated soil images (256 x 256 and 512 x 512) the adjusted Rand index is about 0.99 at
4 clusters, the number of phases (0.96 for the worst of 5 seeds). Cut into
more clusters than the image has phases, Ward splits a phase where its tree has several merges of
nearly the same height, and small changes move that split: the agreement falls (about 0.9 at 5
clusters, 0.7 at 6). More micro-clusters (2000, 3000) do not raise it, and two fast runs with
different seeds disagree with each other too (ARI about 0.75 at 6 clusters): such extra clusters
are not a stable feature of the image.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

from ._lazy import renamed
from .clustering import ClusterResult
from .errors import NanoSIMSError
from .metrics import adjusted_rand
from .profiles import cluster_means
from .validation import (
    check_cluster_labels,
    check_features,
    check_finite_array,
    check_n_clusters,
    check_whole_number,
    read_only,
)
from .ward import MAX_CENTROIDS, check_weights, cut_linkage, ward_linkage

#: KMeans iterations for the micro-clusters: they only need to be small, not optimal. On the
#: kit's sample images, 3 to 20 iterations, fitted on 16,384 to 65,536 pixels, all agree with
#: exact Ward equally well (mean ARI 0.99 at 4 clusters), while the time grows with both.
MICRO_MAX_ITER = 10

#: Exact Ward (fastcluster) on 256 x 256 pixels took about 35 s on a 2-core laptop; the time
#: grows with the square of the number of pixels.
_EXACT_SECONDS_256 = 35.0
_EXACT_WARN_PIXELS = 20_000


@dataclass(frozen=True)
class WardTree:
    """Ward tree of an image's pixels, built on micro-clusters (see :func:`ward_tree`).

    Attributes
    ----------
    micro_labels : ndarray of int, shape ``shape``
        Micro-cluster of every pixel, 0 .. m-1.
    centroids : ndarray of float, shape (m, n_features)
        Mean features of each micro-cluster.
    weights : ndarray of int, shape (m,)
        Pixel count of each micro-cluster.
    linkage : ndarray, shape (m - 1, 4)
        SciPy linkage matrix of the micro-clusters (leaf i is micro-cluster i).
    shape : tuple of int
        Shape of the image, (y, x), or (n_pixels,) for a pixel table.
    """

    micro_labels: np.ndarray
    centroids: np.ndarray
    weights: np.ndarray
    linkage: np.ndarray
    shape: tuple[int, ...]

    def __post_init__(self):
        for field in ("micro_labels", "centroids", "weights", "linkage"):
            object.__setattr__(self, field, read_only(getattr(self, field)))

    @property
    def n_micro(self) -> int:
        """Number of micro-clusters, m (the leaves of the tree)."""
        return self.centroids.shape[0]


@dataclass(frozen=True)
class Regrouping:
    """Clusters merged into fewer groups by :func:`regroup_clusters` (arrays read-only).

    Attributes
    ----------
    labels : ndarray of int
        Group of every pixel, 0 .. n_groups-1, largest group first; same shape as the labels given.
    mapping : ndarray of int, shape (k,)
        ``mapping[c]`` is the group of original cluster ``c``.
    linkage : ndarray, shape (k - 1, 4)
        SciPy linkage matrix of the original clusters (leaf c is cluster c), for a dendrogram.
    weights : ndarray, shape (k,)
        Pixel count of each original cluster.
    """

    labels: np.ndarray
    mapping: np.ndarray
    linkage: np.ndarray
    weights: np.ndarray

    def __post_init__(self):
        for field in ("labels", "mapping", "linkage", "weights"):
            object.__setattr__(self, field, read_only(getattr(self, field)))


@dataclass(frozen=True)
class WardComparison:
    """The fast and the exact Ward clustering of the same pixels, from :func:`compare_with_exact`.

    Attributes
    ----------
    adjusted_rand : float
        Agreement of the two label maps, 1 = identical.
    fast_seconds, exact_seconds : float
        Time each method took.
    fast_labels, exact_labels : ndarray of int (read-only)
        The two label maps.
    """

    adjusted_rand: float
    fast_seconds: float
    exact_seconds: float
    fast_labels: np.ndarray
    exact_labels: np.ndarray

    def __post_init__(self):
        for field in ("fast_labels", "exact_labels"):
            object.__setattr__(self, field, read_only(getattr(self, field)))

    @property
    def speedup(self) -> float:
        """How many times faster the fast method was (exact time over fast time)."""
        return self.exact_seconds / max(self.fast_seconds, 1e-9)

    def as_row(self) -> dict[str, float]:
        """The numbers, as a dict: ``adjusted_rand``, ``fast_seconds``, ``exact_seconds``, ``speedup``."""
        return {
            "adjusted_rand": self.adjusted_rand,
            "fast_seconds": self.fast_seconds,
            "exact_seconds": self.exact_seconds,
            "speedup": self.speedup,
        }


def ward_tree(features, *, n_micro: int = 1000, random_state=0, fit_sample_size: int = 32768) -> WardTree:
    """Build the Ward tree of every pixel through micro-clusters.

    Parameters
    ----------
    features : array_like, shape (y, x, n_features) or (n_pixels, n_features)
        Preprocessed channels (see :func:`nanosims_helpers.preprocessing.preprocess`).
    n_micro : int
        Number of micro-clusters (leaves of the tree), 2 to ``MAX_CENTROIDS``. More is closer
        to exact Ward and slower. Images with fewer pixels use one leaf per distinct pixel value
        (then the tree is exact).
    random_state : int
        Seed of the pixel sample and of the KMeans initialisation.
    fit_sample_size : int
        The micro-clusters are fitted on this many random pixels (at least ``n_micro``), then
        every pixel joins its nearest micro-cluster: a 512 x 512 image takes little longer
        than a 256 x 256 one.

    Returns
    -------
    WardTree
        Cut it with :func:`cut_tree`, draw it with
        :func:`nanosims_helpers.plot.dendrogram.plot_dendrogram`.

    Raises
    ------
    NanoSIMSError
        If ``features`` is not a finite 2-D or 3-D array, is constant, or an argument is out of range.

    Examples
    --------
    >>> features = np.random.default_rng(0).normal(size=(20, 20, 3))
    >>> tree = ward_tree(features, n_micro=50)
    >>> tree.n_micro, tree.linkage.shape, int(tree.weights.sum())
    (50, (49, 4), 400)
    """
    values = check_features(features)
    table = values.reshape(-1, values.shape[-1])
    n_micro = check_whole_number(
        n_micro, "n_micro", minimum=2, maximum=MAX_CENTROIDS, maximum_reason="the Ward step's memory limit"
    )
    fit_sample_size = check_whole_number(fit_sample_size, "fit_sample_size", minimum=n_micro)
    micro_labels, centroids, weights = _micro_clusters(table, n_micro, fit_sample_size, random_state)
    if weights.size < 2:
        raise NanoSIMSError(
            f"features: the {fit_sample_size} pixels sampled to build micro-clusters all have the same "
            "values; use a larger fit_sample_size."
        )
    return WardTree(
        micro_labels.reshape(values.shape[:-1]), centroids, weights, ward_linkage(centroids, weights),
        values.shape[:-1],
    )


def cut_tree(tree: WardTree, n_clusters: int | None = None, height: float | None = None) -> np.ndarray:
    """Cut a Ward tree into clusters: give either the number of clusters or a height.

    Parameters
    ----------
    tree : WardTree
        From :func:`ward_tree`.
    n_clusters : int, optional
        Number of clusters, 2 to the number of micro-clusters.
    height : float, optional
        Cut height on the dendrogram's axis: clusters merged below it stay together.

    Returns
    -------
    ndarray of int, shape ``tree.shape``
        Cluster of every pixel, 0 .. k-1, cluster 0 the largest.

    Raises
    ------
    NanoSIMSError
        If both or neither of ``n_clusters`` and ``height`` are given, or the value would not
        give between 2 and ``tree.n_micro`` clusters.

    Examples
    --------
    >>> features = np.zeros((4, 6, 1))
    >>> features[:, 4:] = 1.0
    >>> cut_tree(ward_tree(features), n_clusters=2)[0]
    array([0, 0, 0, 0, 1, 1])
    """
    if not isinstance(tree, WardTree):
        raise NanoSIMSError(f"tree: expected a WardTree from ward_tree(), got {type(tree).__name__}.")
    if (n_clusters is None) == (height is None):
        raise NanoSIMSError("cut_tree: give exactly one of n_clusters and height.")
    if height is not None:
        n_clusters = _clusters_below(tree.linkage, height)
    n_clusters = check_whole_number(
        n_clusters, "n_clusters", minimum=2, maximum=tree.n_micro,
        maximum_reason="the number of micro-clusters; build the tree with a larger n_micro",
    )
    groups = _order_by_size(cut_linkage(tree.linkage, n_clusters), tree.weights)
    return groups[tree.micro_labels]


def hierarchical_map(features, n_clusters: int, *, random_state=0) -> ClusterResult:
    """Cluster every pixel with Ward's method (fast, through micro-clusters) and return the map.

    Parameters
    ----------
    features : array_like, shape (y, x, n_features)
        Preprocessed channels.
    n_clusters : int
        Number of clusters, k >= 2.
    random_state : int
        Seed of the micro-clusters: the same seed gives the same labels.

    Returns
    -------
    ClusterResult
        Labels (cluster 0 the largest), centres = mean features of each cluster, ``pca=None``.

    Raises
    ------
    NanoSIMSError
        As :func:`ward_tree` and :func:`cut_tree`; also if ``features`` is not 3-D.

    Examples
    --------
    >>> features = np.zeros((4, 6, 2))
    >>> features[:, 4:] = [1.0, 3.0]
    >>> result = hierarchical_map(features, 2)
    >>> result.labels[0], result.centers
    (array([0, 0, 0, 0, 1, 1]), array([[0., 0.],
           [1., 3.]]))
    """
    values = check_features(features, ndim=(3,))
    n_clusters = check_n_clusters(n_clusters, values.shape[0] * values.shape[1])
    tree = ward_tree(values, random_state=random_state)
    if n_clusters > tree.n_micro:
        raise NanoSIMSError(
            f"n_clusters={n_clusters}: the pixels take only {tree.n_micro} distinct values; "
            f"use at most {tree.n_micro} clusters."
        )
    labels = cut_tree(tree, n_clusters=n_clusters)
    centres, _ = cluster_means(values.reshape(-1, values.shape[-1]), labels.ravel(), n_clusters)
    return ClusterResult(labels, centres, values)


def exact_ward_labels(features, n_clusters: int) -> np.ndarray:
    """Exact Ward clustering of every pixel with fastcluster, to check the fast method.

    Slow: about 35 s for 256 x 256 pixels, 12 minutes for 512 x 512 (the time grows with the
    square of the number of pixels); memory stays small. Warns above 20,000 pixels.

    Parameters
    ----------
    features : array_like, shape (y, x, n_features) or (n_pixels, n_features)
        Preprocessed channels.
    n_clusters : int
        Number of clusters, k >= 2.

    Returns
    -------
    ndarray of int, shape (y, x) or (n_pixels,)
        Cluster of every pixel, 0 .. k-1, cluster 0 the largest.

    Raises
    ------
    NanoSIMSError
        If ``features`` is not a finite 2-D or 3-D array, is constant, or ``n_clusters`` is out of range.

    Examples
    --------
    >>> exact_ward_labels([[0.0], [0.1], [5.0], [5.2], [5.1]], 2)
    array([1, 1, 0, 0, 0])
    """
    import fastcluster

    values = check_features(features)
    table = values.reshape(-1, values.shape[-1])
    n_pixels = table.shape[0]
    n_clusters = check_n_clusters(n_clusters, n_pixels)
    if n_pixels > _EXACT_WARN_PIXELS:
        seconds = _EXACT_SECONDS_256 * (n_pixels / 65536) ** 2
        warnings.warn(
            f"exact Ward on {n_pixels:,} pixels takes about {seconds:.0f} s on a laptop; "
            "hierarchical_map() gives nearly the same clusters in a second or two.",
            UserWarning,
            stacklevel=2,
        )
    linkage = fastcluster.linkage_vector(table, method="ward")
    groups = cut_linkage(linkage, n_clusters)
    return _order_by_size(groups, np.ones(n_pixels)).reshape(values.shape[:-1])


def compare_with_exact(features, n_clusters: int, *, random_state=0) -> WardComparison:
    """Run the fast and the exact Ward clustering on the same pixels and compare them.

    Parameters
    ----------
    features : array_like, shape (y, x, n_features)
        Preprocessed channels. Keep the image small (e.g. 64 x 64) unless you can wait:
        the exact method takes about 35 s at 256 x 256.
    n_clusters : int
        Number of clusters.
    random_state : int
        Seed of the fast method.

    Returns
    -------
    WardComparison
        ``adjusted_rand`` (agreement, 1 = identical), ``fast_seconds``, ``exact_seconds``,
        ``speedup`` (exact / fast), ``fast_labels``, ``exact_labels``; ``as_row()`` gives the
        numbers as a dict, for a table.

    Raises
    ------
    NanoSIMSError
        As :func:`hierarchical_map`.

    Examples
    --------
    >>> features = np.random.default_rng(0).normal(size=(16, 16, 2))
    >>> compare_with_exact(features, 3).adjusted_rand
    1.0
    """
    start = time.perf_counter()
    fast = hierarchical_map(features, n_clusters, random_state=random_state).labels
    middle = time.perf_counter()
    exact = exact_ward_labels(features, n_clusters)
    end = time.perf_counter()
    return WardComparison(adjusted_rand(fast, exact), middle - start, end - middle, fast, exact)


@renamed(n_groups="n_clusters")
def regroup_clusters(labels, centers, n_clusters: int, sizes=None) -> Regrouping:
    """Merge an over-split clustering (say KMeans with k=12) into fewer groups with Ward.

    Ward on the cluster centres, each weighted by its pixel count, continues the merging where
    KMeans stopped: it joins first the clusters whose union adds the least spread.

    Parameters
    ----------
    labels : array_like of int
        Cluster of every pixel, 0 .. k-1 (e.g. ``ClusterResult.labels``).
    centers : array_like, shape (k, n_features)
        Centre of each cluster (e.g. ``ClusterResult.centers``).
    n_clusters : int
        Number of groups wanted, 2 to k.
    sizes : array_like of shape (k,), optional
        Pixel count of each cluster; counted from ``labels`` by default.

    Returns
    -------
    Regrouping
        ``labels`` (group of every pixel, same shape as given, group 0 the largest),
        ``mapping`` (group of each original cluster), ``linkage`` and ``weights`` (for
        :func:`nanosims_helpers.plot.dendrogram.plot_dendrogram`).

    Raises
    ------
    NanoSIMSError
        If labels and centres do not match, a cluster has no pixels, or ``n_clusters`` is out of range.

    Examples
    --------
    >>> regroup_clusters([0, 1, 2, 2, 2], [[0.0], [0.2], [5.0]], 2).mapping
    array([1, 1, 0])
    """
    centres = check_finite_array(centers, "centers", ndim=(2,))
    n_old = centres.shape[0]
    flat, _ = check_cluster_labels(labels, np.shape(labels), allow_empty=True, n_clusters=n_old)
    if sizes is None:
        counts = np.bincount(flat, minlength=n_old)
        if np.any(counts == 0):
            raise NanoSIMSError(
                f"labels: cluster(s) {np.flatnonzero(counts == 0).tolist()} have no pixels; "
                "drop their centres or pass sizes."
            )
        sizes = counts
    weights = check_weights(sizes, n_old, name="sizes")
    n_clusters = check_whole_number(
        n_clusters, "n_clusters", minimum=2, maximum=n_old, maximum_reason="the number of clusters"
    )
    linkage = ward_linkage(centres, weights)
    mapping = _order_by_size(cut_linkage(linkage, n_clusters), weights)
    return Regrouping(mapping[flat].reshape(np.shape(labels)), mapping, linkage, weights)


def _clusters_below(linkage: np.ndarray, height) -> int:
    """Number of clusters left when the tree is cut at ``height``."""
    if isinstance(height, bool) or not isinstance(height, (int, float, np.number)) or not np.isfinite(height) \
            or height < 0:
        raise NanoSIMSError(f"height: expected a number >= 0, got {height!r}.")
    n_clusters = linkage.shape[0] + 1 - int(np.count_nonzero(linkage[:, 2] <= height))
    if n_clusters < 2:
        raise NanoSIMSError(
            f"height={height}: at or above the top of the tree ({linkage[-1, 2]:.4g}), every pixel "
            "is in one cluster; use a lower height."
        )
    return n_clusters


def _micro_clusters(table: np.ndarray, n_micro: int, fit_sample_size: int, random_state):
    """Micro-cluster of every pixel, micro-cluster means and pixel counts (empty ones dropped)."""
    if table.shape[0] <= n_micro:
        centroids, inverse, counts = np.unique(table, axis=0, return_inverse=True, return_counts=True)
        return inverse.ravel(), centroids, counts
    pixels = table.astype(np.float32)  # single precision: faster, and precise enough to group pixels
    sample = pixels
    if pixels.shape[0] > fit_sample_size:
        rng = np.random.default_rng(random_state)
        sample = pixels[rng.choice(pixels.shape[0], fit_sample_size, replace=False)]
    model = KMeans(n_micro, init="random", n_init=1, max_iter=MICRO_MAX_ITER, random_state=random_state)
    with warnings.catch_warnings():
        # Fewer distinct pixels than micro-clusters: the empty micro-clusters are dropped below.
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = model.fit(sample).predict(pixels)
    counts = np.bincount(labels, minlength=n_micro)
    kept = np.flatnonzero(counts)
    renumber = np.zeros(n_micro, dtype=np.intp)
    renumber[kept] = np.arange(kept.size)
    labels = renumber[labels]
    return labels, cluster_means(table, labels, kept.size)[0], counts[kept]


def largest_first(sizes) -> np.ndarray:
    """New number of each cluster when they are numbered by size, largest first (ties keep their order).

    Examples
    --------
    >>> largest_first([3, 9, 0, 9]).tolist()
    [2, 0, 3, 1]
    """
    order = np.argsort(-np.asarray(sizes), kind="stable")
    rank = np.empty(order.size, dtype=np.intp)
    rank[order] = np.arange(order.size)
    return rank


def _order_by_size(groups: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Renumber ``groups`` (one label per item) so that group 0 has the largest total weight."""
    return largest_first(np.bincount(groups, weights=weights))[groups]

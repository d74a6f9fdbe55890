"""Weighted Ward linkage of a few hundred or thousand centroids, each standing for many pixels.

Ward's method merges, at each step, the two clusters whose union increases the within-cluster
sum of squares the least. A centroid that stands for ``w`` identical pixels behaves exactly like
those ``w`` pixels once they have been merged (at height 0), so Ward on centroids weighted by
their pixel counts is Ward on the pixels, after the pixels of each centroid have been put together.

The result is a SciPy linkage matrix: :func:`scipy.cluster.hierarchy.fcluster` and
:func:`scipy.cluster.hierarchy.dendrogram` accept it. Its heights follow SciPy's convention for
Ward (the Euclidean distance updated by the Lance-Williams formula), and its fourth column counts
centroids, as SciPy requires; the pixel counts are the weights you passed.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist, squareform

from .errors import NanoSIMSError
from .validation import check_finite_array

#: Largest number of centroids :func:`ward_linkage` accepts: its distance matrix takes
#: 8 * m * m bytes (200 MB for 5000 centroids).
MAX_CENTROIDS = 5000


def ward_linkage(centroids, weights=None) -> np.ndarray:
    """Ward linkage of centroids, each weighted by the number of pixels it stands for.

    Parameters
    ----------
    centroids : array_like, shape (m, n_features)
        One row per centroid (micro-cluster or cluster mean), 2 <= m <= ``MAX_CENTROIDS``.
    weights : array_like of shape (m,), optional
        Pixel count (or any positive size) of each centroid. Default: 1 each, which gives
        the same tree as ``scipy.cluster.hierarchy.linkage(centroids, "ward")``.

    Returns
    -------
    ndarray, shape (m - 1, 4)
        SciPy linkage matrix: merged nodes, height, number of centroids under the new node.
        Rows are sorted by height; node ``m + i`` is the one formed by row ``i``.

    Raises
    ------
    NanoSIMSError
        If ``centroids`` is not a finite 2-D array of 2 to ``MAX_CENTROIDS`` rows, or the
        weights are not one positive finite number per centroid.

    Examples
    --------
    >>> ward_linkage([[0.0], [1.0], [10.0]], weights=[1, 1, 2])
    array([[ 0.        ,  1.        ,  1.        ,  2.        ],
           [ 2.        ,  3.        , 13.43502884,  3.        ]])
    """
    points = check_finite_array(centroids, "centroids", ndim=(2,))
    m = points.shape[0]
    if not 2 <= m <= MAX_CENTROIDS:
        raise NanoSIMSError(
            f"centroids: Ward needs 2 to {MAX_CENTROIDS} centroids, got {m}; "
            "use fewer micro-clusters (n_micro) or more pixels."
        )
    sizes = np.ones(m) if weights is None else check_weights(weights, m)
    merges = _nn_chain(_initial_distances(points, sizes), sizes)
    return _sorted_linkage(merges, m)


def check_weights(weights, m: int, name: str = "weights") -> np.ndarray:
    """Return ``weights`` as floats after checking they are ``m`` positive finite numbers.

    Raises
    ------
    NanoSIMSError
        If not, naming the argument ``name``.
    """
    sizes = check_finite_array(weights, name, ndim=(1,))
    if sizes.shape != (m,):
        raise NanoSIMSError(f"{name}: {sizes.size} value(s) for {m} centroids; give one per centroid.")
    if np.any(sizes <= 0):
        raise NanoSIMSError(
            f"{name}: {int(np.sum(sizes <= 0))} value(s) are zero or negative; "
            "every centroid needs a positive pixel count (drop empty clusters first)."
        )
    return sizes


def cut_linkage(linkage: np.ndarray, n_clusters: int) -> np.ndarray:
    """Cluster of each leaf when a height-sorted linkage is cut into ``n_clusters`` clusters.

    Undoes the last ``n_clusters - 1`` merges. Unlike ``fcluster(..., "maxclust")`` this gives
    exactly ``n_clusters`` clusters even when merge heights tie.

    Parameters
    ----------
    linkage : ndarray, shape (n - 1, 4)
        SciPy linkage matrix with rows sorted by height (as Ward's always are).
    n_clusters : int
        1 <= n_clusters <= n (checked by the callers).

    Returns
    -------
    ndarray of int, shape (n,)
        Labels 0 .. n_clusters-1, numbered in order of the clusters' top nodes.

    Examples
    --------
    >>> cut_linkage(ward_linkage([[0.0], [1.0], [10.0]]), 2)
    array([1, 1, 0])
    """
    n = linkage.shape[0] + 1
    kept = n - n_clusters
    parent = np.arange(2 * n - 1)
    new_nodes = n + np.arange(kept)
    parent[linkage[:kept, 0].astype(np.intp)] = new_nodes
    parent[linkage[:kept, 1].astype(np.intp)] = new_nodes
    while True:  # pointer jumping: every node ends up pointing at the top of its cluster
        grandparent = parent[parent]
        if np.array_equal(grandparent, parent):
            break
        parent = grandparent
    return np.unique(parent[:n], return_inverse=True)[1]


def _initial_distances(points: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Squared Ward distances 2 w_i w_j / (w_i + w_j) * |c_i - c_j|^2, inf on the diagonal."""
    squared = squareform(pdist(points, "sqeuclidean"))
    squared *= 2.0 * np.outer(sizes, sizes) / np.add.outer(sizes, sizes)
    np.fill_diagonal(squared, np.inf)
    return squared


def _nn_chain(squared: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Merge mutual nearest neighbours (nearest-neighbour chain), as SciPy does for Ward.

    Works in place on the matrix of squared distances; a merged node keeps the larger index
    and the smaller one is retired (its row and column set to inf). Returns the merges in the
    order found: (node a, node b, squared height), with indices into the m inputs.
    """
    m = sizes.size
    sizes = sizes.copy()
    floor = np.zeros(m)  # height of the last merge into each node: keeps heights monotone
    merges = np.empty((m - 1, 3))
    chain: list[int] = []
    for step in range(m - 1):
        if not chain:
            chain.append(int(np.argmax(sizes > 0)))
        while True:
            x = chain[-1]
            y = int(np.argmin(squared[x]))
            # Prefer the previous element of the chain on ties, so that the chain never cycles.
            if len(chain) > 1 and squared[x, chain[-2]] <= squared[x, y]:
                y = chain[-2]
                break
            chain.append(y)
        del chain[-2:]
        x, y = min(x, y), max(x, y)
        distance = squared[x, y]
        floor[y] = max(distance, floor[x], floor[y])  # rounding must not undercut a child
        merges[step] = x, y, floor[y]
        _lance_williams(squared, sizes, x, y, distance)
    return merges


def _lance_williams(squared, sizes, x: int, y: int, distance: float) -> None:
    """Replace nodes x and y by their union, stored at index y, updating Ward distances.

    Retired nodes have size 0 and infinite distances, so whole rows can be updated at once.
    """
    size_x, size_y = sizes[x], sizes[y]
    total = sizes + (size_x + size_y)
    updated = ((sizes + size_x) * squared[x] + (sizes + size_y) * squared[y] - sizes * distance) / total
    np.maximum(updated, 0.0, out=updated)
    updated[y] = np.inf
    squared[y] = squared[:, y] = updated
    squared[x] = squared[:, x] = np.inf
    sizes[x] = 0.0
    sizes[y] = size_x + size_y


def _sorted_linkage(merges: np.ndarray, m: int) -> np.ndarray:
    """Sort merges by height and renumber nodes the SciPy way (new node m + row)."""
    merges = merges[np.argsort(merges[:, 2], kind="stable")]
    linkage = np.empty((m - 1, 4))
    node_of = np.arange(m)  # current SciPy node id of each input index's cluster
    leaves = np.ones(m)
    for row, (a, b, squared_height) in enumerate(merges):
        a, b = int(a), int(b)
        first, second = sorted((node_of[a], node_of[b]))
        linkage[row] = first, second, np.sqrt(squared_height), leaves[a] + leaves[b]
        node_of[b] = m + row
        leaves[b] += leaves[a]
    return linkage

"""Draw the top of a Ward tree, with the pixel count of every branch and the cut line.

A tree of a whole image has a thousand leaves (micro-clusters): the plot shows only its last
merges (``truncate`` branches), which is where the choice of the number of clusters is made.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy.cluster.hierarchy import dendrogram, is_valid_linkage

from ..errors import NanoSIMSError
from ..validation import check_whole_number


def plot_dendrogram(tree_or_linkage, *, truncate: int | None = 30, ax=None, show_sizes: bool = True,
                    cut_height: float | None = None, n_clusters: int | None = None):
    """Plot the top of a Ward tree, optionally with the cut that gives the clusters.

    Parameters
    ----------
    tree_or_linkage : WardTree, Regrouping or ndarray
        A :class:`~nanosims_helpers.hierarchical.WardTree`, the result of
        :func:`~nanosims_helpers.hierarchical.regroup_clusters`, or a SciPy linkage matrix.
    truncate : int or None
        Show only the last merges, leaving this many branches at the bottom (SciPy's "lastp");
        None shows every leaf (slow and unreadable for a thousand micro-clusters).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    show_sizes : bool
        Label every branch with its pixel count (for a plain linkage matrix: its leaf count).
        A leaf of the tree is labelled with its number too.
    cut_height : float, optional
        Draw a dashed line at this height and colour the clusters below it.
    n_clusters : int, optional
        Draw the line where the tree splits into this many clusters (instead of ``cut_height``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    NanoSIMSError
        If the input is not a tree or valid linkage, ``truncate`` is below 2, both cut options
        are given, or ``n_clusters`` is not between 2 and the number of leaves.

    Examples
    --------
    >>> from nanosims_helpers.ward import ward_linkage
    >>> ax = plot_dendrogram(ward_linkage([[0.0], [1.0], [10.0], [11.0]]), n_clusters=2)
    >>> ax.get_ylabel()
    'Ward distance'
    """
    linkage, weights = _linkage_and_weights(tree_or_linkage)
    n_leaves = linkage.shape[0] + 1
    if truncate is not None:
        truncate = check_whole_number(truncate, "truncate (branches shown; None shows all)", minimum=2)
    threshold = _cut_line(linkage, cut_height, n_clusters)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    sizes = _node_sizes(linkage, weights)
    dendrogram(
        linkage,
        truncate_mode=None if truncate is None or truncate >= n_leaves else "lastp",
        p=truncate or n_leaves,
        ax=ax,
        no_labels=not show_sizes,
        leaf_label_func=lambda node: _label(node, n_leaves, sizes, weights is not None),
        leaf_rotation=90,
        color_threshold=0 if threshold is None else threshold,
        above_threshold_color="0.4",
    )
    if threshold is not None:
        ax.axhline(threshold, linestyle="--", color="k", linewidth=1)
    ax.set_ylabel("Ward distance")
    ax.set_xlabel("branches (pixel count)" if weights is not None else "branches (leaf count)")
    return ax


def _linkage_and_weights(tree_or_linkage):
    """The linkage matrix and the pixel count of each leaf (None for a plain linkage)."""
    if hasattr(tree_or_linkage, "linkage") and hasattr(tree_or_linkage, "weights"):
        return np.asarray(tree_or_linkage.linkage, dtype=float), np.asarray(tree_or_linkage.weights)
    linkage = np.asarray(tree_or_linkage, dtype=float) if isinstance(tree_or_linkage, (np.ndarray, list)) else None
    if linkage is None or linkage.ndim != 2 or linkage.shape[0] == 0 or not is_valid_linkage(linkage):
        raise NanoSIMSError(
            "tree_or_linkage: expected a WardTree, a Regrouping or a SciPy linkage matrix "
            f"(n - 1 rows of 4 numbers), got {type(tree_or_linkage).__name__}."
        )
    return linkage, None


def _cut_line(linkage: np.ndarray, cut_height, n_clusters) -> float | None:
    """Height of the dashed line: given, or halfway between the merges around ``n_clusters``."""
    if cut_height is not None and n_clusters is not None:
        raise NanoSIMSError("plot_dendrogram: give cut_height or n_clusters, not both.")
    if cut_height is not None:
        if isinstance(cut_height, bool) or not isinstance(cut_height, (int, float, np.number)) \
                or not np.isfinite(cut_height):
            raise NanoSIMSError(f"cut_height: expected a number, got {cut_height!r}.")
        return float(cut_height)
    if n_clusters is None:
        return None
    n_leaves = linkage.shape[0] + 1
    n_clusters = check_whole_number(n_clusters, "n_clusters", minimum=2, maximum=n_leaves, maximum_reason="the leaves")
    heights = np.concatenate([[0.0], linkage[:, 2]])
    return float((heights[-n_clusters] + heights[-n_clusters + 1]) / 2)


def _node_sizes(linkage: np.ndarray, weights) -> np.ndarray:
    """Pixel count (or leaf count) of every node: leaves first, then one per linkage row."""
    n_leaves = linkage.shape[0] + 1
    sizes = np.ones(2 * n_leaves - 1) if weights is None else np.concatenate([weights, np.zeros(n_leaves - 1)])
    for row, (a, b) in enumerate(linkage[:, :2].astype(np.intp)):
        sizes[n_leaves + row] = sizes[a] + sizes[b]
    return sizes


def _label(node: int, n_leaves: int, sizes: np.ndarray, in_pixels: bool) -> str:
    unit = " px" if in_pixels else ""
    count = f"({int(sizes[node]):,}{unit})"
    return f"{node} {count}" if node < n_leaves else count

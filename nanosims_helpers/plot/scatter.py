"""Plots against numeric axes: pixels in the PCA plane, and a score over the number of clusters k."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.patches import Circle
from matplotlib.ticker import MaxNLocator

from ..errors import NanoSIMSError
from ..profiles import pixels_and_labels, split_by_cluster
from ..validation import check_finite_array, check_whole_number
from .style import (
    _area_fractions,
    _cluster_legend,
    _legend_labels,
    _new_axes,
    _projector_readable,
    _stratified_sample,
    cluster_colors,
)


def _circle_radii(points, flat, centers, n_clusters, percentile):
    """Per cluster, the ``percentile`` of its points' distances to its centre."""
    distances = np.linalg.norm(points - centers[flat], axis=1)
    return np.array([np.percentile(d, percentile) for d in split_by_cluster(distances, flat, n_clusters)])


@_projector_readable
def plot_pca_scatter(components, labels, centers, *, n_samples=5000, random_state=0, radius_percentile=95,
                     names=None, ax=None, cmap="tab10"):
    """Scatter of the first two principal components, with a circle around each k-means centre.

    The circle of a cluster has the radius within which ``radius_percentile`` % of its pixels
    lie, measured in the plotted plane. The reference notebook used the largest distance instead;
    then a single outlying pixel (a hot spot, a pixel on a grain edge) decides the radius, and
    the circles balloon over each other and say nothing about where most pixels are. Note that a
    circle is a picture, not a rule: k-means gives each pixel to its nearest centre, so pixels
    outside every circle still belong to a cluster.

    Parameters
    ----------
    components : array_like, shape (y, x, c) or (pixel, c), c >= 2
        Principal component scores of each pixel (what was clustered).
    labels : array_like of int, shape (y, x) or (pixel,)
        Cluster number 0..k-1 of each pixel.
    centers : array_like, shape (k, c)
        k-means centres in the same components (``result.centers``).
    n_samples : int
        Number of pixels drawn, stratified by cluster as in :func:`plot_parallel_coordinates`;
        the circles use every pixel.
    random_state : int
        Seed of the sample.
    radius_percentile : float
        Percentile of the distances to the centre used as radius, in (0, 100].
    names : sequence of str, optional
        A name for each cluster, shown in the legend.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    cmap : str or Colormap
        Palette, see :func:`cluster_colors`.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    NanoSIMSError
        If there are fewer than two components, the labels or centres do not match them, or
        ``n_samples`` or ``radius_percentile`` are out of range.

    Examples
    --------
    >>> points = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0]])
    >>> ax = plot_pca_scatter(points, np.array([0, 0, 1, 1]), np.array([[0.0, 0.5], [5.0, 5.5]]))
    >>> [float(patch.radius) for patch in ax.patches]
    [0.5, 0.5]
    """
    table, flat, n_clusters = pixels_and_labels(components, labels, "components")
    if table.shape[1] < 2:
        raise NanoSIMSError("components: a scatter plot needs at least 2 components; use n_components=2.")
    centers = check_finite_array(centers, "centers", ndim=(2,))
    if centers.shape != (n_clusters, table.shape[1]):
        raise NanoSIMSError(
            f"centers: shape {centers.shape} for {n_clusters} clusters of {table.shape[1]}-component points; "
            f"expected {(n_clusters, table.shape[1])}: "
            "pass the centres of the clustering that gave the labels."
        )
    if not 0 < radius_percentile <= 100:
        raise NanoSIMSError(f"radius_percentile={radius_percentile!r}: choose a value in (0, 100], e.g. 95.")
    points, centers = table[:, :2], centers[:, :2]
    radii = _circle_radii(points, flat, centers, n_clusters, radius_percentile)
    rows = _stratified_sample(flat, n_clusters, check_whole_number(n_samples, "n_samples", minimum=1), random_state)
    colors = cluster_colors(n_clusters, cmap)
    legend = _legend_labels(_area_fractions(flat, n_clusters), names)
    ax = ax if ax is not None else _new_axes((8.0, 6.0))
    ax.scatter(points[rows, 0], points[rows, 1], c=colors[flat[rows]], s=6, alpha=0.5, linewidths=0, zorder=2)
    for color, center, radius in zip(colors, centers, radii):
        face = (*color[:3], 0.12)
        ax.add_patch(Circle(center, radius, facecolor=face, edgecolor=color, linewidth=2.5, zorder=3))
    ax.scatter(centers[:, 0], centers[:, 1], c=colors, marker="X", s=160, edgecolors="black", zorder=4)
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
    ax.set(xlabel="principal component 1", ylabel="principal component 2",
           title=f"k-means centres; circles hold {radius_percentile:g} % of each cluster")
    _cluster_legend(ax, colors, legend)
    return ax


@_projector_readable
def plot_sweep(table, column="entropy", *, knee=None, ax=None):
    """Plot a score against the number of clusters k, with the chosen knee marked.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per k, with a column ``k`` and the score column (what ``sweep_k`` returns).
    column : str
        The score to plot.
    knee : int, optional
        The k to mark (for example from ``find_knee``); must be one of the table's k.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    NanoSIMSError
        If the table has no ``k`` or no ``column``, or ``knee`` is not one of its k.

    Examples
    --------
    >>> table = pd.DataFrame({"k": [2, 3, 4, 5], "entropy": [3.0, 1.5, 1.2, 1.1]})
    >>> ax = plot_sweep(table, knee=3)
    >>> ax.lines[-1].get_label()
    'knee: k = 3'
    """
    frame = pd.DataFrame(table)
    missing = [name for name in ("k", column) if name not in frame.columns]
    if missing:
        raise NanoSIMSError(
            f"table: no column(s) {missing}; it has {list(frame.columns)}. Use the table of sweep_k."
        )
    ks, scores = frame["k"].to_numpy(), frame[column].to_numpy(dtype=float)
    ax = ax if ax is not None else _new_axes((7.5, 4.8))
    ax.plot(ks, scores, "o-", color="C0", linewidth=2, markersize=5)
    if knee is not None:
        if knee not in set(ks.tolist()):
            raise NanoSIMSError(
                f"knee={knee!r}: not one of the table's k ({ks.min()}..{ks.max()}); pass a k it holds."
            )
        score = scores[ks == knee][0]
        ax.axvline(knee, color="0.4", linestyle="--", linewidth=1.5)
        ax.plot([knee], [score], "o", markersize=15, markerfacecolor="none", markeredgecolor="C3",
                markeredgewidth=3, label=f"knee: k = {knee}")
        ax.annotate(f"knee: k = {knee}", (knee, score), xytext=(14, 14), textcoords="offset points",
                    color="C3", fontweight="bold")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    score_name = column.replace("_", " ")
    ax.set(xlabel="number of clusters k", ylabel=score_name, title=f"{score_name} over k")
    ax.grid(alpha=0.4)
    return ax

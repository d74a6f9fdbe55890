"""Per-mass plots of clusters: typical profiles with their spread, parallel coordinates, and cluster fractions."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patheffects import withStroke

from ..errors import NanoSIMSError
from ..profiles import check_masses, cluster_profiles, pixels_and_labels, profile_matrix
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

SPREADS = {
    "iqr": ("median, bars: 25th to 75th percentile", lambda rows: (rows["median"], rows["q25"], rows["q75"])),
    "std": ("mean, bars: ± 1 standard deviation",
            lambda rows: (rows["mean"], rows["mean"] - rows["std"], rows["mean"] + rows["std"])),
}
"""Spread of ``plot_cluster_profiles``: title, and (marker, bar bottom, bar top) from profile rows."""


@_projector_readable
def plot_cluster_profiles(values, labels, masses, *, spread="iqr", names=None, ax=None, cmap="tab10"):
    """Show what each cluster is made of: its typical intensity for every mass, with the spread.

    One line per cluster across the masses, a marker at the typical value and a bar for the
    spread of its pixels: the readable summary of a parallel-coordinates plot of every pixel.

    Parameters
    ----------
    values : array_like, shape (y, x, mass) or (pixel, mass)
        The scaled intensities that were clustered.
    labels : array_like of int, shape (y, x) or (pixel,)
        Cluster number 0..k-1 of each pixel.
    masses : sequence of str
        One name per channel (``image.masses``).
    spread : {"iqr", "std"}
        ``"iqr"``: median with the 25th to 75th percentile, robust to the skewed counts of
        NanoSIMS; ``"std"``: mean plus or minus one standard deviation.
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
        For values, labels or masses that do not match (see :func:`cluster_profiles`), or an
        unknown ``spread``.

    Examples
    --------
    >>> values = np.array([[0.1, 0.9], [0.2, 0.8], [0.9, 0.1]])
    >>> ax = plot_cluster_profiles(values, np.array([0, 0, 1]), ["12C", "16O"])
    >>> len(ax.get_legend().get_texts())
    2
    """
    if spread not in SPREADS:
        raise NanoSIMSError(f"spread={spread!r}: choose one of {sorted(SPREADS)}.")
    description, bar = SPREADS[spread]
    table = cluster_profiles(values, labels, masses)
    masses = list(table["mass"].cat.categories)
    n_clusters = int(table["cluster"].max()) + 1
    colors = cluster_colors(n_clusters, cmap)
    legend = _legend_labels(table.groupby("cluster")["area_fraction"].first().to_numpy(), names)
    ax = ax if ax is not None else _new_axes((max(7.0, 1.2 * len(masses) + 4.0), 5.0))
    positions = np.arange(len(masses))
    step = min(0.12, 0.7 / n_clusters)
    for cluster, rows in table.groupby("cluster"):
        middle, bottom, top = (np.asarray(column) for column in bar(rows))
        offset = (cluster - (n_clusters - 1) / 2) * step
        ax.errorbar(positions + offset, middle, yerr=[middle - bottom, top - middle], fmt="o-",
                    color=colors[cluster], linewidth=2, markersize=7, capsize=3, elinewidth=1.5)
    ax.set_xticks(positions, masses)
    ax.set(xlabel="mass", ylabel="scaled intensity", title=f"Cluster profiles: {description}")
    ax.grid(axis="y", alpha=0.4)
    _cluster_legend(ax, colors, legend)
    return ax


@_projector_readable
def plot_parallel_coordinates(values, labels, masses, *, n_samples=1000, random_state=0, names=None, ax=None,
                              cmap="tab10"):
    """Parallel coordinates: one thin line per sampled pixel across the masses, bold cluster means.

    Drawing all 65,536 pixels of a 256 x 256 image hides everything under the last cluster
    drawn; a fixed random sample, drawn in random order, shows the same shapes. The sample is
    stratified: each cluster gets at least ``n_samples / (2 k)`` lines (or all its pixels), so a
    cluster covering 1 % of the image still shows.

    Parameters
    ----------
    values : array_like, shape (y, x, mass) or (pixel, mass)
        The scaled intensities that were clustered.
    labels : array_like of int, shape (y, x) or (pixel,)
        Cluster number 0..k-1 of each pixel.
    masses : sequence of str
        One name per channel (``image.masses``).
    n_samples : int
        Number of pixels (lines) drawn; all pixels if the image has fewer.
    random_state : int
        Seed of the sample, so the figure is the same at every run.
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
        For values, labels or masses that do not match, or ``n_samples`` below 1.

    Examples
    --------
    >>> values = np.random.default_rng(0).random((50, 3))
    >>> ax = plot_parallel_coordinates(values, np.arange(50) % 2, ["12C", "16O", "12C14N"], n_samples=20)
    >>> len(ax.collections[0].get_segments())
    20
    """
    table, flat, n_clusters = pixels_and_labels(values, labels)
    masses = check_masses(masses, table.shape[1])
    rows = _stratified_sample(flat, n_clusters, check_whole_number(n_samples, "n_samples", minimum=1), random_state)
    colors = cluster_colors(n_clusters, cmap)
    legend = _legend_labels(_area_fractions(flat, n_clusters), names)
    positions = np.arange(len(masses))
    ax = ax if ax is not None else _new_axes((max(7.0, 1.2 * len(masses) + 4.0), 5.0))
    segments = np.stack([np.broadcast_to(positions, (rows.size, positions.size)), table[rows]], axis=-1)
    alpha = float(np.clip(200 / rows.size, 0.05, 1.0))
    ax.add_collection(LineCollection(segments, colors=colors[flat[rows]], linewidths=0.8, alpha=alpha))
    outline = [withStroke(linewidth=5, foreground="black")]
    for color, mean in zip(colors, profile_matrix(table, flat)):
        ax.plot(positions, mean, color=color, linewidth=3, path_effects=outline)
    ax.autoscale_view()
    ax.set_xticks(positions, masses)
    ax.grid(axis="x", color="0.3")
    ax.set(xlabel="mass", ylabel="scaled intensity",
           title=f"{rows.size:,} of {flat.size:,} pixels; bold: cluster means")
    _cluster_legend(ax, colors, legend)
    return ax


#: Most images whose names are written under the bars of :func:`plot_cluster_fractions`.
MAX_NAMED_BARS = 40


@_projector_readable
def plot_cluster_fractions(fractions, image_names=None, *, names=None, ax=None, cmap="tab10"):
    """Compare images of a study: one stacked bar per image, its area fraction in each cluster.

    The clusters of one study model (:func:`nanosims_helpers.study.fit_study`) have the same
    numbers in every image, and cluster ``i`` has the same colour here as in the maps.

    Parameters
    ----------
    fractions : array_like, shape (n_images, k)
        Area fraction of each cluster in each image; each row sums to 1.
    image_names : sequence of str, optional
        One name per image, written under its bar (up to :data:`MAX_NAMED_BARS` images; more
        are numbered from 1). Default: 1, 2, ...
    names : sequence of str, optional
        A name for each cluster, shown in the legend (with its mean fraction over the images).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure (wider for more images) by default.
    cmap : str or Colormap
        Palette, see :func:`cluster_colors`.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    NanoSIMSError
        If ``fractions`` is not a table of fractions (values in 0..1, rows summing to 1), or
        the names do not match it.

    Examples
    --------
    >>> ax = plot_cluster_fractions([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], ["a.im", "b.im"])
    >>> len(ax.patches), [t.get_text() for t in ax.get_xticklabels()]
    (6, ['a.im', 'b.im'])
    """
    table = check_finite_array(fractions, "fractions", ndim=(2,))
    if (table < 0).any() or (table > 1).any() or not np.allclose(table.sum(axis=1), 1.0):
        raise NanoSIMSError(
            "fractions: expected area fractions, between 0 and 1 and summing to 1 in each row (image); "
            "divide each image's pixel counts per cluster by its number of pixels."
        )
    n_images, n_clusters = table.shape
    if image_names is None:
        image_names = [str(i + 1) for i in range(n_images)]
    image_names = [str(name) for name in image_names]
    if len(image_names) != n_images:
        raise NanoSIMSError(f"image_names: {len(image_names)} name(s) for {n_images} image(s); give one per row.")
    colors = cluster_colors(n_clusters, cmap)
    ax = ax if ax is not None else _new_axes((min(4.0 + 0.35 * n_images, 16.0), 5.0))
    positions = np.arange(n_images)
    bottoms = np.concatenate([np.zeros((n_images, 1)), np.cumsum(table, axis=1)[:, :-1]], axis=1)
    named = n_images <= MAX_NAMED_BARS
    for cluster in range(n_clusters):
        ax.bar(positions, table[:, cluster], 0.8 if named else 1.0, bottom=bottoms[:, cluster],
               color=colors[cluster], edgecolor="white" if named else "none", linewidth=0.5)
    if named:
        tilted = n_images > 4
        ax.set_xticks(positions, image_names, rotation=45 if tilted else 0, ha="right" if tilted else "center")
        ax.set_xlabel("image")
    else:
        ax.set_xlabel(f"image (1 to {n_images}, in the order of the fractions table)")
    ax.set(xlim=(-0.6, n_images - 0.4), ylim=(0, 1), ylabel="area fraction", title="Cluster fractions per image")
    _cluster_legend(ax, colors, _legend_labels(table.mean(axis=0), names))
    return ax

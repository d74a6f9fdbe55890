"""Plots of NanoSIMS images and their clusterings, readable on a projector.

Every function draws with Matplotlib's object-oriented API and returns what it drew on: an
``Axes`` for single plots (pass ``ax=`` to draw into your own), a ``Figure`` for grids (pass
``fig=``). In a notebook, assign the result (``ax = plot_cluster_map(labels)``) or end the line
with ``;`` so the figure is shown once.

Cluster ``i`` has the same colour in every plot (``cluster_colors``): the map, the profiles, the
parallel coordinates and the PCA scatter can be read side by side. Fonts are enlarged for the back
of a teaching room (``PROJECTOR_STYLE``, applied while each function draws).
"""

from __future__ import annotations

import contextlib
import functools
import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.colors import BoundaryNorm, Colormap, ListedColormap
from matplotlib.patches import Circle, Patch
from matplotlib.patheffects import withStroke
from matplotlib.ticker import MaxNLocator

from .errors import NanoSIMSError
from .image import NanoSIMSImage
from .profiles import (
    check_masses,
    cluster_labels,
    cluster_profiles,
    pixels_and_labels,
    profile_matrix,
    split_by_cluster,
)
from .validation import check_finite_array

PROJECTOR_STYLE = {
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "xtick.labelsize": 12,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "figure.titlesize": 15,
}
"""Matplotlib settings applied while the kit's plot functions draw."""

SPREADS = {
    "iqr": ("median, bars: 25th to 75th percentile", lambda rows: (rows["median"], rows["q25"], rows["q75"])),
    "std": ("mean, bars: ± 1 standard deviation",
            lambda rows: (rows["mean"], rows["mean"] - rows["std"], rows["mean"] + rows["std"])),
}
"""Spread of ``plot_cluster_profiles``: title, and (marker, bar bottom, bar top) from profile rows."""


def _projector_readable(function):
    """Draw with ``PROJECTOR_STYLE``, and settle the layout of a figure the function made itself.

    Constrained layout needs a second pass to make room for a legend outside the axes; without
    it the first ``savefig`` would clip the legend.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with _projector_style():
            drawn = function(*args, **kwargs)
            figure = getattr(drawn, "figure", drawn)
            own_figure = kwargs.get("ax") is None and kwargs.get("fig") is None
            if own_figure and any(ax.get_legend() is not None for ax in figure.axes):
                figure.draw_without_rendering()
        return drawn

    return wrapper


@contextlib.contextmanager
def _projector_style():
    """Apply ``PROJECTOR_STYLE`` and restore only those settings afterwards.

    ``matplotlib.rc_context`` would restore every setting, including the ``interactive`` flag
    that Jupyter's inline backend turns on when the first figure of a session is made, which
    would stop all later figures from showing.
    """
    saved = {key: matplotlib.rcParams[key] for key in PROJECTOR_STYLE}
    matplotlib.rcParams.update(PROJECTOR_STYLE)
    try:
        yield
    finally:
        matplotlib.rcParams.update(saved)


def _new_axes(figsize):
    return plt.subplots(figsize=figsize, layout="constrained")[1]


def _axes_grid(n_panels, ncols, fig, panel_size):
    """A grid of axes for ``n_panels`` panels, the unused ones hidden."""
    ncols = min(_check_positive_int(ncols, "ncols"), n_panels)
    nrows = math.ceil(n_panels / ncols)
    if fig is None:
        fig = plt.figure(figsize=(panel_size[0] * ncols, panel_size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise NanoSIMSError(f"{name}: expected a whole number of at least 1, got {value!r}.")
    return int(value)


def _check_percentile_range(percentile, name):
    try:
        lower, upper = (float(p) for p in percentile)
    except (TypeError, ValueError) as exc:
        raise NanoSIMSError(f"{name}: expected two percentiles (lower, upper), got {percentile!r}.") from exc
    if not 0 <= lower < upper <= 100:
        raise NanoSIMSError(f"{name}={percentile!r}: need 0 <= lower < upper <= 100, for example (1, 99).")
    return lower, upper


def cluster_colors(n_clusters, cmap="tab10") -> np.ndarray:
    """RGBA colour of each cluster; row ``i`` is the colour of cluster ``i`` in every plot.

    A qualitative colormap (fewer than 256 colours, such as ``"tab10"``) gives its colours in
    order, so cluster 2 is the same colour whatever k is. When there are more clusters than the
    palette has colours, the colours are spread over ``"turbo"`` instead; a continuous colormap
    (``"viridis"``) is always sampled evenly, leaving out its extreme 5 % at each end (the
    near-black ends of ``"turbo"``).

    Parameters
    ----------
    n_clusters : int
        Number of clusters k.
    cmap : str or matplotlib.colors.Colormap
        Palette; the default ``"tab10"`` has 10 well-separated colours.

    Returns
    -------
    ndarray, shape (n_clusters, 4)

    Raises
    ------
    NanoSIMSError
        If ``n_clusters`` is not a positive whole number or ``cmap`` is not a colormap name.

    Examples
    --------
    >>> colors = cluster_colors(3)
    >>> colors.shape, bool((colors[:2] == cluster_colors(7)[:2]).all())
    ((3, 4), True)
    """
    n_clusters = _check_positive_int(n_clusters, "n_clusters")
    if isinstance(cmap, Colormap):
        colormap = cmap
    else:
        try:
            colormap = matplotlib.colormaps[cmap]
        except (KeyError, TypeError) as exc:
            raise NanoSIMSError(
                f"cmap={cmap!r}: not a Matplotlib colormap; try 'tab10' (up to 10 clusters) or 'tab20'."
            ) from exc
    if isinstance(colormap, ListedColormap) and colormap.N < 256:
        if n_clusters <= colormap.N:
            return colormap(np.arange(n_clusters))
        colormap = matplotlib.colormaps["turbo"]
    return colormap(np.linspace(0.05, 0.95, n_clusters))


def _check_names(names, n_clusters, *, allow_more=False):
    """``names`` as a list of str, one per cluster (or more, for maps of named classes)."""
    names = [str(name) for name in names]
    if len(names) < n_clusters or (len(names) > n_clusters and not allow_more):
        raise NanoSIMSError(
            f"names: {len(names)} name(s) {names} for cluster numbers 0..{n_clusters - 1}; "
            "give one name per cluster."
        )
    return names


def _legend_labels(fractions, names):
    """``"cluster 0 (35.2 %)"`` or, with names, ``"0: organic matter (35.2 %)"``, from area fractions."""
    if names is None:
        names = [f"cluster {i}" for i in range(len(fractions))]
    else:
        names = [f"{i}: {name}" for i, name in enumerate(_check_names(names, len(fractions)))]
    return [f"{name} ({100 * fraction:.1f} %)" for name, fraction in zip(names, fractions)]


def _area_fractions(flat, n_clusters):
    return np.bincount(flat, minlength=n_clusters) / flat.size


def _cluster_legend(ax, colors, labels):
    """One colour swatch per cluster, outside the axes on the right."""
    handles = [
        Patch(facecolor=color, edgecolor="black", linewidth=0.5, label=label)
        for color, label in zip(colors, labels)
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        ncols=1 if len(handles) <= 12 else 2,
        frameon=False,
    )


def _stratified_sample(flat, n_clusters, n_samples, random_state):
    """Indices of ``n_samples`` pixels (all pixels if fewer), in random order.

    Each cluster first gets ``n_samples // (2 k)`` pixels (or all of its pixels if it has fewer), so
    that small clusters show; the rest is shared in proportion to the pixels left in each cluster.
    """
    if n_samples >= flat.size:
        return np.random.default_rng(random_state).permutation(flat.size)
    counts = np.bincount(flat, minlength=n_clusters)
    floor = np.minimum(counts, n_samples // (2 * n_clusters))
    spare = counts - floor
    share = (n_samples - floor.sum()) * spare / spare.sum()
    quota = floor + np.floor(share).astype(int)
    leftover = n_samples - quota.sum()
    quota[np.argsort(np.floor(share) - share, kind="stable")[:leftover]] += 1
    rng = np.random.default_rng(random_state)
    members = split_by_cluster(np.arange(flat.size), flat, n_clusters)
    chosen = np.concatenate([rng.choice(pixels, size, replace=False) for pixels, size in zip(members, quota)])
    return rng.permutation(chosen)


@_projector_readable
def plot_channels(image, *, cmap="viridis", percentile=(1, 99), ncols=4, fig=None):
    """Show every mass channel of an image, each with its own colour scale in counts.

    Parameters
    ----------
    image : NanoSIMSImage
        The image to show.
    cmap : str
        Colormap of the channels. ``"viridis"`` reads as brightness and survives grey-scale
        printing and colour blindness, unlike ``"jet"``.
    percentile : (float, float)
        Contrast: the colour scale runs from these percentiles of each channel, so a few hot
        pixels do not leave the rest of the channel dark. Brighter or darker pixels are drawn in
        the end colours (arrows on the colour bar).
    ncols : int
        Panels per row.
    fig : matplotlib.figure.Figure, optional
        Empty figure to draw into; a new one by default.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    NanoSIMSError
        If ``image`` is not a NanoSIMSImage, or ``percentile`` or ``ncols`` are invalid.

    Examples
    --------
    >>> image = NanoSIMSImage(np.arange(32.0).reshape(4, 4, 2), ("12C", "16O"))
    >>> [ax.get_title() for ax in plot_channels(image).axes if ax.images]
    ['12C', '16O']
    """
    if not isinstance(image, NanoSIMSImage):
        raise NanoSIMSError(
            f"image: expected a NanoSIMSImage, got {type(image).__name__}; load one with load_image(path)."
        )
    lower, upper = _check_percentile_range(percentile, "percentile")
    fig, axes = _axes_grid(image.shape[2], ncols, fig, panel_size=(3.8, 3.3))
    for index, ax in enumerate(axes):
        channel = image.counts[:, :, index]
        vmin, vmax = np.percentile(channel, (lower, upper))
        shown = ax.imshow(channel, cmap=cmap, vmin=vmin, vmax=max(vmax, vmin + 1.0), interpolation="nearest")
        ax.set(title=image.masses[index], xticks=[], yticks=[])
        fig.colorbar(shown, ax=ax, label="counts", extend="both", shrink=0.9)
    field = "" if image.pixel_size_um is None else f", {image.shape[1] * image.pixel_size_um:.3g} µm wide"
    fig.suptitle(f"{image.name}{field}; colour scale per channel: percentiles {lower:g} to {upper:g}")
    return fig


@_projector_readable
def plot_cluster_map(labels, *, names=None, ax=None, cmap="tab10"):
    """Show a label map with one colour per cluster and a legend of cluster areas.

    Parameters
    ----------
    labels : array_like of int, shape (y, x)
        Cluster number 0..k-1 of each pixel.
        A cluster number may have no pixels (a true phase absent from this image): it is listed
        with 0.0 %.
    names : sequence of str, optional
        A name for each cluster number (``"organic matter"`` ...), shown in the legend; the
        names fix k, so ``names=PHASES`` lists every phase even if the map lacks the last ones.
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
        If ``labels`` is not a (y, x) map of whole numbers from 0, or there are fewer ``names``
        than cluster numbers.

    Examples
    --------
    >>> ax = plot_cluster_map(np.array([[0, 0], [1, 2]]))
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['cluster 0 (50.0 %)', 'cluster 1 (25.0 %)', 'cluster 2 (25.0 %)']
    """
    label_map = np.asarray(labels)
    if label_map.ndim != 2:
        raise NanoSIMSError(
            f"labels: expected a (y, x) label map, got shape {label_map.shape}; "
            "reshape flat labels with labels.reshape(image.shape[:2])."
        )
    flat, n_clusters = cluster_labels(label_map, label_map.shape, allow_empty=True)
    if names is not None:
        names = _check_names(names, n_clusters, allow_more=True)
        n_clusters = len(names)
    colors = cluster_colors(n_clusters, cmap)
    legend = _legend_labels(_area_fractions(flat, n_clusters), names)
    ax = ax if ax is not None else _new_axes((7.5, 5.5))
    norm = BoundaryNorm(np.arange(n_clusters + 1) - 0.5, n_clusters)
    ax.imshow(label_map, cmap=ListedColormap(colors), norm=norm, interpolation="nearest")
    ax.set(title=f"{n_clusters} clusters", xticks=[], yticks=[])
    _cluster_legend(ax, colors, legend)
    return ax


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
    rows = _stratified_sample(flat, n_clusters, _check_positive_int(n_samples, "n_samples"), random_state)
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
    rows = _stratified_sample(flat, n_clusters, _check_positive_int(n_samples, "n_samples"), random_state)
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


@_projector_readable
def plot_comparison(maps, *, ncols=3, cmap="tab10", fig=None):
    """Show several label maps side by side, titled, for comparing clusterings.

    Cluster numbers of two clusterings need not match (cluster 0 of one may be cluster 2 of the
    other): compare shapes, not colours.

    Parameters
    ----------
    maps : dict of str to label map
        Title -> (y, x) label map, or an object with a ``labels`` attribute such as a
        ``ClusterResult``.
    ncols : int
        Panels per row.
    cmap : str or Colormap
        Palette, see :func:`cluster_colors`.
    fig : matplotlib.figure.Figure, optional
        Empty figure to draw into; a new one by default.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    NanoSIMSError
        If ``maps`` is empty or not a dict, or a map is not a (y, x) label map.

    Examples
    --------
    >>> maps = {"k-means": np.array([[0, 1], [1, 1]]), "PCA + k-means": np.array([[0, 0], [1, 1]])}
    >>> [ax.get_title() for ax in plot_comparison(maps).axes]
    ['k-means', 'PCA + k-means']
    """
    if not isinstance(maps, dict) or not maps:
        raise NanoSIMSError("maps: expected a non-empty dict of title -> label map: {'k-means': labels}.")
    fig, axes = _axes_grid(len(maps), ncols, fig, panel_size=(6.0, 4.5))
    for ax, (title, labels) in zip(axes, maps.items()):
        plot_cluster_map(getattr(labels, "labels", labels), ax=ax, cmap=cmap)
        ax.set_title(title)
    return fig

"""Image-shaped plots: the mass channels, a cluster map, and label maps side by side."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap

from ..errors import NanoSIMSError
from ..io.image import check_image
from ..validation import check_cluster_labels, check_percentile_range
from .style import (
    _area_fractions,
    _axes_grid,
    _check_names,
    _cluster_legend,
    _legend_labels,
    _new_axes,
    _projector_readable,
    cluster_colors,
)


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
    >>> from nanosims_helpers import NanoSIMSImage
    >>> image = NanoSIMSImage(np.arange(32.0).reshape(4, 4, 2), ("12C", "16O"))
    >>> [ax.get_title() for ax in plot_channels(image).axes if ax.images]
    ['12C', '16O']
    """
    check_image(image)
    lower, upper = check_percentile_range(percentile, "percentile")
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
def plot_cluster_map(labels, *, names=None, ax=None, cmap="tab10", n_clusters=None):
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
    n_clusters : int, optional
        Number of clusters of the model that made the map (a study model labels every image
        with the same k, and one image may lack the last clusters): fixes the colours and the
        legend, as ``names`` does. By default the largest cluster number + 1.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    NanoSIMSError
        If ``labels`` is not a (y, x) map of whole numbers from 0, or there are fewer ``names``
        (or a smaller ``n_clusters``) than cluster numbers.

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
    flat, n_clusters = check_cluster_labels(label_map, label_map.shape, allow_empty=True, n_clusters=n_clusters)
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

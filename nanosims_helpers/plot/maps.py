"""Image-shaped plots: the mass channels, a cluster map, label maps side by side, and an overview of both."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure

from ..errors import NanoSIMSError
from ..image import check_image
from ..metrics import match_labels
from ..validation import check_cluster_labels, check_finite_array, check_percentile_range, check_whole_number
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
    >>> from nanosims_helpers.image import NanoSIMSImage
    >>> image = NanoSIMSImage(np.arange(32.0).reshape(4, 4, 2), ("12C", "16O"))
    >>> [ax.get_title() for ax in plot_channels(image).axes if ax.images]
    ['12C', '16O']
    """
    check_image(image)
    lower, upper = check_percentile_range(percentile, "percentile")
    fig, axes = _axes_grid(image.shape[2], ncols, fig, panel_size=(3.8, 3.3))
    for index, ax in enumerate(axes):
        channel = image.counts[:, :, index]
        vmin, vmax = _contrast_range(channel, lower, upper)
        shown = ax.imshow(channel, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set(title=image.masses[index], xticks=[], yticks=[])
        fig.colorbar(shown, ax=ax, label="counts", extend="both", shrink=0.9)
    fig.suptitle(_channels_caption(image, lower, upper))
    return fig


def _contrast_range(channel, lower, upper):
    """The colour scale of one channel: its ``lower`` and ``upper`` percentiles, at least 1 count apart."""
    vmin, vmax = np.percentile(channel, (lower, upper))
    return vmin, max(vmax, vmin + 1.0)


def _channels_caption(image, lower, upper):
    field = "" if image.pixel_size_um is None else f", {image.shape[1] * image.pixel_size_um:.3g} µm wide"
    return f"{image.name}{field}; colour scale per channel: percentiles {lower:g} to {upper:g}"


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
    _draw_labels(ax, label_map, colors)
    ax.set(title=f"{n_clusters} clusters", xticks=[], yticks=[])
    _cluster_legend(ax, colors, legend)
    return ax


def _draw_labels(ax, label_map, colors, **imshow_options):
    """Draw cluster ``i`` of ``label_map`` in ``colors[i]``, every pixel as it is (no interpolation)."""
    norm = BoundaryNorm(np.arange(len(colors) + 1) - 0.5, len(colors))
    ax.imshow(label_map, cmap=ListedColormap(colors), norm=norm, interpolation="nearest", **imshow_options)


@_projector_readable
def plot_comparison(maps, *, ncols=3, cmap="tab10", fig=None, match_to=None):
    """Show several label maps side by side, titled, for comparing clusterings.

    Cluster numbers of two clusterings need not match (cluster 0 of one may be cluster 2 of the
    other): compare shapes, not colours, or give ``match_to``.

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
    match_to : str, optional
        Title of the map the others are matched to, e.g. ``"true phases"``: every other map's
        clusters are renumbered after the groups of that map they share most pixels with
        (:func:`nanosims_helpers.metrics.match_labels`), so the same colour means the same
        phase in every panel.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    NanoSIMSError
        If ``maps`` is empty or not a dict, a map is not a (y, x) label map, or ``match_to``
        is not one of the titles.

    Examples
    --------
    >>> maps = {"k-means": np.array([[0, 1], [1, 1]]), "PCA + k-means": np.array([[0, 0], [1, 1]])}
    >>> [ax.get_title() for ax in plot_comparison(maps).axes]
    ['k-means', 'PCA + k-means']
    >>> truth = {"truth": np.array([[0, 1], [1, 1]]), "swapped": np.array([[1, 0], [0, 0]])}
    >>> [ax.get_images()[0].get_array().tolist() for ax in plot_comparison(truth, match_to="truth").axes]
    [[[0, 1], [1, 1]], [[0, 1], [1, 1]]]
    """
    if not isinstance(maps, dict) or not maps:
        raise NanoSIMSError("maps: expected a non-empty dict of title -> label map: {'k-means': labels}.")
    maps = {title: getattr(labels, "labels", labels) for title, labels in maps.items()}
    n_clusters = None
    if match_to is not None:
        if match_to not in maps:
            raise NanoSIMSError(f"match_to={match_to!r}: not one of the titles {list(maps)}.")
        maps = {title: labels if title == match_to else match_labels(labels, maps[match_to])
                for title, labels in maps.items()}
        n_clusters = max(int(np.max(labels)) for labels in maps.values()) + 1  # one colour per number
    fig, axes = _axes_grid(len(maps), ncols, fig, panel_size=(6.0, 4.5))
    for ax, (title, labels) in zip(axes, maps.items()):
        plot_cluster_map(labels, ax=ax, cmap=cmap, n_clusters=n_clusters)
        ax.set_title(title)
    return fig


#: Dots per inch at which :func:`plot_overview` draws one screen pixel per pixel of its layout.
OVERVIEW_DPI = 80
#: Largest side, in screen pixels, of each ion image and of the cluster map in :func:`plot_overview`.
OVERVIEW_PANEL = 256
OVERVIEW_MAP = 512
#: Colour scale of the confidence map in :func:`plot_overview`: from a coin toss between two clusters to sure.
CONFIDENCE_RANGE = (0.5, 1.0)
_MARGIN, _HEADER, _GAP, _ABOVE, _BELOW, _STRIP, _LEGEND = 16, 64, 24, 28, 40, 10, 260


@_projector_readable
def plot_overview(image, labels, *, title=None, n_clusters=None, ncols=4, cmap="viridis", percentile=(1, 99),
                  confidence=None):
    """One figure of an image and its clustering: every ion image with its colour scale, then the cluster map.

    Made to be saved for many images (``nanosims-cluster`` writes one per image): everything is
    drawn in one frameless axes on a fixed grid of screen pixels, so the figure needs no layout
    pass. Each ion image is drawn 256 screen pixels on its longer side, with its mass name above
    and its colour scale below (the colours span the ``percentile`` range of that channel; pixels
    beyond it take the end colours); the cluster map is drawn 512 pixels on its longer side, with
    a legend of the clusters' areas, and below it the ``confidence`` map where one is given. Save
    it at ``dpi=OVERVIEW_DPI`` for one screen pixel per pixel of the layout.

    Parameters
    ----------
    image : NanoSIMSImage
        The image to show.
    labels : array_like of int, shape (y, x)
        Cluster number 0..k-1 of each pixel of ``image``.
    title : str, optional
        First line of the figure; the image's name by default.
    n_clusters : int, optional
        Number of clusters of the model that made the map, when the image may lack the last
        ones (a study model): fixes the colours and the legend, as in :func:`plot_cluster_map`.
    ncols : int
        Ion images per row.
    cmap : str
        Colormap of the ion images.
    percentile : (float, float)
        Contrast of each ion image, as in :func:`plot_channels`.
    confidence : array_like of float, shape (y, x), optional
        Each pixel's probability of its cluster (``ClusterResult.confidence`` of the methods that
        give one), drawn like an ion image on a fixed scale from 0.5 (a coin toss between two
        clusters, and below) to 1 (sure).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    NanoSIMSError
        If ``image`` is not a NanoSIMSImage, ``labels`` is not a label map of its pixels, or
        ``n_clusters``, ``ncols``, ``percentile`` or ``confidence`` are invalid.

    Examples
    --------
    >>> from nanosims_helpers.image import NanoSIMSImage
    >>> image = NanoSIMSImage(np.arange(32.0).reshape(4, 4, 2), ("12C", "16O"))
    >>> figure = plot_overview(image, np.array([[0, 0, 1, 1]] * 4), title="demo")
    >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    ['cluster 0 (50.0 %)', 'cluster 1 (50.0 %)']
    """
    check_image(image)
    lower, upper = check_percentile_range(percentile, "percentile")
    flat, n_clusters = check_cluster_labels(labels, image.shape[:2], allow_empty=True, n_clusters=n_clusters)
    n_masses = image.shape[2]
    ncols = min(check_whole_number(ncols, "ncols", minimum=1), n_masses)
    panel, drawn_map = _fitted(image.shape[:2], OVERVIEW_PANEL), _fitted(image.shape[:2], OVERVIEW_MAP)
    if confidence is not None:
        confidence = check_finite_array(confidence, "confidence", ndim=(2,))
        if confidence.shape != image.shape[:2]:
            raise NanoSIMSError(f"confidence has shape {confidence.shape}, but the image has {image.shape[:2]} pixels; "
                                "pass the confidence map of this image's clustering.")
    row_height = _ABOVE + panel[0] + _BELOW
    map_top = _HEADER + math.ceil(n_masses / ncols) * row_height + _ABOVE
    width = max(ncols * (OVERVIEW_PANEL + _GAP) - _GAP, OVERVIEW_MAP + _LEGEND) + 2 * _MARGIN
    below_map = map_top + drawn_map[0] + (0 if confidence is None else _BELOW + _ABOVE + panel[0] + _BELOW)
    figure, ax = _pixel_axes(width, below_map + _MARGIN)
    ax.text(width / 2, 6, title or image.name, ha="center", va="top", fontsize="x-large")
    ax.text(width / 2, 34, _channels_caption(image, lower, upper), ha="center", va="top")
    for index in range(n_masses):
        row, col = divmod(index, ncols)
        left = _MARGIN + col * (OVERVIEW_PANEL + _GAP) + (OVERVIEW_PANEL - panel[1]) // 2
        channel = image.counts[:, :, index]
        _draw_panel(ax, channel, image.masses[index], (_HEADER + row * row_height + _ABOVE, left), panel, cmap,
                    _contrast_range(channel, lower, upper), "counts")
    left = _MARGIN + (width - 2 * _MARGIN - OVERVIEW_MAP - _LEGEND) // 2 + (OVERVIEW_MAP - drawn_map[1]) // 2
    colors = cluster_colors(n_clusters)
    _draw_labels(ax, flat.reshape(image.shape[:2]), colors, extent=_extent((map_top, left), drawn_map))
    ax.text(left + drawn_map[1] / 2, map_top - 4, f"{n_clusters} clusters", ha="center", va="bottom", fontsize="large")
    legend = _legend_labels(_area_fractions(flat, n_clusters), None)
    _cluster_legend(ax, colors, legend, anchor=(left + drawn_map[1] + 12, map_top), transform=ax.transData)
    if confidence is not None:
        _draw_panel(ax, confidence, "confidence", (map_top + drawn_map[0] + _BELOW + _ABOVE, left), panel, "magma",
                    CONFIDENCE_RANGE, "probability of its cluster")
    return figure


def _fitted(shape, longest):
    """(height, width) in screen pixels of an image of ``shape`` drawn ``longest`` pixels on its longer side."""
    scale = longest / max(shape)
    return round(shape[0] * scale), round(shape[1] * scale)


def _extent(corner, size):
    """``imshow``'s extent (left, right, bottom, top) of a box of ``size`` (height, width) at ``corner`` (top, left)."""
    (top, left), (height, width) = corner, size
    return left, left + width, top + height, top


def _pixel_axes(width, height):
    """A figure of ``width`` x ``height`` screen pixels (at ``OVERVIEW_DPI``) and one frameless axes over all of it,
    its data coordinates the screen pixels from the top left corner."""
    figure = Figure(figsize=(width / OVERVIEW_DPI, height / OVERVIEW_DPI), dpi=OVERVIEW_DPI)
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set(xlim=(0, width), ylim=(height, 0))
    ax.set_axis_off()
    return figure, ax


def _draw_panel(ax, values, name, corner, size, cmap, limits, unit):
    """One map of ``values`` at ``corner`` (top, left), ``size`` screen pixels: its name above, its colour scale
    from ``limits`` (vmin, vmax) in ``unit`` below."""
    vmin, vmax = limits
    shrunk = size[1] < values.shape[1]
    ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, extent=_extent(corner, size),
              interpolation="antialiased" if shrunk else "nearest")
    top, left = corner
    ax.text(left + size[1] / 2, top - 4, name, ha="center", va="bottom", fontsize="large")
    strip = top + size[0] + 6
    left = left + size[1] / 2 - OVERVIEW_PANEL / 2
    ax.imshow(np.linspace(0.0, 1.0, OVERVIEW_PANEL)[None], cmap=cmap, aspect="auto", interpolation="nearest",
              extent=_extent((strip, left), (_STRIP, OVERVIEW_PANEL)))
    below = strip + _STRIP + 2
    ax.text(left, below, f"≤ {_rounded(vmin)}", ha="left", va="top")
    ax.text(left + OVERVIEW_PANEL / 2, below, unit, ha="center", va="top")
    ax.text(left + OVERVIEW_PANEL, below, f"≥ {_rounded(vmax)}", ha="right", va="top")


def _rounded(value):
    """``value`` to 3 significant digits, without an exponent below a million.

    Examples
    --------
    >>> _rounded(6034.2), _rounded(12.0), _rounded(0.25)
    ('6030', '12', '0.25')
    """
    return f"{float(f'{value:.3g}'):g}"

"""What every plot of the kit shares: projector style, cluster colours and legend, panel grids.

Private to the plotting modules (:mod:`~nanosims_helpers.plot.maps`,
:mod:`~nanosims_helpers.plot.profiles`, :mod:`~nanosims_helpers.plot.scatter`); users import
from :mod:`nanosims_helpers.plot`.
"""

from __future__ import annotations

import contextlib
import functools
import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Colormap, ListedColormap
from matplotlib.patches import Patch

from ..errors import NanoSIMSError
from ..profiles import split_by_cluster
from ..validation import check_whole_number

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
            has_legend = any(ax.get_legend() is not None for ax in figure.axes)
            if own_figure and has_legend and figure.get_layout_engine() is not None:
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
    ncols = min(check_whole_number(ncols, "ncols", minimum=1), n_panels)
    nrows = math.ceil(n_panels / ncols)
    if fig is None:
        fig = plt.figure(figsize=(panel_size[0] * ncols, panel_size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


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
    n_clusters = check_whole_number(n_clusters, "n_clusters", minimum=1)
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


def _cluster_legend(ax, colors, labels, anchor=(1.02, 1.0), transform=None):
    """One colour swatch per cluster, its upper left corner at ``anchor``: by default outside the axes on the right.

    ``transform`` says what ``anchor`` is in: the axes' fraction by default, ``ax.transData`` for data.
    """
    handles = [
        Patch(facecolor=color, edgecolor="black", linewidth=0.5, label=label)
        for color, label in zip(colors, labels)
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=anchor,
        bbox_transform=transform,
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

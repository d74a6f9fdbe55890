"""What the explorer shows, as plain functions: settings in, PNG images and tables out.

The widgets of :mod:`nanosims_helpers.explorer` only read their controls and call these
functions, so everything shown can be tested without a browser. Invalid settings (no mass
selected, too many principal components, more clusters than distinct pixels) never raise
here: the view carries a ``message`` saying what to change, and no images.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.image import imsave

from ..errors import NanoSIMSError
from ..image import NanoSIMSImage
from ..isotopes import DEFAULT_RATIOS, isotope_table
from ..metrics import adjusted_rand
from ..naming import merge_clusters, name_clusters
from ..plot import cluster_colors, plot_cluster_profiles
from ..preprocessing import ratio_image
from ..validation import check_percentile_range
from .state import ExplorerState, Settings

__all__ = [
    "ChannelView", "ClusterView", "ComparisonView", "channel_view", "cluster_view", "comparison_view",
    "legend_html", "map_png", "scores_frame",
]

#: Resolution of the explorer's images: small PNGs keep every update quick.
DPI = 80

#: What each score rewards, shown next to its value.
SCORE_DIRECTIONS = {
    "silhouette": "higher is better (-1 to 1)",
    "calinski_harabasz": "higher is better",
    "davies_bouldin": "lower is better",
    "entropy": "lower is better",
    "adjusted_rand": "agreement with the reference, 1 = same",
}


@dataclass(frozen=True)
class ClusterView:
    """What the cluster explorer shows for one setting.

    Attributes
    ----------
    map_png, profiles_png : bytes
        PNG images of the cluster map and of the cluster profiles; empty when ``message``.
    legend : str
        HTML legend of the map (see :func:`legend_html`).
    scores : pandas.DataFrame or None
        One row per score: value and what it rewards.
    message : str
        Why nothing could be computed, or notes from preprocessing; "" when all is well.
    names : list of str
        The name of each cluster shown (after merges).
    isotopes : pandas.DataFrame or None
        Atom % per named cluster (:func:`isotope_table_frame`), where the image has the masses.
    """

    map_png: bytes = b""
    profiles_png: bytes = b""
    legend: str = ""
    scores: pd.DataFrame | None = None
    message: str = ""
    names: tuple = ()
    isotopes: pd.DataFrame | None = None


@dataclass(frozen=True)
class ChannelView:
    """One channel (or ratio) image as PNG, or a message saying what to change."""

    png: bytes = b""
    message: str = ""


@dataclass(frozen=True)
class ComparisonView:
    """Two cluster maps (PNG) and legends (HTML) and their adjusted Rand index (None with a message)."""

    left_png: bytes = b""
    right_png: bytes = b""
    left_legend: str = ""
    right_legend: str = ""
    adjusted_rand: float | None = None
    message: str = ""


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def _figure(width: float, height: float = 3.4) -> Figure:
    """A figure outside pyplot: never shown twice by the notebook, freed with its last reference."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def map_png(labels: np.ndarray) -> bytes:
    """PNG of a cluster map, one pixel per image pixel, in the kit's cluster colours.

    Drawn straight from the colours (milliseconds) rather than through a Matplotlib figure
    (a few hundred milliseconds); :func:`legend_html` gives the legend.

    Examples
    --------
    >>> map_png(np.array([[0, 1], [1, 2]]))[:4]
    b'\\x89PNG'
    """
    rgb = cluster_colors(int(labels.max()) + 1)[labels][..., :3]
    buffer = io.BytesIO()
    imsave(buffer, rgb, format="png")
    return buffer.getvalue()


def legend_html(labels: np.ndarray, title: str, names=None) -> str:
    """HTML legend of a cluster map: a title, then a colour swatch, the name and the area of each cluster.

    Examples
    --------
    >>> "cluster 1 (75.0 %)" in legend_html(np.array([[0, 1], [1, 1]]), "k = 2")
    True
    >>> "1: cells (75.0 %)" in legend_html(np.array([[0, 1], [1, 1]]), "k = 2", ["soil", "cells"])
    True
    """
    n_clusters = int(labels.max()) + 1
    fractions = np.bincount(labels.ravel(), minlength=n_clusters) / labels.size
    shown = [f"cluster {i}" for i in range(n_clusters)] if names is None else [
        f"{i}: {html.escape(name)}" for i, name in enumerate(name_clusters(n_clusters, names))]
    rows = "".join(
        f'<div><span style="display:inline-block;width:1.2em;height:0.9em;background:{to_hex(color)};'
        f'border:1px solid #333;margin-right:0.4em"></span>{name} ({100 * fraction:.1f} %)</div>'
        for name, color, fraction in zip(shown, cluster_colors(n_clusters), fractions)
    )
    return f"<div><b>{title}</b>{rows}</div>"


def scores_frame(scores: dict[str, float]) -> pd.DataFrame:
    """Scores as a table: one row per score, its value and what it rewards.

    Examples
    --------
    >>> float(scores_frame({"silhouette": 0.51234}).loc["silhouette", "value"])
    0.512
    """
    return pd.DataFrame(
        {"value": [round(float(value), 3) for value in scores.values()],
         "meaning": [SCORE_DIRECTIONS.get(name, "") for name in scores]},
        index=pd.Index(list(scores), name="score"),
    )


def cluster_view(state: ExplorerState, settings: Settings, names=None, merges=()) -> ClusterView:
    """Cluster map, profiles, scores and atom % of the clustering ``settings`` choose.

    Parameters
    ----------
    state : ExplorerState
        The image and its caches: a new k reuses the preprocessing, PCA and Ward tree.
    settings : Settings
        The choice of every control.
    names : sequence of str, optional
        Name of each cluster after the merges (see :func:`nanosims_helpers.naming.name_clusters`).
    merges : sequence of (int, int)
        Pairs of clusters merged one after the other (:func:`nanosims_helpers.naming.merge_clusters`);
        the scores stay those of the clustering itself.

    Returns
    -------
    ClusterView
        With ``message`` (and no images) when the settings cannot be used.

    Examples
    --------
    >>> counts = np.zeros((4, 6, 2))
    >>> counts[:, 3:] = [30.0, 2.0]
    >>> counts[:, :3] = [1.0, 25.0]
    >>> state = ExplorerState(NanoSIMSImage(counts, ("12C", "16O")))
    >>> cluster_view(state, Settings(masses=())).message
    'masses: no mass selected; select at least one (ctrl- or shift-click in the list).'
    """
    try:
        checked = state.check(settings)
        labels = state.labels(checked)
        scores = scores_frame(state.scores(checked))
        features, notes = state.features(checked)
        for pair in merges:
            labels = merge_clusters(labels, pair)[0]
        given = names
        names = name_clusters(int(labels.max()) + 1, names)
    except NanoSIMSError as error:
        return ClusterView(message=str(error))
    isotopes, isotope_note = isotope_table_frame(state.image, labels, names, checked.masses)
    profiles = _figure(1.0 * len(checked.masses) + 3.6)
    plot_cluster_profiles(features, labels, list(checked.masses), names=given, ax=profiles.add_subplot())
    legend = legend_html(labels, checked.describe(), given)
    return ClusterView(map_png(labels), _png(profiles), legend, scores, " ".join([*notes, isotope_note]).strip(),
                       tuple(names), isotopes)


def isotope_table_frame(image: NanoSIMSImage, labels: np.ndarray, names, masses=()) -> tuple[pd.DataFrame | None, str]:
    """Atom % (with 1 SE) per named cluster for the default ratios the image has, and a note.

    ``masses`` are those the clusters were found on. A ratio none of whose masses were clustered is
    tested (``*``: enriched, Benjamini-Hochberg adjusted p < 0.05) on all counts, which the
    clustering never saw. A ratio with a clustered mass is shown without a test, its column saying
    so (``"13C/12C atom % (clustered on these counts: no test)"``): the clusters chose their pixels
    partly by those counts, so a test would find enrichment in unlabelled images and the atom %
    lean towards the counts that chose each cluster (see :mod:`nanosims_helpers.isotopes`).
    Deselect the ratio's masses to test it here, or use ``cluster_image(image, k, ratios=...)``.

    Returns ``(None, "")`` for an image without any of those masses, and ``(None, reason)`` when the
    table cannot be made (e.g. a cluster of one pixel).

    Examples
    --------
    >>> counts = np.ones((2, 2, 3)) * [1000.0, 11.0, 50.0]
    >>> image = NanoSIMSImage(counts, ("12C", "13C", "16O"))
    >>> table, note = isotope_table_frame(image, np.array([[0, 0], [1, 1]]), ["a", "b"], masses=("16O",))
    >>> table.columns.tolist(), note
    (['name', '13C/12C atom %'], '')
    >>> isotope_table_frame(image, np.array([[0, 0], [1, 1]]), ["a", "b"], masses=("12C", "16O"))[0].columns[1]
    '13C/12C atom % (clustered on these counts: no test)'
    """
    known = {mass.replace(" ", "") for mass in image.masses}
    ratios = [ratio for ratio in DEFAULT_RATIOS if set(ratio) <= known]
    if not ratios:
        return None, ""
    clustered = {mass.replace(" ", "") for mass in masses}
    untested = [f"{num}/{den}" for num, den in ratios if {num, den} & clustered]
    try:
        table = isotope_table(image, np.array(labels), ratios, names)  # a copy: the rule above decides
    except NanoSIMSError as error:
        return None, f"Isotope table: {error}"
    circular = table["ratio"].isin(untested)
    table["isotope"] += np.where(circular, " atom % (clustered on these counts: no test)", " atom %")
    table["shown"] = [f"{p:.3f} ± {se:.3f}{' *' if star else ''}" for p, se, star in
                      zip(table["atom_percent"], table["atom_percent_se"], table["enriched"] & ~circular)]
    wide = table.pivot(index="cluster", columns="isotope", values="shown")
    return wide.reset_index(drop=True).assign(name=names)[["name", *wide.columns]], ""


def channel_view(image: NanoSIMSImage, mass: str, *, cmap: str = "viridis", percentile=(1.0, 99.0),
                 ratio_to: str | None = None) -> ChannelView:
    """One mass channel, or the ratio of two masses, with a contrast set by percentiles.

    Parameters
    ----------
    image : NanoSIMSImage
        The image.
    mass : str
        Mass to show (the numerator of a ratio).
    cmap : str
        Matplotlib colormap name.
    percentile : (float, float)
        The colour scale runs from these percentiles of the shown values (0 <= lower < upper <= 100).
    ratio_to : str, optional
        Denominator mass: show ``mass / ratio_to`` (:func:`nanosims_helpers.preprocessing.ratio_image`;
        pixels with less than one denominator count are left blank).

    Returns
    -------
    ChannelView
        With ``message`` (and no image) for an unknown mass or colormap, or bad percentiles.

    Examples
    --------
    >>> image = NanoSIMSImage(np.arange(1.0, 33.0).reshape(4, 4, 2), ("12C", "16O"))
    >>> channel_view(image, "12C", ratio_to="16O").png[:4]
    b'\\x89PNG'
    >>> channel_view(image, "13C").message
    "image: no mass '13C'; this image has ['12C', '16O']."
    """
    try:
        values, title, unit = _channel_values(image, mass, ratio_to)
        lower, upper = check_percentile_range(percentile)
        fig = _figure(5.2, 4.2)
        ax = fig.add_subplot()
        vmin, vmax = np.nanpercentile(values, (lower, upper))
        shown = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=max(vmax, vmin + 1e-9), interpolation="nearest")
    except (NanoSIMSError, ValueError) as error:
        return ChannelView(message=str(error))
    ax.set(title=f"{title}  (percentiles {lower:g} to {upper:g})", xticks=[], yticks=[])
    fig.colorbar(shown, ax=ax, label=unit, extend="both", shrink=0.9)
    return ChannelView(_png(fig))


def _channel_values(image: NanoSIMSImage, mass: str, ratio_to: str | None):
    if ratio_to is None:
        return image.channel(mass), mass, "counts"
    return ratio_image(image, mass, ratio_to), f"{mass} / {ratio_to}", "ratio"


def comparison_view(state: ExplorerState, left: Settings, right: Settings) -> ComparisonView:
    """Two clusterings of the same image side by side, and how much they agree.

    The adjusted Rand index is 1 when both put the same pixels together (whatever the cluster
    numbers) and about 0 for chance agreement.

    Parameters
    ----------
    state : ExplorerState
        The image and its caches.
    left, right : Settings
        The two settings.

    Returns
    -------
    ComparisonView
        With ``message`` (naming the side) when either setting cannot be used.

    Examples
    --------
    >>> counts = np.zeros((4, 6, 2))
    >>> counts[:, 3:] = [30.0, 2.0]
    >>> counts[:, :3] = [1.0, 25.0]
    >>> state = ExplorerState(NanoSIMSImage(counts, ("12C", "16O")))
    >>> comparison_view(state, Settings(n_clusters=2), Settings(n_clusters=2, method="hierarchical")).adjusted_rand
    1.0
    """
    maps = []
    for side, settings in (("left", left), ("right", right)):
        try:
            maps.append((state.labels(settings), state.check(settings).describe()))
        except NanoSIMSError as error:
            return ComparisonView(message=f"{side}: {error}")
    (left_labels, left_title), (right_labels, right_title) = maps
    return ComparisonView(
        map_png(left_labels), map_png(right_labels), legend_html(left_labels, left_title),
        legend_html(right_labels, right_title), adjusted_rand(left_labels, right_labels),
    )

"""Isotope ratio pictures: an HSI ratio image with region outlines, and atom % per cluster.

The HSI image (as in OpenMIMS) shows the ratio as hue, from blue at the low end of a stated range
to red at the high end, and the summed counts of the two masses as brightness: pixels with few
counts, whose ratio is mostly noise, fade to black instead of shouting in red.
"""

from __future__ import annotations

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, Normalize, hsv_to_rgb
from skimage import segmentation

from ..errors import NanoSIMSError
from ..image import normalize_mass_name
from ..isotopes import REFERENCE_RATIOS, atom_percent
from ..preprocessing import ratio_image
from .style import _new_axes, _projector_readable, cluster_colors

__all__ = ["HUE_RANGE", "hsi_rgb", "plot_atom_percent", "plot_ratio_hsi"]

#: Hue of the low and high end of the ratio range: blue (0.67) to red (0).
HUE_RANGE = (2 / 3, 0.0)


def hsi_rgb(ratio, counts, ratio_range, brightness_percentile: float = 99.0) -> np.ndarray:
    """RGB image with the ratio as hue on ``ratio_range`` and the counts as brightness.

    Parameters
    ----------
    ratio : ndarray, shape (y, x)
        Ratio per pixel; NaN pixels are black.
    counts : ndarray, shape (y, x)
        Summed counts of numerator and denominator; brightness is ``counts`` over their
        ``brightness_percentile``, capped at 1.
    ratio_range : (float, float)
        Ratios at the blue and at the red end; values outside are drawn at the ends.
    brightness_percentile : float
        Percentile of ``counts`` drawn at full brightness.

    Returns
    -------
    ndarray, shape (y, x, 3)

    Examples
    --------
    >>> rgb = hsi_rgb(np.array([[0.01, 0.05, np.nan]]), np.array([[100.0, 100.0, 100.0]]), (0.01, 0.05))
    >>> rgb.round(2).tolist()
    [[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]
    """
    low, high = _check_range(ratio_range)
    position = np.clip((np.nan_to_num(ratio, nan=low) - low) / (high - low), 0.0, 1.0)
    hue = HUE_RANGE[0] + (HUE_RANGE[1] - HUE_RANGE[0]) * position
    top = np.percentile(counts, brightness_percentile)
    value = np.clip(counts / top, 0.0, 1.0) if top > 0 else np.zeros_like(counts, dtype=float)
    value = np.where(np.isnan(ratio), 0.0, value)
    return hsv_to_rgb(np.stack([hue, np.ones_like(hue), value], axis=-1))


def _check_range(ratio_range) -> tuple[float, float]:
    try:
        low, high = (float(r) for r in ratio_range)
    except (TypeError, ValueError) as exc:
        raise NanoSIMSError(f"ratio_range: expected (low, high) ratios, got {ratio_range!r}.") from exc
    if not 0 <= low < high < np.inf:
        raise NanoSIMSError(f"ratio_range={ratio_range!r}: need 0 <= low < high, e.g. (0.011, 0.06) for 13C/12C.")
    return low, high


def _hue_colormap() -> LinearSegmentedColormap:
    hues = np.linspace(*HUE_RANGE, 256)
    colours = hsv_to_rgb(np.stack([hues, np.ones(256), np.ones(256)], axis=-1))
    return LinearSegmentedColormap.from_list("ratio_hue", colours)


@_projector_readable
def plot_ratio_hsi(image, numerator: str, denominator: str, *, ratio_range=None, regions=None, ax=None):
    """Show a ratio image in HSI: ratio as hue on a stated range, summed counts as brightness.

    Parameters
    ----------
    image : NanoSIMSImage
        The image.
    numerator, denominator : str
        Masses of the ratio, e.g. ``"13C", "12C"``.
    ratio_range : (float, float), optional
        Ratios drawn blue and red. Default: from the natural-abundance ratio (where the kit knows
        it, else the 1st percentile) to the 99th percentile of the pixel ratios. The title states it.
    regions : array_like of int, shape (y, x), optional
        Region map (0 outside); the edge pixels of each region are drawn white.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The colour bar shows the ratio on the left and the atom % on the right.

    Raises
    ------
    NanoSIMSError
        If a mass is missing, the range is invalid or the regions do not fit the image.

    Examples
    --------
    >>> from nanosims_helpers.image import NanoSIMSImage
    >>> counts = np.ones((4, 4, 2)) * [1000.0, 11.0]
    >>> counts[:2, :2, 1] = 50.0
    >>> image = NanoSIMSImage(counts, ("12C", "13C"))
    >>> ax = plot_ratio_hsi(image, "13C", "12C", regions=(counts[..., 1] > 20).astype(int))
    >>> ax.get_title().splitlines()
    ['13C/12C: hue 0.0112 to 0.05', 'brightness: counts']
    """
    ratio = ratio_image(image, numerator, denominator)  # checks the image and the masses
    counts = image.channel(numerator) + image.channel(denominator)
    if ratio_range is None:
        ratio_range = _default_range(ratio, numerator, denominator)
    low, high = _check_range(ratio_range)
    rgb = hsi_rgb(ratio, counts, (low, high))
    if regions is not None:
        regions = np.asarray(regions)
        if regions.shape != ratio.shape:
            raise NanoSIMSError(f"regions: shape {regions.shape} does not match the image {ratio.shape}.")
        rgb[segmentation.find_boundaries(regions, mode="inner") & (regions > 0)] = 1.0
    ax = ax if ax is not None else _new_axes((6.4, 5.2))
    ax.imshow(rgb, interpolation="nearest")
    ax.set(title=f"{numerator}/{denominator}: hue {low:.3g} to {high:.3g}\nbrightness: counts", xticks=[], yticks=[])
    bar = ax.figure.colorbar(ScalarMappable(Normalize(low, high), _hue_colormap()), ax=ax, extend="both",
                             shrink=0.9, label=f"{numerator}/{denominator}")
    bar.ax.secondary_yaxis("left", functions=(atom_percent, lambda percent: percent / (100.0 - percent))).set_ylabel(
        "atom %")
    return ax


def _default_range(ratio, numerator, denominator) -> tuple[float, float]:
    finite = ratio[np.isfinite(ratio)]
    key = (normalize_mass_name(numerator), normalize_mass_name(denominator))
    low = REFERENCE_RATIOS[key][1] if key in REFERENCE_RATIOS else float(np.percentile(finite, 1))
    high = float(np.percentile(finite, 99))
    return low, max(high, low * 1.5 + 1e-12)


@_projector_readable
def plot_atom_percent(table, ratio: str | None = None, *, ax=None):
    """Bar chart of atom % per cluster (or region), with 1-SE error bars and the natural abundance.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`~nanosims_helpers.isotopes.isotope_table` or
        :func:`~nanosims_helpers.regions.region_table`.
    ratio : str, optional
        The ratio to draw, e.g. ``"13C/12C"``; needed when the table has several.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Bars in the clusters' colours, labelled by name; ``*`` above the enriched ones; the title
        says so when the numbers come from the held-out half of the counts (``test_counts``).

    Raises
    ------
    NanoSIMSError
        If the table lacks the columns, or ``ratio`` is missing or not in the table.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"cluster": [0, 1], "name": ["soil", "cells"], "ratio": "13C/12C",
    ...     "isotope": "13C/12C", "atom_percent": [1.1, 4.5], "atom_percent_se": [0.05, 0.2],
    ...     "reference_atom_percent": 1.111, "enriched": [False, True]})
    >>> [t.get_text() for t in plot_atom_percent(table).get_xticklabels()]
    ['soil', 'cells']
    """
    needed = {"name", "ratio", "isotope", "atom_percent", "atom_percent_se", "reference_atom_percent", "enriched"}
    if not needed <= set(getattr(table, "columns", ())):
        raise NanoSIMSError("table: expected the table of isotope_table or region_table.")
    available = list(dict.fromkeys(table["ratio"]))
    if ratio is None and len(available) == 1:
        ratio = available[0]
    if ratio not in available:
        raise NanoSIMSError(f"ratio={ratio!r}: choose one of the table's ratios {available}.")
    rows = table[table["ratio"] == ratio]
    ax = ax if ax is not None else _new_axes((max(4.0, 0.9 * len(rows) + 2.5), 4.2))
    positions = np.arange(len(rows))
    if "cluster" in rows and (rows["cluster"] >= 0).all():
        colours = cluster_colors(int(rows["cluster"].max()) + 1)[rows["cluster"].to_numpy()]
    else:
        colours = "0.6"
    ax.bar(positions, rows["atom_percent"], yerr=rows["atom_percent_se"], color=colours, edgecolor="black",
           capsize=4)
    reference = float(rows["reference_atom_percent"].iloc[0])
    ax.axhline(reference, color="black", linestyle="--", linewidth=1.2,
               label=f"natural\nabundance\n({reference:.3g} %)")
    top = rows["atom_percent"] + rows["atom_percent_se"]
    for x, y, enriched in zip(positions, top, rows["enriched"]):
        if enriched:
            ax.annotate("*", (x, y), ha="center", va="bottom", fontsize="x-large")
    isotope = rows["isotope"].iloc[0]
    minor = isotope.split("/")[0]
    crowded = len(rows) > 4 or sum(len(name) for name in rows["name"]) > 6 * len(rows)
    ax.set_xticks(positions, rows["name"], rotation=30 if crowded else 0, ha="right" if crowded else "center")
    measured = isotope if isotope == ratio else f"{isotope} (as {ratio})"
    held_out = "test_counts" in rows and rows["test_counts"].str.startswith("held-out").all()
    held_out = " (held-out half)" if held_out else ""
    ax.set(ylabel=f"{minor} atom %", title=f"{measured}: error bars 1 SE, * enriched{held_out}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False)
    return ax

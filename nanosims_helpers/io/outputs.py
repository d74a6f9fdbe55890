"""Files written for one clustered image: label map, cluster profiles, scores and an overview.

Used by the ``nanosims-cluster`` command; handy in a notebook too, to save a result the same way.
Every file name starts with a prefix chosen by the caller (usually the input file's stem):
``PREFIX_labels.tif``, ``PREFIX_profiles.csv``, ``PREFIX_scores.json`` and ``PREFIX_overview.png``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .image import NanoSIMSImage
from .tiff import write_imagej
from ..plot import plot_channels, plot_cluster_map
from ..profiles import cluster_profiles, profile_matrix

__all__ = [
    "DISPLAY_SIZE",
    "SUFFIXES",
    "display_image",
    "output_paths",
    "profiles_table",
    "write_label_tiff",
    "write_outputs",
    "write_overview_png",
    "write_scores_json",
]

#: Largest side, in pixels, of the images drawn in the overview; bigger images are block-summed.
DISPLAY_SIZE = 512
OVERVIEW_COLUMNS = 4
OVERVIEW_DPI = 80
TITLE_KEYS = ("method", "k", "preprocessing")

COUNT_STATISTICS = ("mean", "std", "q25", "median", "q75")

SUFFIXES = {
    "labels": "_labels.tif",
    "profiles": "_profiles.csv",
    "scores": "_scores.json",
    "overview": "_overview.png",
}


def output_paths(out_dir, prefix: str) -> dict[str, Path]:
    """Return the path of each file written for one image, keyed like :data:`SUFFIXES`.

    Examples
    --------
    >>> output_paths("results", "soil")["labels"].as_posix()
    'results/soil_labels.tif'
    """
    return {kind: Path(out_dir) / f"{prefix}{suffix}" for kind, suffix in SUFFIXES.items()}


def write_label_tiff(labels, path, pixel_size_um=None) -> Path:
    """Write a (y, x) label map as an ImageJ TIFF, uint8 up to 256 clusters, else uint16.

    Parameters
    ----------
    labels : ndarray of int, shape (y, x)
        Cluster labels 0..k-1.
    path : str or Path
        The TIFF file to write.
    pixel_size_um : float, optional
        Pixel side in micrometres, stored as the TIFF resolution so that Fiji shows a scale
        (see :func:`nanosims_helpers.io.tiff.write_imagej`).

    Returns
    -------
    Path
        ``path``.
    """
    labels = np.asarray(labels)
    dtype = np.uint8 if labels.max() < 256 else np.uint16
    return write_imagej(path, labels.astype(dtype), "YX", pixel_size_um=pixel_size_um)


def profiles_table(counts, scaled, labels, masses) -> pd.DataFrame:
    """Return one row per cluster and mass: its pixels, area fraction, counts statistics and mean scaled value.

    Parameters
    ----------
    counts : ndarray, shape (y, x, mass)
        Ion counts.
    scaled : ndarray, shape (y, x, mass)
        The preprocessed intensities the clustering used.
    labels : ndarray of int, shape (y, x)
        Cluster labels 0..k-1.
    masses : sequence of str
        Mass names, one per channel.

    Returns
    -------
    DataFrame
        Columns ``cluster, mass, pixels, area_fraction, mean_counts, std_counts, q25_counts,
        median_counts, q75_counts, mean_scaled``; ``k * len(masses)`` rows.

    Examples
    --------
    >>> counts = np.array([[[1.0], [3.0], [5.0]]])
    >>> table = profiles_table(counts, counts / 5, np.array([[0, 0, 1]]), ["12C"])
    >>> table[["cluster", "pixels", "mean_counts", "mean_scaled"]].values.tolist()
    [[0.0, 2.0, 2.0, 0.4], [1.0, 1.0, 5.0, 1.0]]
    """
    table = cluster_profiles(counts, labels, masses)
    table = table.rename(columns={name: f"{name}_counts" for name in COUNT_STATISTICS})
    table = table[["cluster", "mass", "pixels", "area_fraction", *(f"{n}_counts" for n in COUNT_STATISTICS)]]
    table["mean_scaled"] = profile_matrix(scaled, labels).ravel()
    return table


def write_scores_json(record: dict, path) -> Path:
    """Write ``record`` as indented JSON; NumPy numbers become plain numbers, NaN becomes null."""
    Path(path).write_text(json.dumps(_plain(record), indent=2) + "\n", encoding="utf-8")
    return Path(path)


def _plain(value):
    """Turn NumPy scalars, arrays, tuples and paths into JSON values (NaN and infinity -> None)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def display_image(image: NanoSIMSImage, labels, size: int = DISPLAY_SIZE):
    """Return a smaller copy of ``image`` and ``labels`` for drawing, at most ``size`` pixels a side.

    Counts are summed over square blocks (a coarser raster of the same ion image, with a
    pixel size to match); labels take each block's top-left pixel. Images already small
    enough come back unchanged.

    Examples
    --------
    >>> image = NanoSIMSImage(np.ones((8, 8, 1)), ("12C",))
    >>> small, labels = display_image(image, np.zeros((8, 8), int), size=4)
    >>> small.shape, labels.shape, small.counts[0, 0, 0].item()
    ((4, 4, 1), (4, 4), 4.0)
    """
    factor = math.ceil(max(image.shape[:2]) / size)
    if factor <= 1:
        return image, np.asarray(labels)
    rows, cols = (n // factor * factor for n in image.shape[:2])
    blocks = image.counts[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor, -1)
    pixel_size = None if image.pixel_size_um is None else image.pixel_size_um * factor
    small = NanoSIMSImage(blocks.sum(axis=(1, 3)), image.masses, image.path, pixel_size)
    return small, np.asarray(labels)[:rows:factor, :cols:factor]


def write_overview_png(
    image: NanoSIMSImage, labels, path, title: str | None = None, display_size: int = DISPLAY_SIZE
) -> Path:
    """Save the ion images above the cluster map as a PNG, titled with the file name.

    Parameters
    ----------
    image : NanoSIMSImage
        The clustered image.
    labels : ndarray of int, shape (y, x)
        Cluster labels 0..k-1.
    path : str or Path
        The PNG file to write.
    title : str, optional
        Figure title; the image's file name by default.
    display_size : int
        Largest side drawn, in pixels; bigger images are block-summed to fit (see
        :func:`display_image`), which keeps the figure quick to draw and small on disk.

    Returns
    -------
    Path
        ``path``.
    """
    small, small_labels = display_image(image, labels, display_size)
    n_rows = math.ceil(small.shape[2] / OVERVIEW_COLUMNS)
    figure = Figure(figsize=(3.8 * OVERVIEW_COLUMNS, 3.3 * n_rows + 5.5), layout="constrained")
    channels, clusters = figure.subfigures(2, 1, height_ratios=(3.3 * n_rows, 5.5))
    plot_channels(small, ncols=OVERVIEW_COLUMNS, fig=channels)
    plot_cluster_map(small_labels, ax=clusters.subplots())
    figure.suptitle(title or image.name, fontsize="x-large")
    figure.savefig(path, dpi=OVERVIEW_DPI)
    return Path(path)


def write_outputs(image: NanoSIMSImage, scaled, labels, record: dict, out_dir, prefix: str) -> dict[str, Path]:
    """Write the label TIFF, profiles CSV, scores JSON and overview PNG of one image.

    Parameters
    ----------
    image : NanoSIMSImage
        The image that was clustered (counts and mass names).
    scaled : ndarray, shape (y, x, mass)
        The preprocessed intensities.
    labels : ndarray of int, shape (y, x)
        Cluster labels 0..k-1.
    record : dict
        Scores and settings for the JSON file.
    out_dir : str or Path
        Existing folder to write into.
    prefix : str
        Start of every file name.

    Returns
    -------
    dict of str to Path
        The files written, keyed like :data:`SUFFIXES`.
    """
    paths = output_paths(out_dir, prefix)
    write_label_tiff(labels, paths["labels"], image.pixel_size_um)
    profiles_table(image.counts, scaled, labels, image.masses).to_csv(paths["profiles"], index=False)
    write_scores_json(record, paths["scores"])
    write_overview_png(image, labels, paths["overview"], title=_overview_title(image, record))
    return paths


def _overview_title(image: NanoSIMSImage, record: dict) -> str:
    """``"soil.tif: kmeans, k = 5, anscombe+zscore"``, from the settings the record holds."""
    parts = [f"k = {record[key]}" if key == "k" else str(record[key]) for key in TITLE_KEYS if key in record]
    return f"{image.name}: {', '.join(parts)}" if parts else image.name

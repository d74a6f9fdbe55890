"""Files written for one clustered image: label map, cluster profiles, scores and an overview.

Used by the ``nanosims-cluster`` command; handy in a notebook too, to save a result the same way.
Every file name starts with a prefix chosen by the caller (usually the input file's stem):
``PREFIX_labels.tif``, ``PREFIX_profiles.csv``, ``PREFIX_scores.json`` and ``PREFIX_overview.png``;
with isotope ratios, also ``PREFIX_isotopes.csv`` (per cluster) and ``PREFIX_regions.csv`` (per
connected region of a cluster), see :func:`write_isotope_outputs`.

Every file is written whole or not at all (:mod:`nanosims_helpers.io.files`).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..defaults import DEFAULT_MIN_REGION_PIXELS
from ..errors import NanoSIMSError
from ..image import NanoSIMSImage
from ..io.files import replacing
from ..io.tiff import write_imagej
from ..isotopes import isotope_table
from ..plot import plot_overview
from ..plot.maps import OVERVIEW_DPI
from ..profiles import cluster_profiles, profile_matrix
from ..regions import cluster_regions, region_table

__all__ = [
    "DISPLAY_SIZE",
    "SUFFIXES",
    "CONFIDENCE_SUFFIX",
    "display_image",
    "note_empty_regions",
    "output_paths",
    "profiles_table",
    "write_confidence_tiff",
    "write_csv",
    "write_isotope_outputs",
    "write_label_tiff",
    "write_outputs",
    "write_overview_png",
    "write_scores_json",
]

#: Largest side, in pixels, of the images drawn in the overview; bigger images are block-summed.
DISPLAY_SIZE = 512
TITLE_KEYS = ("method", "k", "preprocessing")

COUNT_STATISTICS = ("mean", "std", "q25", "median", "q75")

SUFFIXES = {
    "labels": "_labels.tif",
    "profiles": "_profiles.csv",
    "scores": "_scores.json",
    "overview": "_overview.png",
}

#: File name endings of :func:`write_isotope_outputs`.
ISOTOPE_SUFFIXES = {"isotopes": "_isotopes.csv", "regions": "_regions.csv"}

#: File name ending of :func:`write_confidence_tiff` (``--confidence``).
CONFIDENCE_SUFFIX = "_confidence.tif"

def write_csv(table: pd.DataFrame, path) -> Path:
    """Write ``table`` as CSV without its index, under a temporary name first (see :func:`replacing`)."""
    with replacing(path) as temporary:
        table.to_csv(temporary, index=False)
    return Path(path)


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


def write_confidence_tiff(confidence, path, pixel_size_um=None) -> Path:
    """Write a (y, x) confidence map (each pixel's probability of its cluster) as a float32 ImageJ TIFF.

    Examples
    --------
    >>> import tempfile, tifffile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_confidence_tiff(np.array([[1.0, 0.5]]), Path(folder) / "a_confidence.tif")
    ...     tifffile.imread(path).tolist()
    [[1.0, 0.5]]
    """
    return write_imagej(path, np.asarray(confidence, dtype=np.float32), "YX", pixel_size_um=pixel_size_um)


def profiles_table(counts, features, labels, masses, n_clusters: int | None = None) -> pd.DataFrame:
    """Return one row per cluster and mass: its pixels, area fraction, counts statistics and mean scaled value.

    Parameters
    ----------
    counts : ndarray, shape (y, x, mass)
        Ion counts.
    features : ndarray, shape (y, x, mass)
        The preprocessed intensities the clustering used.
    labels : ndarray of int, shape (y, x)
        Cluster labels 0..k-1.
    masses : sequence of str
        Mass names, one per channel.
    n_clusters : int, optional
        k of the model that made ``labels`` (a study model), when some clusters may have no pixel
        here: they get rows with 0 pixels and empty statistics. By default every cluster number
        0..k-1 must have pixels.

    Returns
    -------
    DataFrame
        Columns ``cluster, mass, pixels, area_fraction, mean_counts, std_counts, q25_counts,
        median_counts, q75_counts, mean_scaled``; ``k * len(masses)`` rows.

    Raises
    ------
    NanoSIMSError
        If ``labels`` do not fit the pixels, skip a cluster number (without ``n_clusters``) or
        reach ``n_clusters``.

    Examples
    --------
    >>> counts = np.array([[[1.0], [3.0], [5.0]]])
    >>> table = profiles_table(counts, counts / 5, np.array([[0, 0, 1]]), ["12C"])
    >>> table[["cluster", "pixels", "mean_counts", "mean_scaled"]].values.tolist()
    [[0.0, 2.0, 2.0, 0.4], [1.0, 1.0, 5.0, 1.0]]
    >>> table = profiles_table(counts, counts / 5, np.array([[0, 0, 2]]), ["12C"], n_clusters=3)
    >>> table[["cluster", "pixels", "mean_counts"]].fillna(-1).values.tolist()
    [[0.0, 2.0, 2.0], [1.0, 0.0, -1.0], [2.0, 1.0, 5.0]]
    """
    if n_clusters is None:
        return _profiles_of_clusters(counts, features, labels, masses)
    labels = np.asarray(labels)
    present, compact = np.unique(labels, return_inverse=True)
    if present[0] < 0 or present[-1] >= n_clusters:
        raise NanoSIMSError(
            f"labels: cluster numbers {present[0]}..{present[-1]} for n_clusters={n_clusters}; "
            f"number the clusters 0..{n_clusters - 1}."
        )
    table = _profiles_of_clusters(counts, features, compact.reshape(labels.shape), masses)
    table["cluster"] = present[table["cluster"]]
    absent = np.setdiff1d(np.arange(n_clusters), present)
    empty = pd.DataFrame({
        "cluster": np.repeat(absent, len(masses)),
        "mass": pd.Categorical(list(masses) * absent.size, categories=table["mass"].cat.categories, ordered=True),
        "pixels": 0,
        "area_fraction": 0.0,
    })
    table = pd.concat([table, empty], ignore_index=True) if absent.size else table
    return table.sort_values("cluster", kind="stable", ignore_index=True)


def _profiles_of_clusters(counts, scaled, labels, masses) -> pd.DataFrame:
    table = cluster_profiles(counts, labels, masses)
    table = table.rename(columns={name: f"{name}_counts" for name in COUNT_STATISTICS})
    table = table[["cluster", "mass", "pixels", "area_fraction", *(f"{n}_counts" for n in COUNT_STATISTICS)]]
    table["mean_scaled"] = profile_matrix(scaled, labels).ravel()
    return table


def write_scores_json(record: dict, path) -> Path:
    """Write ``record`` as indented JSON; NumPy numbers become plain numbers, NaN becomes null."""
    with replacing(path) as temporary:
        temporary.write_text(json.dumps(_plain(record), indent=2) + "\n", encoding="utf-8")
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
    factor = _display_factor(image.shape, size)
    if factor <= 1:
        return image, np.asarray(labels)
    rows, cols = (n // factor * factor for n in image.shape[:2])
    pixel_size = None if image.pixel_size_um is None else image.pixel_size_um * factor
    small = NanoSIMSImage(_block_sums(image.counts, factor), image.masses, image.path, pixel_size)
    return small, np.asarray(labels)[:rows:factor, :cols:factor]


def _display_factor(shape, size: int) -> int:
    """The side of the square blocks that fit an image of ``shape`` (y, x, ...) within ``size`` pixels a side."""
    return max(math.ceil(max(shape[:2]) / size), 1)


def _block_sums(values: np.ndarray, factor: int) -> np.ndarray:
    """Sums of ``values`` (y, x, ...) over whole ``factor`` x ``factor`` blocks (a ragged edge is left out)."""
    rows, cols = (n // factor * factor for n in values.shape[:2])
    blocks = values[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor, *values.shape[2:])
    return blocks.sum(axis=(1, 3))


def write_overview_png(
    image: NanoSIMSImage, labels, path, title: str | None = None, display_size: int = DISPLAY_SIZE,
    n_clusters: int | None = None, confidence=None,
) -> Path:
    """Save the ion images above the cluster map as a PNG, titled with the file name (see :func:`plot_overview`).

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
    n_clusters : int, optional
        k of the model that made ``labels``, when the image may lack its last clusters (a study
        model): keeps every cluster's colour the same in every image.
    confidence : ndarray of float, shape (y, x), optional
        Each pixel's probability of its cluster, drawn below the map (block means where the
        image is shrunk, so that a block of unsure pixels stays visible).

    Returns
    -------
    Path
        ``path``.
    """
    small, small_labels = display_image(image, labels, display_size)
    if confidence is not None:
        factor = _display_factor(image.shape, display_size)
        confidence = _block_sums(np.asarray(confidence, dtype=float), factor) / factor**2
    figure = plot_overview(small, small_labels, title=title or image.name, n_clusters=n_clusters,
                           confidence=confidence)
    with replacing(path) as temporary:  # zlib level 3: a third quicker than the default 6, the file 7 % larger
        figure.savefig(temporary, dpi=OVERVIEW_DPI, pil_kwargs={"compress_level": 3})
    figure.clear()  # its 10-15 MB go now, not at the garbage collector's next full pass (a run grew by 150 MB)
    return Path(path)


def write_outputs(
    image: NanoSIMSImage, features, labels, record: dict, out_dir, prefix: str, n_clusters: int | None = None,
    shown: NanoSIMSImage | None = None, confidence=None,
) -> dict[str, Path]:
    """Write the label TIFF, profiles CSV, scores JSON and overview PNG of one image.

    Parameters
    ----------
    image : NanoSIMSImage
        The image that was clustered (counts and mass names).
    features : ndarray, shape (y, x, mass)
        The preprocessed intensities.
    labels : ndarray of int, shape (y, x)
        Cluster labels 0..k-1.
    record : dict
        Scores and settings for the JSON file.
    out_dir : str or Path
        Existing folder to write into.
    prefix : str
        Start of every file name.
    n_clusters : int, optional
        k of the model that made ``labels`` (a study model), when some clusters may have no
        pixel in this image: the profiles list them with 0 pixels, the overview keeps their colours.
    shown : NanoSIMSImage, optional
        The image whose channels the overview draws, e.g. the whole file when channels such as
        ``SE`` were left out of clustering; ``image`` by default.
    confidence : ndarray of float, shape (y, x), optional
        Each pixel's probability of its cluster, for the methods that give one: drawn in the overview.

    Returns
    -------
    dict of str to Path
        The files written, keyed like :data:`SUFFIXES`.
    """
    paths = output_paths(out_dir, prefix)
    write_label_tiff(labels, paths["labels"], image.pixel_size_um)
    write_csv(profiles_table(image.counts, features, labels, image.masses, n_clusters), paths["profiles"])
    write_scores_json(record, paths["scores"])
    write_overview_png(shown or image, labels, paths["overview"], title=_overview_title(image, record),
                       n_clusters=n_clusters, confidence=confidence)
    return paths


def _overview_title(image: NanoSIMSImage, record: dict) -> str:
    """``"soil.tif: kmeans, k = 5, asinh, split-half F1 0.91"``, from the settings the record holds.

    The split-half F1 (of ``-k auto``) is shown where the record has a number for it.

    Examples
    --------
    >>> image = NanoSIMSImage(np.ones((2, 2, 1)), ("12C",))
    >>> _overview_title(image, {"k": 3, "method": "kmeans", "split_half_f1": 0.912})
    'image: kmeans, k = 3, split-half F1 0.91'
    """
    parts = [f"k = {record[key]}" if key == "k" else str(record[key]) for key in TITLE_KEYS if key in record]
    split_half = record.get("split_half_f1")
    if split_half is not None and math.isfinite(split_half):
        parts.append(f"split-half F1 {split_half:.2f}")
    return f"{image.name}: {', '.join(parts)}" if parts else image.name


def note_empty_regions(summary: dict, min_region_pixels: int) -> None:
    """Warn when :func:`write_isotope_outputs` found no region (``summary["regions"]`` is 0).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     note_empty_regions({"regions": 0}, 5000)
    >>> "5000" in str(caught[0].message)
    True
    """
    if summary.get("regions") == 0:
        warnings.warn(
            f"no cluster has a connected patch of {min_region_pixels} pixels or more, so the regions table is "
            "empty; give a smaller minimum (--min-region-pixels, min_region_pixels=).",
            UserWarning,
            stacklevel=2,
        )


def write_isotope_outputs(image: NanoSIMSImage, labels, ratios, out_dir, prefix: str,
                          min_region_pixels: int = DEFAULT_MIN_REGION_PIXELS, names=None, split=None) -> dict:
    """Write ``PREFIX_isotopes.csv`` (per cluster) and ``PREFIX_regions.csv`` (per region); return a summary.

    Parameters
    ----------
    image : NanoSIMSImage
        Counts of every mass the ratios need (not only the clustered ones).
    labels : ndarray of int, shape (y, x)
        Cluster labels 0..k-1.
    ratios : str or sequence
        E.g. ``"13C/12C,12C15N/12C14N"`` (see :func:`~nanosims_helpers.isotopes.parse_ratios`).
    out_dir : str or Path
        Existing folder.
    prefix : str
        Start of the file names.
    min_region_pixels : int
        Smallest connected patch of a cluster reported as a region.
    names : sequence of str or dict, optional
        Cluster names.
    split : CountSplit, optional
        The split of the counts the labels were found on
        (:func:`~nanosims_helpers.isotopes.split_for_ratios`): the tables test the held-out half.

    Returns
    -------
    dict
        ``isotopes_csv`` and ``regions_csv`` (paths), ``regions`` (how many), ``enriched``,
        e.g. ``"13C/12C: cells; 15N/14N: none"`` (clusters with Benjamini-Hochberg adjusted
        p < 0.05), ``test_counts`` (which counts the tests used) and ``count_split`` (how the
        counts were split, its seed and masses; None without a split).

    Raises
    ------
    NanoSIMSError
        As :func:`~nanosims_helpers.isotopes.isotope_table` does (missing mass, a cluster of one
        pixel or without counts, labels found on the counts to test).

    Examples
    --------
    >>> import tempfile
    >>> counts = np.ones((2, 4, 2)) * [1000.0, 11.0]
    >>> counts[:, 2:, 1] = 60.0
    >>> image = NanoSIMSImage(counts, ("12C", "13C"), pixel_size_um=0.1)
    >>> labels = np.array([[0, 0, 1, 1], [0, 0, 1, 1]])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     summary = write_isotope_outputs(image, labels, "13C/12C", folder, "demo", min_region_pixels=4)
    >>> summary["enriched"], summary["regions"], summary["test_counts"]
    ('13C/12C: cluster 1', 2, 'all')
    """
    clusters = isotope_table(image, labels, ratios, names, split=split)
    regions = region_table(image, cluster_regions(labels, min_region_pixels=min_region_pixels), ratios, labels, names,
                           split=split)
    paths = {f"{kind}_csv": Path(out_dir) / f"{prefix}{suffix}" for kind, suffix in ISOTOPE_SUFFIXES.items()}
    write_csv(clusters, paths["isotopes_csv"])
    write_csv(regions, paths["regions_csv"])
    enriched = "; ".join(
        f"{isotope}: {', '.join(rows.loc[rows['enriched'], 'name']) or 'none'}"
        for isotope, rows in clusters.groupby("isotope", sort=False)
    )
    return {**paths, "regions": int(regions["region"].nunique()), "enriched": enriched,
            "test_counts": "; ".join(dict.fromkeys(clusters["test_counts"])),
            "count_split": None if split is None else split.record()}

"""Regions of interest: connected patches of a cluster, or of a ratio above a threshold.

A cluster gathers every pixel that looks alike, wherever it is; a cell, a particle or a labelled
hotspot is one connected patch of them. :func:`cluster_regions` cuts clusters into such patches
and :func:`threshold_regions` finds the patches of a ratio image above a threshold (both with
scikit-image's ``measure.label``; pixels touching at a corner are connected). :func:`region_table`
then reports each region as :func:`~nanosims_helpers.isotopes.isotope_table` reports a cluster:
area, centroid, ratio of summed counts with its Poisson error, atom %, z-score and p-value.

Regions must be found on counts other than those they are tested on: pixels picked because their
13C/12C is high are also those whose 13C counts happened to come out high, so their 13C/12C
overestimates the truth near the threshold and their test is circular. Two honest ways:

* find them on half the counts and test the other half: ``split = split_for_ratios(image,
  "13C/12C")``, ``threshold_regions(ratio_image(split.selection, "13C", "12C"), ...)``, then
  ``region_table(image, regions, "13C/12C", split=split)``; regions cut from clusters of
  ``cluster_image(..., ratios=...)`` (:func:`cluster_regions`) carry their split along;
* find them on other masses: regions found on 15N/14N measured in 13C/12C (the masses differ).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from skimage import measure

from ._lazy import renamed
from .count_split import CountSplit, remember_split, with_split
from .errors import NanoSIMSError
from .image import check_image
from .isotopes import (
    DEFAULT_RATIOS,
    check_groups,
    control_group,
    counts_to_test,
    finish_table,
    group_ratios,
    resolve_ratios,
)
from .naming import name_clusters
from .validation import check_cluster_labels, check_whole_number

__all__ = ["REGION_COLUMNS", "cluster_regions", "region_table", "threshold_regions"]

#: Columns of :func:`region_table` before the ratio columns of :data:`~nanosims_helpers.isotopes.ISOTOPE_COLUMNS`.
REGION_COLUMNS = ("region", "cluster", "name", "area_px", "area_um2", "centroid_y", "centroid_x")


def _components(mask: np.ndarray, min_region_pixels: int) -> list[np.ndarray]:
    """Flat pixel indices of each connected patch of ``mask`` with at least ``min_region_pixels`` pixels."""
    patches = measure.label(mask, connectivity=2).ravel()
    sizes = np.bincount(patches)
    order = np.argsort(patches, kind="stable")
    members = np.split(order, np.cumsum(sizes)[:-1])
    return [members[i] for i in range(1, sizes.size) if sizes[i] >= min_region_pixels]


@renamed(min_pixels="min_region_pixels")
def cluster_regions(labels, clusters=None, min_region_pixels: int = 10) -> np.ndarray:
    """Cut clusters into connected regions of at least ``min_region_pixels`` pixels.

    Regions of clusters the kit found on a split of the counts (``cluster_image(..., ratios=...)``)
    carry the split on to :func:`region_table`.

    Parameters
    ----------
    labels : ClusterResult or array_like of int, shape (y, x)
        Cluster 0..k-1 of every pixel.
    clusters : int or sequence of int, optional
        The clusters to cut; default all.
    min_region_pixels : int
        Smallest region kept, at least 2; smaller patches are left out (region 0).

    Returns
    -------
    ndarray of int, shape (y, x)
        Region 1..n of every pixel, 0 outside any region; regions numbered cluster by cluster.

    Raises
    ------
    NanoSIMSError
        If ``labels`` is not a (y, x) map of clusters 0..k-1, a cluster does not exist, or
        ``min_region_pixels`` is below 2.

    Examples
    --------
    >>> labels = np.array([[1, 1, 0, 1],
    ...                    [1, 0, 0, 0],
    ...                    [0, 0, 1, 1]])
    >>> cluster_regions(labels, clusters=1, min_region_pixels=2)
    array([[1, 1, 0, 0],
           [1, 0, 0, 0],
           [0, 0, 2, 2]])
    """
    labels, split = with_split(labels)
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise NanoSIMSError(f"labels: expected a (y, x) cluster map, got shape {labels.shape}.")
    flat, n_clusters = check_cluster_labels(labels, labels.shape)
    min_region_pixels = check_whole_number(min_region_pixels, "min_region_pixels", minimum=2)
    wanted = range(n_clusters) if clusters is None else np.atleast_1d(clusters).tolist()
    missing = [c for c in wanted if not 0 <= c < n_clusters]
    if missing:
        raise NanoSIMSError(f"clusters: no cluster {missing[0]!r}; the clusters are 0..{n_clusters - 1}.")
    regions = np.zeros(labels.size, dtype=np.intp)
    number = 0
    for cluster in wanted:
        for pixels in _components(labels == cluster, min_region_pixels):
            number += 1
            regions[pixels] = number
    regions = regions.reshape(labels.shape)
    remember_split(regions, split)
    return regions


@renamed(min_pixels="min_region_pixels")
def threshold_regions(values, threshold: float, min_region_pixels: int = 10) -> np.ndarray:
    """Connected regions where ``values`` (a ratio image) exceeds ``threshold``.

    Parameters
    ----------
    values : array_like of float, shape (y, x)
        E.g. :func:`~nanosims_helpers.preprocessing.ratio_image`; NaN pixels are never inside.
    threshold : float
        Pixels with values above it form the regions.
    min_region_pixels : int
        Smallest region kept, at least 2.

    Returns
    -------
    ndarray of int, shape (y, x)
        Region 1..n of every pixel, 0 outside.

    Raises
    ------
    NanoSIMSError
        If ``values`` is not 2-D or ``min_region_pixels`` is below 2.

    Examples
    --------
    >>> ratio = np.array([[0.05, 0.06, 0.01], [0.01, 0.07, 0.01], [0.06, np.nan, 0.01]])
    >>> threshold_regions(ratio, 0.03, min_region_pixels=2)   # the bottom-left pixel touches at a corner
    array([[1, 1, 0],
           [0, 1, 0],
           [1, 0, 0]])
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise NanoSIMSError(f"values: expected a (y, x) ratio image, got shape {values.shape}.")
    min_region_pixels = check_whole_number(min_region_pixels, "min_region_pixels", minimum=2)
    regions = np.zeros(values.size, dtype=np.intp)
    with np.errstate(invalid="ignore"):
        above = np.nan_to_num(values, nan=-np.inf) > threshold
    for number, pixels in enumerate(_components(above, min_region_pixels), start=1):
        regions[pixels] = number
    return regions.reshape(values.shape)


def region_table(image, regions, ratios=DEFAULT_RATIOS, labels=None, names=None, *, control=None,
                 alpha: float = 0.05, split: CountSplit | None = None) -> pd.DataFrame:
    """Area, centroid and isotope ratios of every region, one row per region and ratio.

    The counts tested are chosen as for :func:`~nanosims_helpers.isotopes.isotope_table`: the
    held-out half where the regions were found on a split (regions of :func:`cluster_regions` of
    clusters from ``cluster_image(..., ratios=...)``, or ``split`` given), else all counts: valid
    only if the tested masses played no part in finding the regions (see the module notes).

    Parameters
    ----------
    image : NanoSIMSImage
        The counts; its ``pixel_size_um`` gives the areas in um^2.
    regions : array_like of int, shape (y, x)
        Region 1..n of every pixel, 0 outside (from :func:`cluster_regions` or
        :func:`threshold_regions`).
    ratios : str or sequence
        As for :func:`~nanosims_helpers.isotopes.isotope_table`.
    labels : ClusterResult or array_like of int, shape (y, x), optional
        The clustering: adds the cluster each region belongs to (most of its pixels) and its name.
    names : sequence of str or dict, optional
        Cluster names (with ``labels``).
    control : int, optional
        A region number known to be unlabelled: the others are tested against its counts
        (two-sample, :func:`~nanosims_helpers.isotopes.enrichment_test`).
    alpha : float
        False discovery rate for the ``enriched`` column (Benjamini-Hochberg over all rows).
    split : CountSplit, optional
        The split the regions were found on (``split.selection``), for regions that do not carry it.

    Returns
    -------
    pandas.DataFrame
        One row per region and ratio, by region. Columns :data:`REGION_COLUMNS` (``area_px``,
        ``area_um2`` - NaN with a warning when the image has no pixel size - and ``centroid_y``,
        ``centroid_x`` in pixels) then the ratio columns of
        :func:`~nanosims_helpers.isotopes.isotope_table`. ``cluster`` is -1 and
        ``name`` is ``"region i"`` without ``labels``. No rows when there are no regions.

    Raises
    ------
    NanoSIMSError
        If a mass is missing, the maps do not fit the image, a region has one pixel, a region
        has no counts in either mass of a ratio, or the regions were found on the counts to test.

    Examples
    --------
    >>> from nanosims_helpers.image import NanoSIMSImage
    >>> counts = np.zeros((3, 4, 2))
    >>> counts[..., 0], counts[..., 1] = 1000.0, 11.0
    >>> counts[:2, :2, 1] = 50.0
    >>> image = NanoSIMSImage(counts, ("12C", "13C"), pixel_size_um=0.1)
    >>> regions = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 2, 2]])
    >>> table = region_table(image, regions, "13C/12C")
    >>> table[["region", "area_px", "centroid_x", "ratio_of_sums", "enriched"]].values.tolist()
    [[1, 4, 0.5, 0.05, True], [2, 2, 2.5, 0.011, False]]
    >>> round(float(table["area_um2"][0]), 3)
    0.04
    """
    image = check_image(image)
    regions, counts, resolved = counts_to_test(image, resolve_ratios(image, ratios), regions, split)
    regions = np.asarray(regions)
    if regions.shape != image.shape[:2] or not np.issubdtype(regions.dtype, np.integer) or regions.min() < 0:
        raise NanoSIMSError(
            f"regions: expected a (y, x) map of whole region numbers >= 0 of shape {image.shape[:2]}, "
            f"got {regions.dtype} of shape {regions.shape}; use cluster_regions or threshold_regions."
        )
    properties = measure.regionprops(regions)
    numbers = np.array([p.label for p in properties], dtype=np.intp)
    index = np.full(int(regions.max()) + 1, -1)
    index[numbers] = np.arange(numbers.size)
    control = control_group(control, [f"region {n}" for n in numbers], "region", numbers=numbers.tolist())
    table = group_ratios(counts, index[regions.ravel()], numbers.size, resolved, control)
    table["group"] = numbers[table["group"]] if numbers.size else table["group"]
    check_groups(table, "region", "regions")
    described = _describe(properties, image.pixel_size_um, regions, labels, names)
    table = described.merge(table.rename(columns={"group": "region"}), on="region", how="right")
    return finish_table(table.sort_values("region", kind="stable", ignore_index=True), "region", alpha)


def _describe(properties, pixel_size_um, regions, labels, names) -> pd.DataFrame:
    """Region, cluster, name, area and centroid of each region."""
    if pixel_size_um is None and properties:
        warnings.warn("image: no pixel size recorded, so area_um2 is NaN; areas are in pixels only.", stacklevel=3)
    area = np.array([p.area for p in properties], dtype=int)
    centroids = np.array([p.centroid for p in properties]).reshape(-1, 2)
    numbers = [p.label for p in properties]
    if labels is None:
        clusters, region_names = [-1] * len(numbers), [f"region {n}" for n in numbers]
    else:
        flat, n_clusters = check_cluster_labels(with_split(labels)[0], regions.shape)
        cluster_names = name_clusters(n_clusters, names)
        flat = flat.reshape(regions.shape)
        clusters = [int(np.bincount(flat[p.slice][p.image]).argmax()) for p in properties]
        region_names = [cluster_names[c] for c in clusters]
    return pd.DataFrame({
        "region": np.asarray(numbers, dtype=np.intp), "cluster": clusters, "name": region_names, "area_px": area,
        "area_um2": area * (np.nan if pixel_size_um is None else pixel_size_um**2),
        "centroid_y": centroids[:, 0], "centroid_x": centroids[:, 1],
    }, columns=list(REGION_COLUMNS))

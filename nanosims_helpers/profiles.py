"""What each cluster looks like: per-mass statistics of its pixels, as a tidy table.

A cluster map says *where* the clusters are; a profile says *what* they are
(high 12C and 12C14N: organic matter; high 27Al16O: aluminosilicate ...).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import NanoSIMSError
from .validation import check_finite_array, check_labels

PROFILE_COLUMNS = ("cluster", "mass", "mean", "std", "q25", "median", "q75", "pixels", "area_fraction")


def cluster_labels(
    labels, pixel_shape, name: str = "labels", *, allow_empty: bool = False
) -> tuple[np.ndarray, int]:
    """Check cluster labels against a pixel grid and return them flat, with the number of clusters.

    Labels must be whole numbers 0..k-1, one per pixel, each cluster holding at least one pixel
    unless ``allow_empty``. This is what k-means and the kit's other clusterings return; the
    cluster number is also the colour index in every plot, so cluster ``i`` has the same colour
    everywhere.

    Parameters
    ----------
    labels : array_like of int, shape (y, x) or (pixel,)
        Cluster number of each pixel.
    pixel_shape : tuple of int
        Shape of the pixel grid the labels belong to: ``values.shape[:-1]``, so (y, x) for an
        image of features or (pixel,) for a pixel table.
    name : str
        What the caller calls the argument, for error messages.
    allow_empty : bool
        Accept cluster numbers without pixels, as in a map of true phases where one phase is
        absent (fine to draw, but it has no statistics).

    Returns
    -------
    flat : ndarray of int, shape (pixel,)
    n_clusters : int
        ``flat.max() + 1``.

    Raises
    ------
    NanoSIMSError
        If the labels do not match the pixels, are negative, or skip a cluster number.

    Examples
    --------
    >>> flat, k = cluster_labels(np.array([[0, 1], [1, 2]]), (2, 2))
    >>> flat.tolist(), k
    ([0, 1, 1, 2], 3)
    """
    pixel_shape = tuple(pixel_shape)
    labels_array = np.asarray(labels)
    if len(pixel_shape) == 2 and labels_array.ndim == 2 and labels_array.shape != pixel_shape:
        raise NanoSIMSError(
            f"{name}: label map of shape {labels_array.shape} for an image of {pixel_shape} pixels; "
            "use the label map computed from these values."
        )
    flat = check_labels(labels_array, int(np.prod(pixel_shape)), name)
    if flat.min() < 0:
        raise NanoSIMSError(f"{name}: negative cluster number {flat.min()}; number clusters 0..k-1.")
    counts = np.bincount(flat)
    empty = np.flatnonzero(counts == 0)
    if empty.size and not allow_empty:
        raise NanoSIMSError(
            f"{name}: cluster(s) {empty.tolist()} have no pixels; number clusters 0..k-1 without gaps, "
            "for example with np.unique(labels, return_inverse=True)[1]."
        )
    return flat, counts.size


def pixels_and_labels(values, labels, name: str = "values") -> tuple[np.ndarray, np.ndarray, int]:
    """Check values and their cluster labels; return the (pixel, feature) table, flat labels and k.

    Parameters
    ----------
    values : array_like, shape (y, x, feature) or (pixel, feature)
        Counts or features.
    labels : array_like of int, shape (y, x) or (pixel,)
        Cluster number 0..k-1 of each pixel.
    name : str
        What the caller calls ``values``, for error messages.

    Returns
    -------
    table : ndarray of float, shape (pixel, feature)
    flat : ndarray of int, shape (pixel,)
    n_clusters : int

    Raises
    ------
    NanoSIMSError
        If ``values`` is not a finite 2-D or 3-D array, or ``labels`` does not match it
        (see :func:`cluster_labels`).

    Examples
    --------
    >>> table, flat, k = pixels_and_labels(np.zeros((2, 3, 4)), np.array([[0, 0, 1], [1, 1, 1]]))
    >>> table.shape, flat.shape, k
    ((6, 4), (6,), 2)
    """
    values = check_finite_array(values, name, ndim=(2, 3))
    flat, n_clusters = cluster_labels(labels, values.shape[:-1])
    return values.reshape(-1, values.shape[-1]), flat, n_clusters


def check_masses(masses, n_features: int, name: str = "masses") -> list[str]:
    """Return ``masses`` as a list of distinct names, one per feature.

    Raises
    ------
    NanoSIMSError
        If the number of names differs from the number of features, or a name repeats.

    Examples
    --------
    >>> check_masses(("12C", "16O"), 2)
    ['12C', '16O']
    """
    if isinstance(masses, str):
        masses = [masses]
    masses = [str(m) for m in masses]
    if len(masses) != n_features:
        raise NanoSIMSError(
            f"{name}: {len(masses)} name(s) {masses} for {n_features} feature(s); give one name per feature "
            "(for an image, image.masses)."
        )
    if len(set(masses)) != len(masses):
        raise NanoSIMSError(f"{name}: repeated name(s) in {masses}; give each feature its own name.")
    return masses


def split_by_cluster(table: np.ndarray, flat: np.ndarray, n_clusters: int) -> list[np.ndarray]:
    """Split the rows of ``table`` by cluster, with one sort rather than one mask per cluster.

    Examples
    --------
    >>> [part.tolist() for part in split_by_cluster(np.array([10, 20, 30]), np.array([1, 0, 1]), 2)]
    [[20], [10, 30]]
    """
    order = np.argsort(flat, kind="stable")
    bounds = np.cumsum(np.bincount(flat, minlength=n_clusters))[:-1]
    return np.split(table[order], bounds)


def cluster_profiles(values, labels, masses) -> pd.DataFrame:
    """Per-mass statistics of the pixels of each cluster, as a tidy table.

    Parameters
    ----------
    values : array_like, shape (y, x, mass) or (pixel, mass)
        Counts or scaled intensities, the same values that were clustered (or the raw
        counts, to describe the clusters in counts).
    labels : array_like of int, shape (y, x) or (pixel,)
        Cluster number 0..k-1 of each pixel.
    masses : sequence of str
        One name per mass channel (``image.masses``).

    Returns
    -------
    pandas.DataFrame
        One row per (cluster, mass), sorted by cluster then by mass in the order given, with
        columns ``cluster`` (int), ``mass`` (ordered categorical, so pivots keep the mass
        order), ``mean``, ``std`` (population, ddof=0), ``q25``, ``median``, ``q75``
        (quartiles), ``pixels`` (pixels in the cluster) and ``area_fraction`` (``pixels`` over
        all pixels). ``pixels`` and ``area_fraction`` repeat on each row of a cluster.
        ``table.pivot(index="cluster", columns="mass", values="mean")`` gives the
        cluster-by-mass matrix.

    Raises
    ------
    NanoSIMSError
        If ``masses`` does not give one distinct name per channel, or ``labels`` does not give
        one cluster number 0..k-1 per pixel.

    Examples
    --------
    >>> values = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 20.0]])
    >>> table = cluster_profiles(values, np.array([0, 0, 1]), ["12C", "16O"])
    >>> table.shape
    (4, 9)
    >>> table.loc[table["mass"] == "12C", ["cluster", "mean", "pixels"]].values.tolist()
    [[0.0, 2.0, 2.0], [1.0, 5.0, 1.0]]
    """
    table, flat, n_clusters = pixels_and_labels(values, labels)
    masses = check_masses(masses, table.shape[1])
    groups = split_by_cluster(table, flat, n_clusters)
    n_masses = len(masses)
    stats = {
        "mean": [g.mean(axis=0) for g in groups],
        "std": [g.std(axis=0) for g in groups],
    }
    quartiles = np.stack([np.percentile(g, [25, 50, 75], axis=0) for g in groups])  # (k, 3, mass)
    stats.update(q25=quartiles[:, 0], median=quartiles[:, 1], q75=quartiles[:, 2])
    pixels = np.array([len(g) for g in groups])
    return pd.DataFrame(
        {
            "cluster": np.repeat(np.arange(n_clusters), n_masses),
            "mass": pd.Categorical(masses * n_clusters, categories=masses, ordered=True),
            **{key: np.ravel(value) for key, value in stats.items()},
            "pixels": np.repeat(pixels, n_masses),
            "area_fraction": np.repeat(pixels / flat.size, n_masses),
        },
        columns=list(PROFILE_COLUMNS),
    )


def profile_matrix(values, labels) -> np.ndarray:
    """Mean of each feature over the pixels of each cluster.

    Parameters
    ----------
    values : array_like, shape (y, x, feature) or (pixel, feature)
    labels : array_like of int, shape (y, x) or (pixel,)
        Cluster number 0..k-1 of each pixel.

    Returns
    -------
    ndarray, shape (k, feature)
        Row ``i`` is the mean profile of cluster ``i``.

    Raises
    ------
    NanoSIMSError
        If ``labels`` does not give one cluster number 0..k-1 per pixel.

    Examples
    --------
    >>> profile_matrix(np.array([[1.0], [3.0], [5.0]]), np.array([0, 0, 1]))
    array([[2.],
           [5.]])
    """
    table, flat, n_clusters = pixels_and_labels(values, labels)
    return np.stack([group.mean(axis=0) for group in split_by_cluster(table, flat, n_clusters)])

"""What each cluster looks like: per-mass statistics of its pixels, as a tidy table.

A cluster map says *where* the clusters are; a profile says *what* they are
(high 12C and 12C14N: organic matter; high 27Al16O: aluminosilicate ...).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import NanoSIMSError
from .validation import check_cluster_labels, check_finite_array

PROFILE_COLUMNS = ("cluster", "mass", "mean", "std", "q25", "median", "q75", "pixels", "area_fraction")


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
        (see :func:`~nanosims_helpers.validation.check_cluster_labels`).

    Examples
    --------
    >>> table, flat, k = pixels_and_labels(np.zeros((2, 3, 4)), np.array([[0, 0, 1], [1, 1, 1]]))
    >>> table.shape, flat.shape, k
    ((6, 4), (6,), 2)
    """
    values = check_finite_array(values, name, ndim=(2, 3))
    flat, n_clusters = check_cluster_labels(labels, values.shape[:-1])
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
    return cluster_means(table, flat, n_clusters)[0]


def cluster_means(table: np.ndarray, flat: np.ndarray, n_clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean row of ``table`` over the rows of each cluster, and the cluster sizes, without checks.

    The one per-cluster mean of the kit (profiles, scores, Ward's micro-clusters); public
    callers check their arguments first and use :func:`profile_matrix`.

    Parameters
    ----------
    table : ndarray of float, shape (pixel, feature)
    flat : ndarray of int, shape (pixel,)
        Cluster number 0..n_clusters-1 of each row; every cluster has at least one row.
    n_clusters : int

    Returns
    -------
    means : ndarray, shape (n_clusters, feature)
    sizes : ndarray of int, shape (n_clusters,)

    Examples
    --------
    >>> means, sizes = cluster_means(np.array([[1.0], [3.0], [5.0]]), np.array([0, 0, 1]), 2)
    >>> means.ravel().tolist(), sizes.tolist()
    ([2.0, 5.0], [2, 1])
    """
    sizes = np.bincount(flat, minlength=n_clusters)
    sums = np.stack([np.bincount(flat, weights=column, minlength=n_clusters) for column in table.T], axis=1)
    return sums / sizes[:, None], sizes

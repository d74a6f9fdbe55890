"""Checks at the public boundary, each raising :class:`NanoSIMSError` with a clear message."""

from __future__ import annotations

import numpy as np

from .errors import NanoSIMSError


def check_finite_array(array, name: str, ndim: tuple[int, ...] = (2, 3)) -> np.ndarray:
    """Return ``array`` as a float ndarray after checking its dimensions and values.

    Parameters
    ----------
    array : array_like
        Counts or features, (y, x, feature) or (pixel, feature).
    name : str
        What the caller calls the argument, used in the error message.
    ndim : tuple of int
        Accepted numbers of dimensions.

    Raises
    ------
    NanoSIMSError
        If the array has the wrong number of dimensions, is empty, is not numeric,
        or holds NaN or infinite values.
    """
    try:
        values = np.asarray(array, dtype=float)
    except (TypeError, ValueError) as exc:
        raise NanoSIMSError(f"{name}: expected a numeric array, got {type(array).__name__} ({exc}).") from exc
    if values.ndim not in ndim:
        wanted = " or ".join(f"{n}-D" for n in ndim)
        raise NanoSIMSError(f"{name}: expected a {wanted} array, got shape {values.shape}.")
    if values.size == 0:
        raise NanoSIMSError(f"{name}: the array is empty (shape {values.shape}).")
    bad = ~np.isfinite(values)
    if bad.any():
        raise NanoSIMSError(
            f"{name}: {int(bad.sum())} value(s) are NaN or infinite. "
            "Replace them first, for example with np.nan_to_num(array, nan=0.0)."
        )
    return values


def check_n_clusters(n_clusters, n_samples: int, name: str = "n_clusters") -> int:
    """Return ``n_clusters`` as an int after checking 2 <= n_clusters <= n_samples.

    Raises
    ------
    NanoSIMSError
        If ``n_clusters`` is not an integer, is below 2, or exceeds the number of pixels.
    """
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)):
        raise NanoSIMSError(f"{name}: expected a whole number of clusters, got {n_clusters!r}.")
    if n_clusters < 2:
        raise NanoSIMSError(f"{name}={n_clusters}: a clustering needs at least 2 clusters; use 2 or more.")
    if n_clusters > n_samples:
        raise NanoSIMSError(
            f"{name}={n_clusters}: there are only {n_samples} pixels; use at most {n_samples} clusters."
        )
    return int(n_clusters)


def check_labels(labels, n_pixels: int, name: str = "labels") -> np.ndarray:
    """Return ``labels`` flattened to a 1-D int array of length ``n_pixels``.

    Raises
    ------
    NanoSIMSError
        If the labels do not hold one whole number per pixel.
    """
    flat = np.asarray(labels).ravel()
    if flat.size != n_pixels:
        raise NanoSIMSError(f"{name}: {flat.size} labels for {n_pixels} pixels; give one label per pixel.")
    if not np.issubdtype(flat.dtype, np.integer):
        raise NanoSIMSError(f"{name}: expected integer cluster labels, got dtype {flat.dtype}.")
    return flat

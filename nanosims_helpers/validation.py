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


def check_non_negative(value, name: str, what: str = "a number") -> float:
    """Return ``value`` as a float after checking it is a number >= 0 (not a bool, not NaN).

    Raises
    ------
    NanoSIMSError
        Naming ``name`` and asking for ``what``, 0 or more.

    Examples
    --------
    >>> check_non_negative(0, "beta")
    0.0
    >>> check_non_negative(-1, "sigma_px", "a smoothing width in pixels")
    Traceback (most recent call last):
    ...
    nanosims_helpers.errors.NanoSIMSError: sigma_px=-1: give a smoothing width in pixels, 0 or more.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not value >= 0:
        raise NanoSIMSError(f"{name}={value!r}: give {what}, 0 or more.")
    return float(value)


def check_n_clusters(n_clusters, n_samples: int, name: str = "n_clusters") -> int:
    """Return ``n_clusters`` as an int after checking 2 <= n_clusters <= n_samples.

    Raises
    ------
    NanoSIMSError
        If ``n_clusters`` is not an integer, is below 2, or exceeds the number of pixels.
    """
    n_clusters = check_whole_number(n_clusters, name)
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


def check_whole_number(value, name: str, *, minimum: int | None = None, maximum: int | None = None,
                       maximum_reason: str = "") -> int:
    """Return ``value`` as an int after checking it is a whole number within the bounds given.

    ``bool`` is not accepted (``True`` is not a count), NumPy integers are.

    Parameters
    ----------
    value : object
        What the caller received.
    name : str
        The argument's name, used in the error message.
    minimum, maximum : int, optional
        Inclusive bounds.
    maximum_reason : str
        Why the maximum is what it is, added to the message (e.g. ``"the number of pixels"``).

    Raises
    ------
    NanoSIMSError
        If ``value`` is not a whole number or lies outside the bounds.

    Examples
    --------
    >>> check_whole_number(np.int64(3), "n_micro", minimum=2)
    3
    >>> check_whole_number(1.5, "bins", minimum=1)
    Traceback (most recent call last):
    ...
    nanosims_helpers.errors.NanoSIMSError: bins=1.5: expected a whole number, 1 or more.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        bounds = ""
        if minimum is not None and maximum is not None:
            bounds = f" from {minimum} to {maximum}"
        elif minimum is not None:
            bounds = f", {minimum} or more"
        raise NanoSIMSError(f"{name}={value!r}: expected a whole number{bounds}.")
    if minimum is not None and value < minimum:
        raise NanoSIMSError(f"{name}={value}: must be at least {minimum}.")
    if maximum is not None and value > maximum:
        reason = f" ({maximum_reason})" if maximum_reason else ""
        raise NanoSIMSError(f"{name}={value}: must be at most {maximum}{reason}.")
    return int(value)


def check_percentile_range(percentile, name: str = "percentile") -> tuple[float, float]:
    """Return a (lower, upper) pair of percentiles as floats, checked 0 <= lower < upper <= 100.

    Raises
    ------
    NanoSIMSError
        If ``percentile`` is not two numbers in that order and range.

    Examples
    --------
    >>> check_percentile_range((1, 99))
    (1.0, 99.0)
    """
    try:
        lower, upper = (float(p) for p in percentile)
    except (TypeError, ValueError) as exc:
        raise NanoSIMSError(f"{name}: expected two percentiles (lower, upper), got {percentile!r}.") from exc
    if not 0 <= lower < upper <= 100:
        raise NanoSIMSError(
            f"{name}={percentile!r}: percentiles must satisfy 0 <= lower < upper <= 100, for example (1, 99)."
        )
    return lower, upper


def check_features(features, name: str = "features", ndim: tuple[int, ...] = (2, 3)) -> np.ndarray:
    """Return ``features`` as a float array that can be clustered: finite, and not one value everywhere.

    Parameters
    ----------
    features : array_like, shape (y, x, feature) or (pixel, feature)
        What is to be clustered.
    name : str
        What the caller calls the argument.
    ndim : tuple of int
        Accepted numbers of dimensions.

    Raises
    ------
    NanoSIMSError
        As :func:`check_finite_array`; also if every pixel has the same values.

    Examples
    --------
    >>> check_features(np.ones((2, 2, 1)))
    Traceback (most recent call last):
    ...
    nanosims_helpers.errors.NanoSIMSError: features: every pixel has the same values (a constant image), \
so there is nothing to cluster. Check that the image holds counts and that the right masses were selected.
    """
    values = check_finite_array(features, name, ndim=ndim)
    table = values.reshape(-1, values.shape[-1])
    if (table.min(axis=0) == table.max(axis=0)).all():
        raise NanoSIMSError(
            f"{name}: every pixel has the same values (a constant image), so there is nothing to "
            "cluster. Check that the image holds counts and that the right masses were selected."
        )
    return values


def check_label_map(labels, pixel_shape, name: str = "labels") -> np.ndarray:
    """Return ``labels`` flat after checking they hold one whole number per pixel of ``pixel_shape``.

    A 2-D label map must have the image's (y, x) shape; any other layout must hold as many
    labels as there are pixels.

    Parameters
    ----------
    labels : array_like of int
        A label map (y, x) or one label per pixel.
    pixel_shape : tuple of int
        The pixel grid: (y, x) for an image, (pixel,) for a pixel table.
    name : str
        What the caller calls the argument.

    Raises
    ------
    NanoSIMSError
        If the map's shape or size does not match, or the labels are not integers.

    Examples
    --------
    >>> check_label_map(np.zeros((2, 3), int), (2, 3)).shape
    (6,)
    """
    pixel_shape = tuple(pixel_shape)
    labels_shape = np.shape(labels)
    if len(pixel_shape) == 2 and len(labels_shape) == 2 and labels_shape != pixel_shape:
        raise NanoSIMSError(
            f"{name}: label map of shape {labels_shape} for an image of {pixel_shape[0]} x {pixel_shape[1]} "
            "pixels; give the label map of this image."
        )
    return check_labels(labels, int(np.prod(pixel_shape)), name)


def check_label_map_pair(labels, reference) -> tuple[np.ndarray, np.ndarray]:
    """Return ``labels`` and ``reference`` flat after checking both label the pixels of ``labels``.

    ``labels`` is checked first (:func:`check_label_map` against its own shape), then
    ``reference`` against that shape, each named in the error.

    Examples
    --------
    >>> [part.tolist() for part in check_label_map_pair([[0, 1]], [[5, 5]])]
    [[0, 1], [5, 5]]
    >>> check_label_map_pair([[0, 1]], [[5], [5]])
    Traceback (most recent call last):
    ...
    nanosims_helpers.errors.NanoSIMSError: reference: label map of shape (2, 1) for an image of 1 x 2 pixels; \
give the label map of this image.
    """
    labels_array = np.asarray(labels)
    flat = check_label_map(labels_array, labels_array.shape, "labels")
    return flat, check_label_map(reference, labels_array.shape, "reference")


def check_cluster_labels(
    labels, pixel_shape, name: str = "labels", *, allow_empty: bool = False, n_clusters: int | None = None
) -> tuple[np.ndarray, int]:
    """Check cluster numbers 0..k-1 against a pixel grid; return them flat, with the number of clusters.

    Labels must be whole numbers 0..k-1, one per pixel, each cluster holding at least one pixel
    unless ``allow_empty``. This is what k-means and the kit's other clusterings return; the
    cluster number is also the colour index in every plot.

    Parameters
    ----------
    labels : array_like of int, shape (y, x) or (pixel,)
        Cluster number of each pixel.
    pixel_shape : tuple of int
        Shape of the pixel grid the labels belong to: ``values.shape[:-1]``.
    name : str
        What the caller calls the argument, for error messages.
    allow_empty : bool
        Accept cluster numbers without pixels, as in a map of true phases where one phase is
        absent (fine to draw, but it has no statistics).
    n_clusters : int, optional
        The number of clusters the labels belong to (e.g. one per centre): labels must be
        below it, and it is returned as k.

    Returns
    -------
    flat : ndarray of int, shape (pixel,)
    n_clusters : int
        ``flat.max() + 1``, or ``n_clusters`` when given.

    Raises
    ------
    NanoSIMSError
        If the labels do not match the pixels, are negative, reach ``n_clusters`` or skip a
        cluster number.

    Examples
    --------
    >>> flat, k = check_cluster_labels(np.array([[0, 1], [1, 2]]), (2, 2))
    >>> flat.tolist(), k
    ([0, 1, 1, 2], 3)
    """
    flat = check_label_map(labels, pixel_shape, name)
    if flat.min() < 0:
        raise NanoSIMSError(f"{name}: negative cluster number {flat.min()}; number clusters 0..k-1.")
    if n_clusters is not None and flat.max() >= n_clusters:
        raise NanoSIMSError(
            f"{name}: values must be cluster numbers 0 .. {n_clusters - 1} (one per centre), "
            f"got {flat.min()} .. {flat.max()}."
        )
    counts = np.bincount(flat, minlength=n_clusters or 0)
    empty = np.flatnonzero(counts == 0)
    if empty.size and not allow_empty:
        raise NanoSIMSError(
            f"{name}: cluster(s) {empty.tolist()} have no pixels; number clusters 0..k-1 without gaps, "
            "for example with np.unique(labels, return_inverse=True)[1]."
        )
    return flat, counts.size


def read_only(array: np.ndarray) -> np.ndarray:
    """Return a read-only view of ``array``, for results whose arrays must not change under their owner.

    The caller's own array stays writable; copy the view (``.copy()``) to get an array to edit.

    Examples
    --------
    >>> values = np.zeros(3)
    >>> view = read_only(values)
    >>> view.flags.writeable, values.flags.writeable
    (False, True)
    """
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view

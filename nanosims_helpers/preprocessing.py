"""Put the mass channels of an image on comparable scales before clustering.

Every function takes counts whose LAST axis is the mass channel, an image (y, x, mass) or a
pixel table (pixel, mass), and returns a float array of the same shape. A channel that holds the
same value in every pixel carries nothing to cluster on: it gives one ``UserWarning`` naming it
and comes back as zeros, never NaN.

Why the default is ``"asinh"``: NanoSIMS counts are Poisson, a pixel's variance equals its
mean, and on top of that topography and matrix effects multiply all counts of a pixel by a
factor. Dividing by the channel maximum (the reference notebook) lets one hot pixel set the
scale of a whole channel, and bright masses dominate the distances KMeans computes. A
variance-stabilizing transform puts the masses on comparable, noise-normalized scales:

* ``asinh(counts / 5)`` is linear for a few counts and logarithmic for many, so a factor of 2
  between two phases counts the same in every bright mass, multiplicative effects shrink to a
  shift, and a nearly empty mass (13C or 12C15N at natural abundance) keeps its small noise;
* ``2 * sqrt(counts + 3/8)`` (Anscombe) gives Poisson noise of 1 in every mass, but leaves the
  multiplicative variation of bright masses large.

A z-score after either transform gives every mass the same spread, including masses that hold
only noise: on low-count images KMeans then spends a cluster on the few pixels where a nearly
empty mass has one count. The ``+zscore`` variants do help where the signal sits in dim masses,
e.g. small 13C/15N-labelled hotspots in a bright image.

Measured by ``benchmarks/bench_preprocessing_ari.py`` (adjusted Rand index of KMeans against the
true phases of simulated soils): ``"asinh"`` 0.97-0.99 on 4-phase images at every count level
tried and 0.90 with labelled hotspots (5 phases); ``"anscombe"`` 0.97-0.99 and 0.80;
``"asinh+zscore"`` and ``"anscombe+zscore"`` down to 0.72 at the lowest counts; the reference
pipeline 0.3-0.75.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._lazy import renamed
from .errors import NanoSIMSError
from .image import NanoSIMSImage, check_image
from .validation import check_finite_array, check_percentile_range

#: The preprocessing :func:`preprocess` and the pixel-by-pixel methods of
#: :func:`nanosims_helpers.pipeline.cluster_image` (``"kmeans"``, ``"pca-kmeans"``,
#: ``"hierarchical"``) use unless told otherwise; the module docstring says why. The default
#: method, ``"spatial"``, uses ``"composition"`` (:func:`composition_transform`).
RECOMMENDED_PREPROCESSING = "asinh"

#: Default asinh cofactor: counts well below it stay nearly linear, counts well above it are
#: compressed like a logarithm. 5 is the usual choice for ion counts in mass cytometry.
ASINH_COFACTOR = 5.0

#: asinh cofactor of :func:`composition_transform`. While the ``"spatial"`` method was tuned on
#: five seeds of the realistic sample, 10 kept the labelled cells and the two organic phases apart
#: best (5: ARI 0.89-0.90; 10: 0.90-0.91; 20: 0.91-0.92 but the cells were lost on one seed).
COMPOSITION_COFACTOR = 10.0

#: Largest factor by which :func:`composition_transform` scales a pixel up. Pixels with almost
#: no counts (holes, the space around a particle) have no composition to speak of; scaled up to
#: the mean total their noise would fill the map with salt and pepper. 4 covers an ion yield
#: that varies by a factor of 4 across the field (8 gave the same maps on the realistic sample).
COMPOSITION_MAX_GAIN = 4.0


def _named(mask, masses=None) -> str:
    """Name the channels where ``mask`` is True, by index and, if known, mass."""
    indices = np.flatnonzero(mask)
    if masses is None or len(masses) != len(mask):
        return ", ".join(f"channel {i}" for i in indices)
    return ", ".join(f"channel {i} ({masses[i]})" for i in indices)


def _split_constant(counts, masses=None) -> tuple[np.ndarray, np.ndarray]:
    """Check ``counts``; return them as floats and a mask of the channels that are constant."""
    values = check_finite_array(counts, "counts")
    table = values.reshape(-1, values.shape[-1])
    constant = table.min(axis=0) == table.max(axis=0)
    if constant.any():
        warnings.warn(
            f"{_named(constant, masses)}: the same value in every pixel, so nothing to cluster on; "
            "set to 0. Leave such channels out (masses=[...], --masses on the command line).",
            UserWarning,
        )
    return values, constant


def _apply(transform, counts, masses=None) -> np.ndarray:
    """Run ``transform`` on the non-constant channels of ``counts``; constant channels become 0."""
    values, constant = _split_constant(counts, masses)
    result = np.zeros_like(values)
    if not constant.all():
        result[..., ~constant] = transform(values[..., ~constant])
    return result


def _max(values):
    maxima = values.max(axis=tuple(range(values.ndim - 1)))
    if (maxima <= 0).any():
        raise NanoSIMSError(
            "counts: max scaling needs a positive maximum in every channel, but some channel's "
            "values are all <= 0; use the percentile or zscore scaling for such data."
        )
    return values / maxima


def _zscore(values):
    axes = tuple(range(values.ndim - 1))
    return (values - values.mean(axis=axes)) / values.std(axis=axes)


def _anscombe(values):
    if values.min() < 0:
        raise NanoSIMSError(
            f"counts: the Anscombe transform needs counts >= 0, got a minimum of {values.min():g}. "
            "Use the asinh transform for data that can be negative (e.g. background-subtracted)."
        )
    return 2.0 * np.sqrt(values + 3.0 / 8.0)


def _asinh(values, cofactor=ASINH_COFACTOR):
    return np.arcsinh(values / cofactor)


def scale_max(counts, *, masses=None) -> np.ndarray:
    """Divide each channel by its maximum, as the reference notebook did.

    Simple, but one hot pixel (a detector spike, a tiny bright grain) sets the scale of the whole
    channel and squeezes every other pixel towards 0. Kept for comparison.

    Parameters
    ----------
    counts : array_like, shape (y, x, mass) or (pixel, mass)
        Ion counts, mass channel last.
    masses : sequence of str, optional
        Channel names, used only in warnings.

    Returns
    -------
    ndarray of float, same shape
        Each non-constant channel with maximum 1 (and minimum 0 for counts >= 0).

    Raises
    ------
    NanoSIMSError
        If ``counts`` is not a finite 2-D or 3-D array, or a channel's maximum is <= 0 (not counts).

    Examples
    --------
    >>> scale_max([[1.0, 10.0], [4.0, 5.0]])
    array([[0.25, 1.  ],
           [1.  , 0.5 ]])
    """
    return _apply(_max, counts, masses)


def scale_percentile(counts, lower: float = 1.0, upper: float = 99.0, *, masses=None) -> np.ndarray:
    """Map each channel's ``lower`` and ``upper`` percentiles to 0 and 1, clipping the rest.

    Robust to a few hot or dead pixels, unlike :func:`scale_max`. A channel whose two percentiles
    are equal (e.g. a dim mass with mostly zero counts) is scaled by its minimum and maximum
    instead, with a ``UserWarning``.

    Parameters
    ----------
    counts : array_like, shape (y, x, mass) or (pixel, mass)
        Ion counts, mass channel last.
    lower, upper : float
        Percentiles, 0 <= lower < upper <= 100.
    masses : sequence of str, optional
        Channel names, used only in warnings.

    Returns
    -------
    ndarray of float, same shape, values in [0, 1]

    Raises
    ------
    NanoSIMSError
        If ``counts`` is not a finite 2-D or 3-D array, or the percentiles are out of order.

    Examples
    --------
    >>> scale_percentile([[0.0], [1.0], [2.0], [3.0], [4.0], [100.0]], lower=0, upper=80).ravel()
    array([0.  , 0.25, 0.5 , 0.75, 1.  , 1.  ])
    """
    lower, upper = check_percentile_range((lower, upper), "lower, upper")
    values, constant = _split_constant(counts, masses)
    table = values.reshape(-1, values.shape[-1])
    low, high = np.percentile(table, [lower, upper], axis=0)
    flat = (high == low) & ~constant
    if flat.any():
        warnings.warn(
            f"{_named(flat, masses)}: the {lower:g}th and {upper:g}th percentiles are equal, "
            "so scaled by the channel minimum and maximum instead.",
            UserWarning,
        )
        low = np.where(flat, table.min(axis=0), low)
        high = np.where(flat, table.max(axis=0), high)
    span = np.where(constant, 1.0, high - low)
    return np.where(constant, 0.0, np.clip((values - low) / span, 0.0, 1.0))


def scale_zscore(counts, *, masses=None) -> np.ndarray:
    """Subtract each channel's mean and divide by its standard deviation.

    Parameters
    ----------
    counts : array_like, shape (y, x, mass) or (pixel, mass)
        Ion counts (or transformed counts), mass channel last.
    masses : sequence of str, optional
        Channel names, used only in warnings.

    Returns
    -------
    ndarray of float, same shape
        Each non-constant channel with mean 0 and standard deviation 1.

    Raises
    ------
    NanoSIMSError
        If ``counts`` is not a finite 2-D or 3-D array.

    Examples
    --------
    >>> scale_zscore([[1.0], [3.0]]).ravel()
    array([-1.,  1.])
    """
    return _apply(_zscore, counts, masses)


def asinh_transform(counts, cofactor: float = ASINH_COFACTOR, *, masses=None) -> np.ndarray:
    """Return ``arcsinh(counts / cofactor)``: linear for few counts, logarithmic for many.

    Compresses hot pixels strongly. Defined for negative values too (it is an odd function), so
    it suits background-subtracted data; raw counts are never negative.

    Parameters
    ----------
    counts : array_like, shape (y, x, mass) or (pixel, mass)
        Ion counts, mass channel last.
    cofactor : float
        Counts at which the transform turns from linear to logarithmic; > 0.
    masses : sequence of str, optional
        Channel names, used only in warnings.

    Returns
    -------
    ndarray of float, same shape

    Raises
    ------
    NanoSIMSError
        If ``counts`` is not a finite 2-D or 3-D array, or ``cofactor`` is not positive.

    Examples
    --------
    >>> asinh_transform([[0.0], [5.0]], cofactor=5.0).ravel().round(4)
    array([0.    , 0.8814])
    """
    if not cofactor > 0:
        raise NanoSIMSError(f"cofactor={cofactor!r}: the asinh cofactor must be a positive number of counts.")
    return _apply(lambda values: _asinh(values, cofactor), counts, masses)


def anscombe_transform(counts, *, masses=None) -> np.ndarray:
    """Return ``2 * sqrt(counts + 3/8)``, which turns Poisson counts into unit-variance values.

    The noise of Poisson counts grows with the mean (variance = mean); after this transform it
    is about 1 whatever the mean (from a few counts per pixel up), so the same difference means
    the same number of noise standard deviations in every channel.

    Parameters
    ----------
    counts : array_like, shape (y, x, mass) or (pixel, mass)
        Ion counts >= 0, mass channel last.
    masses : sequence of str, optional
        Channel names, used only in warnings.

    Returns
    -------
    ndarray of float, same shape

    Raises
    ------
    NanoSIMSError
        If ``counts`` is not a finite 2-D or 3-D array or holds negative values (raw counts
        are checked non-negative when loaded; use :func:`asinh_transform` for other data).

    Examples
    --------
    >>> anscombe_transform([[0.0], [4.0]]).ravel().round(4)
    array([1.2247, 4.1833])
    """
    return _apply(_anscombe, counts, masses)


def composition_values(
    counts, cofactor: float = COMPOSITION_COFACTOR, *, typical_total: float | None = None,
    reference_total: float | None = None,
) -> np.ndarray:
    """Return ``arcsinh(counts * reference_total / pixel_total / cofactor)``: each pixel's composition.

    The non-standardized part of :func:`composition_transform`. Pixels with fewer counts than a
    quarter of ``typical_total`` (:data:`COMPOSITION_MAX_GAIN`) are scaled as if they had that many.

    Parameters
    ----------
    counts : array_like, shape (..., mass)
        Ion counts >= 0, mass channel last (an image, or pixels drawn from one).
    cofactor : float
        asinh cofactor in counts (at ``reference_total``).
    typical_total : float, optional
        The image's mean total per pixel; by default the mean total of ``counts``. Give it when
        ``counts`` are pixels drawn from a larger image.
    reference_total : float, optional
        The total every pixel is rescaled to; by default ``typical_total``. A study model
        (:mod:`nanosims_helpers.study`) gives every image the same one, so that a phase has the
        same features in an image counted longer.

    Returns
    -------
    ndarray of float, same shape

    Examples
    --------
    >>> composition_values([[40.0, 10.0], [4.0, 1.0]], reference_total=50.0).round(3)  # 5 ions, taken as 6.875
    array([[2.095, 0.881],
           [1.789, 0.675]])
    """
    values = np.asarray(counts, dtype=float)
    totals = values.sum(axis=-1, keepdims=True)
    # the mean, not the median: where most pixels are empty, the median is about 0
    typical = totals.mean() if typical_total is None else typical_total
    reference = typical if reference_total is None else reference_total
    scale = reference / np.maximum(totals, typical / COMPOSITION_MAX_GAIN)
    return np.arcsinh(values * scale / cofactor)


def composition_transform(counts, cofactor: float = COMPOSITION_COFACTOR, *, masses=None) -> np.ndarray:
    """Return z-scores of ``arcsinh(counts * mean_total / pixel_total / cofactor)``.

    Each pixel's counts are first rescaled to the image's mean total (the sum over the
    masses), so a factor that multiplies every mass of a pixel (ion yield, topography, a drift of
    the primary current) drops out and only the pixel's composition is left (nearly empty pixels
    are scaled up by at most :data:`COMPOSITION_MAX_GAIN`, so their noise stays small); then asinh and a
    z-score per channel as in ``"asinh+zscore"``. On the realistic sample (ion yield x3-4 across
    the field) this keeps one phase from splitting into a bright and a dim cluster.

    Parameters
    ----------
    counts : array_like, shape (y, x, mass) or (pixel, mass)
        Ion counts >= 0, mass channel last, at least 2 masses.
    cofactor : float
        asinh cofactor in counts (at the mean total).
    masses : sequence of str, optional
        Channel names, used only in warnings.

    Returns
    -------
    ndarray of float, same shape

    Raises
    ------
    NanoSIMSError
        If ``counts`` is not a finite 2-D or 3-D array.

    Examples
    --------
    >>> bright, dim = [40.0, 20.0], [20.0, 10.0]   # the same composition, half the ions
    >>> values = composition_transform([bright, dim, [2.0, 40.0]])
    >>> bool(np.allclose(values[0], values[1]))
    True
    """
    return _apply(lambda values: _zscore(composition_values(values, cofactor)), counts, masses)


def _then_zscore(transform):
    return lambda counts, *, masses=None: _apply(lambda values: _zscore(transform(values)), counts, masses)


def _identity(counts, *, masses=None) -> np.ndarray:
    return check_finite_array(counts, "counts").copy()


#: Preprocessing name -> function(counts, *, masses=None). "none" clusters the counts as they are.
PREPROCESSING = {
    "none": _identity,
    "max": scale_max,
    "percentile": scale_percentile,
    "zscore": scale_zscore,
    "asinh": asinh_transform,
    "anscombe": anscombe_transform,
    "asinh+zscore": _then_zscore(_asinh),
    "anscombe+zscore": _then_zscore(_anscombe),
    "composition": composition_transform,
}


@renamed(method="preprocessing")
def preprocess(counts, preprocessing: str = RECOMMENDED_PREPROCESSING, *, masses=None) -> np.ndarray:
    """Apply the preprocessing called ``preprocessing`` (a key of :data:`PREPROCESSING`).

    The default, ``"asinh"``, suits raw NanoSIMS counts: it is linear for a few counts and
    logarithmic for many, so bright masses no longer dominate and nearly empty masses add little
    noise (the module docstring compares the choices). ``"max"`` (the reference notebook) is
    driven by single hot pixels and is kept for comparison. For data that are not counts
    (count rates, already normalized images) use ``"zscore"`` or ``"percentile"``.

    Parameters
    ----------
    counts : array_like, shape (y, x, mass) or (pixel, mass)
        Ion counts, mass channel last.
    preprocessing : str
        One of ``"none"``, ``"max"``, ``"percentile"``, ``"zscore"``, ``"asinh"``,
        ``"anscombe"``, ``"asinh+zscore"``, ``"anscombe+zscore"``, ``"composition"``
        (:func:`composition_transform`, what the ``"spatial"`` clustering method uses).
    masses : sequence of str, optional
        Channel names, used only in warnings.

    Returns
    -------
    ndarray of float, same shape as ``counts``

    Raises
    ------
    NanoSIMSError
        If ``preprocessing`` is unknown, or ``counts`` is not a finite 2-D or 3-D array.

    Examples
    --------
    >>> preprocess([[1.0, 2.0], [4.0, 8.0]], "max")
    array([[0.25, 0.25],
           [1.  , 1.  ]])
    """
    try:
        function = PREPROCESSING[preprocessing]
    except (KeyError, TypeError):
        raise NanoSIMSError(
            f"preprocessing={preprocessing!r}: unknown; use one of {sorted(PREPROCESSING)}."
        ) from None
    return function(counts, masses=masses)


def ratio_image(image: NanoSIMSImage, numerator: str, denominator: str, min_denominator: float = 1.0) -> np.ndarray:
    """Return the ratio of two masses per pixel, e.g. 12C15N / 12C14N for 15N enrichment.

    Pixels where the denominator has fewer than ``min_denominator`` counts get NaN, not 0: there
    the ratio is undefined or pure noise, and 0 would be a real-looking value that pulls means
    down and shows up as "no label" on a map. NaN is skipped by ``np.nanmean`` and left blank by
    matplotlib's ``imshow``.

    Parameters
    ----------
    image : NanoSIMSImage
        The image; masses are looked up by name, spaces ignored ("12C 15N" = "12C15N").
    numerator, denominator : str
        Mass names.
    min_denominator : float
        Fewest denominator counts for a pixel to get a ratio; > 0.

    Returns
    -------
    ndarray of float, shape (y, x)
        ``numerator / denominator``, NaN where the denominator is below ``min_denominator``.

    Raises
    ------
    NanoSIMSError
        If a mass is not in the image, ``min_denominator`` is not positive, or no pixel has
        enough denominator counts.

    Examples
    --------
    >>> image = NanoSIMSImage(np.array([[[1.0, 4.0], [3.0, 0.0]]]), ("12C 15N", "12C14N"))
    >>> ratio_image(image, "12C15N", "12C 14N")
    array([[0.25,  nan]])
    """
    image = check_image(image)
    if not min_denominator > 0:
        raise NanoSIMSError(
            f"min_denominator={min_denominator!r}: must be a positive number of counts, "
            "otherwise pixels with 0 counts would be divided by 0."
        )
    top = image.channel(numerator)
    bottom = image.channel(denominator)
    enough = bottom >= min_denominator
    if not enough.any():
        raise NanoSIMSError(
            f"{image.name}: no pixel has {denominator} >= {min_denominator:g} counts "
            f"(maximum {bottom.max():g}); lower min_denominator or use an image with more counts."
        )
    ratio = np.full(bottom.shape, np.nan)
    np.divide(top, bottom, out=ratio, where=enough)
    return ratio

"""One call from an image to a cluster map: select masses, preprocess, cluster.

:func:`cluster_image` is what the command line, the widgets and the notebooks use; its methods
are those of the registry (:mod:`nanosims_helpers.methods`), the same names on the command line
and in the explorer.
:func:`reference_pipeline` repeats the reference notebook (max scaling, KMeans on the channels)
so that the two can be compared on the same image.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .clustering import ClusterResult
from .count_split import hold_out_counts, remember_split
from .errors import NanoSIMSError
from .image import NanoSIMSImage
from .isotopes import split_for_ratios
from .methods import DEFAULT_METHOD, METHODS, Method, default_preprocessing, get_method, method_names_with
from .preprocessing import RECOMMENDED_PREPROCESSING, preprocess

__all__ = [
    "DEFAULT_METHOD", "METHODS", "RECOMMENDED_PREPROCESSING", "cluster_features", "cluster_image",
    "default_preprocessing", "image_features", "reference_pipeline",
]


def _as_image(image) -> NanoSIMSImage:
    """Accept a NanoSIMSImage, or a (y, x, mass) array whose masses are named "mass 1", ..."""
    if isinstance(image, NanoSIMSImage):
        return image
    counts = np.asarray(image)
    n_masses = counts.shape[2] if counts.ndim == 3 else 0
    return NanoSIMSImage(counts, tuple(f"mass {i + 1}" for i in range(n_masses)))


def cluster_image(
    image,
    n_clusters: int | None,
    *,
    method: str = DEFAULT_METHOD,
    preprocessing: str | None = None,
    masses=None,
    n_components: int = 2,
    random_state=0,
    ratios=None,
) -> ClusterResult:
    """Preprocess the counts of ``image`` and cluster its pixels into ``n_clusters`` groups.

    The default, ``method="spatial"`` (:func:`nanosims_helpers.spatial.spatial_map`), is made for
    real images: Poisson counts of a few hundred ions per pixel, an ion yield that varies by a
    factor 3-4 across the field, a beam blur that mixes the pixels on every boundary. It rescales
    each pixel to the mean total (``"composition"`` preprocessing: the yield drops out),
    smooths the counts slightly, finds the phases on the pixels away from boundaries, and cleans
    the map with a Potts prior (no salt and pepper). On five seeds of the realistic sample it
    scored ARI 0.92-0.93 and found the 13C/15N-labelled cells with F1 0.86-0.89; on ``soil_256``
    ARI 0.976 (``benchmarks/bench_pipelines.py``, ``tests/test_pipeline.py``).

    ``method="poisson"`` (:func:`nanosims_helpers.poisson_model.poisson_map`) is a
    counting-statistics model of the image: each phase a composition times a smooth ion-yield
    field, blurred by the beam, Poisson counts widened by the composition variation within a phase,
    a Potts prior; phases added where no phase explains connected pixels and removed where their
    pixels are explained without them. It returns a ``confidence`` map beside the labels. On the
    same five seeds it scored ARI 0.97-0.98 and labelled-cell F1 0.95-0.97, on ``soil_256`` 0.996, and
    it keeps small bright particles the spatial method loses; it takes about 3.5 times as long. With
    ``n_clusters=None`` it keeps the phases its counts tell apart (the true number on 20 of 20
    realistic images).
    ``preprocessing`` does not change its clusters (it models the counts), only the values
    ``cluster_image``'s callers score them on.

    ``method="kmeans"`` is the pixel-by-pixel pipeline the kit recommended before: ``"asinh"``
    (``arcsinh(counts / 5)``), then KMeans. Dividing by the channel maximum (the reference
    notebook, :func:`reference_pipeline`) lets single hot pixels set the scale; the
    :mod:`nanosims_helpers.preprocessing` docstring compares the choices.

    To test the clusters' isotope ratios afterwards, name the ratios here: half the counts of
    their masses is held out of the clustering (odd/even planes, or each ion sent to one half at
    random, :func:`~nanosims_helpers.isotopes.split_for_ratios`), and
    ``isotope_table(image, result)`` tests the other half, which the clustering never saw. Testing
    the counts that chose the clusters would find enrichment in unlabelled images; the kit refuses
    it. The masses not in a ratio keep all their counts.

    Parameters
    ----------
    image : NanoSIMSImage or array_like, shape (y, x, mass)
        Counts; an array's masses are called "mass 1", "mass 2", ...
    n_clusters : int or None
        Number of clusters, k >= 2; None for a method that counts its clusters itself
        (``"poisson"``: the phases its counts tell apart, see
        :func:`~nanosims_helpers.poisson_model.count_phases`).
    method : str
        A name of :mod:`nanosims_helpers.methods`: ``"spatial"`` (the default, above),
        ``"poisson"`` (the counting model, above), ``"kmeans"`` (KMeans on the preprocessed channels),
        ``"pca-kmeans"`` (KMeans on the first ``n_components`` principal components) or
        ``"hierarchical"`` (Ward clustering, see :func:`nanosims_helpers.hierarchical.hierarchical_map`).
    preprocessing : str, optional
        A key of :data:`nanosims_helpers.preprocessing.PREPROCESSING`; by default
        :func:`default_preprocessing` of ``method``.
    masses : sequence of str, optional
        Masses to cluster on (spaces ignored). By default every ion mass: non-ion channels such
        as the secondary-electron image ``SE`` are left out, with a warning (see
        :data:`nanosims_helpers.image.NON_ION_CHANNELS`); name them here to include them.
    n_components : int
        Principal components for ``"pca-kmeans"``; ignored by the other methods.
    random_state : int
        Seed: the same seed gives the same labels (and the same split of the counts).
    ratios : str or sequence, optional
        Isotope ratios to be tested on the clusters, e.g. ``"13C/12C,12C15N/12C14N"`` (see
        :func:`~nanosims_helpers.isotopes.parse_ratios`): their masses are clustered on half
        their counts, the other half kept in ``result.split`` for the test.

    Returns
    -------
    ClusterResult
        ``labels`` (y, x), ``centers``, ``features`` (what was clustered; for ``"poisson"`` the
        counts divided by the fitted ion yield, the centres each phase's mean counts at the mean
        yield; for ``"spatial"`` the preprocessed, lightly smoothed counts the pixels were assigned
        on), ``pca``, ``confidence`` (``"poisson"`` only), ``split`` (the counts the clusters
        were found on and, with ``ratios``, those held out) and ``preprocessed`` (the clustered
        masses after ``preprocessing``, what scores and profiles are computed on).

    Raises
    ------
    NanoSIMSError
        If ``method`` or ``preprocessing`` is unknown, a mass is not in the image, the ratios are
        unreadable or need counts that cannot be split (dead-time-corrected counts of a single
        plane), or the clustering cannot be done (see :func:`nanosims_helpers.clustering.kmeans_map`).

    Examples
    --------
    >>> counts = np.zeros((4, 4, 2))
    >>> counts[:, 2:] = [30.0, 5.0]
    >>> counts[:, :2] = [2.0, 40.0]
    >>> cluster_image(counts, 2).labels.shape
    (4, 4)
    >>> image = NanoSIMSImage(np.random.default_rng(0).poisson([300, 3.4, 50], (16, 16, 3)).astype(float),
    ...                       ("12C", "13C", "16O"))
    >>> cluster_image(image, 2, ratios="13C/12C").split.describe()
    'held-out half: binomial thinning, random_state 0'
    """
    record = get_method(method)
    if n_clusters is None and not record.recommends_k:
        raise NanoSIMSError(f"method={method!r} needs a number of clusters; only "
                            f"{list(method_names_with('recommends_k'))} count their own "
                            "(n_clusters=None). Choose k with recommend_k(image).")
    preprocessing = record.preprocessing if preprocessing is None else preprocessing
    image = _as_image(image)
    selected = _selected(image, masses)
    if ratios is None:
        split = hold_out_counts(image, [], found_on=selected.masses)
    else:
        split = split_for_ratios(image, ratios, selected.masses, random_state=random_state)
        selected = split.selection.select(selected.masses)
    if record.needs_counts:  # the preprocessed values after the fit: not held through it (large images)
        options = {"preprocessing": preprocessing} if record.takes_preprocessing else {}
        result = record.load()(selected.counts, n_clusters, masses=selected.masses, random_state=random_state,
                               **options)
        preprocessed = preprocess(selected.counts, preprocessing, masses=selected.masses)
    else:
        preprocessed = preprocess(selected.counts, preprocessing, masses=selected.masses)
        result = _cluster_features(record, preprocessed, n_clusters, n_components, random_state)
    result = replace(result, split=split, preprocessed=preprocessed)
    remember_split(result.labels, split)
    return result


def image_features(image, *, preprocessing: str = RECOMMENDED_PREPROCESSING, masses=None) -> np.ndarray:
    """Return the (y, x, feature) values the pipeline clusters: the chosen masses, preprocessed.

    The first half of :func:`cluster_image` for the pixel-by-pixel methods.

    Parameters
    ----------
    image : NanoSIMSImage or array_like, shape (y, x, mass)
        Counts.
    preprocessing : str
        A key of :data:`nanosims_helpers.preprocessing.PREPROCESSING`.
    masses : sequence of str, optional
        Masses to use, in this order (spaces ignored); by default every ion mass (non-ion
        channels such as ``SE`` left out, with a warning).

    Returns
    -------
    ndarray of float, shape (y, x, n_features)

    Raises
    ------
    NanoSIMSError
        If ``preprocessing`` is unknown or a mass is not in the image.

    Examples
    --------
    >>> image = NanoSIMSImage(np.arange(12.0).reshape(2, 3, 2), ("12C", "16O"))
    >>> image_features(image, masses=["16O"]).shape
    (2, 3, 1)
    """
    image = _selected(image, masses)
    return preprocess(image.counts, preprocessing, masses=image.masses)


def _selected(image, masses) -> NanoSIMSImage:
    """``image`` as a NanoSIMSImage holding only ``masses``; if None, every ion mass (non-ion channels
    such as ``SE`` left out with a warning, see :meth:`NanoSIMSImage.for_clustering`)."""
    return _as_image(image).for_clustering(masses)


def cluster_features(
    features, n_clusters: int, *, method: str = "kmeans", n_components: int = 2, random_state=0
) -> ClusterResult:
    """Cluster already preprocessed (y, x, feature) values with a pixel-by-pixel method.

    The second half of :func:`cluster_image` for ``"kmeans"``, ``"pca-kmeans"`` and
    ``"hierarchical"``, for callers that keep the preprocessed values (for scores or profiles)
    and should not compute them twice. ``"poisson"`` and ``"spatial"`` need the counts: use
    :func:`cluster_image`.

    Raises
    ------
    NanoSIMSError
        If ``method`` is unknown or ``"spatial"``, or the clustering cannot be done.

    Examples
    --------
    >>> features = np.zeros((4, 4, 2))
    >>> features[:, 2:] = [1.0, 0.0]
    >>> cluster_features(features, 2, method="pca-kmeans", n_components=1).n_clusters
    2
    """
    record = get_method(method)
    if record.needs_counts:
        raise NanoSIMSError(
            f"method={method!r} takes the counts themselves (it smooths or models them), so it cannot start from "
            "preprocessed values; call cluster_image(image, k) with the counts."
        )
    return _cluster_features(record, features, n_clusters, n_components, random_state)


def _cluster_features(record: Method, features, n_clusters: int, n_components: int, random_state) -> ClusterResult:
    options = {"n_components": n_components} if record.takes_components else {}
    return record.load()(features, n_clusters, random_state=random_state, **options)


def reference_pipeline(image, n_clusters: int = 3, *, random_state=0) -> ClusterResult:
    """Cluster ``image`` as the reference notebook did: max scaling, then KMeans on the channels.

    Kept to compare with :func:`cluster_image`'s recommended pipeline on the same image.

    Parameters
    ----------
    image : NanoSIMSImage or array_like, shape (y, x, mass)
        Counts.
    n_clusters : int
        Number of clusters; the notebook used 3.
    random_state : int
        Seed for KMeans (the notebook set none, so its results changed from run to run).

    Returns
    -------
    ClusterResult

    Raises
    ------
    NanoSIMSError
        As :func:`cluster_image`.

    Examples
    --------
    >>> counts = np.zeros((4, 4, 2))
    >>> counts[:, 2:] = [30.0, 5.0]
    >>> counts[:, :2] = [2.0, 40.0]
    >>> reference_pipeline(counts, 2).n_clusters
    2
    """
    return cluster_image(image, n_clusters, method="kmeans", preprocessing="max", random_state=random_state)

"""Cluster the pixels of a preprocessed image: KMeans, and KMeans on principal components.

Features are images (y, x, feature), usually the output of
:func:`nanosims_helpers.preprocessing.preprocess`; every pixel is one sample. The results are
:class:`ClusterResult` objects holding an image-shaped label map.
"""

from __future__ import annotations

import warnings
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from .defaults import DEFAULT_THREADS
from .errors import NanoSIMSError
from .validation import check_features, check_n_clusters, check_whole_number, read_only

if TYPE_CHECKING:
    from .count_split import CountSplit

#: KMeans restarts from different k-means++ starts; the best is kept. A single start (the
#: reference notebook's ``n_init="auto"``) ended in a poor local optimum on several simulated
#: soil images (adjusted Rand index 0.6-0.7 instead of 0.98 against the true phases).
KMEANS_N_INIT = 4

def limit_threads(n_threads: int | None = DEFAULT_THREADS):
    """Context in which KMeans, PCA and NumPy's linear algebra use at most ``n_threads`` threads.

    The library functions run on whatever threads their caller allows; the command line and
    the explorer call them inside this context.

    Parameters
    ----------
    n_threads : int or None
        Threads, 1 or more; None leaves the libraries' defaults (usually one per core).

    Raises
    ------
    NanoSIMSError
        If ``n_threads`` is not None or a whole number >= 1.

    Examples
    --------
    >>> with limit_threads(1):
    ...     labels = kmeans_map(np.arange(8.0).reshape(2, 4, 1), 2).labels
    >>> labels.shape
    (2, 4)
    """
    if n_threads is None:
        return nullcontext()
    return threadpool_limits(limits=check_whole_number(n_threads, "n_threads", minimum=1))


@dataclass(frozen=True)
class ClusterResult:
    """A clustering of the pixels of one image.

    Attributes
    ----------
    labels : ndarray of int, shape (y, x)
        Cluster of each pixel, 0 .. k-1.
    centers : ndarray of float, shape (k, n_features)
        Cluster centres, in the space of ``features``.
    features : ndarray of float, shape (y, x, n_features)
        What was clustered (preprocessed channels, or principal components).
    pca : sklearn.decomposition.PCA or None
        The fitted PCA when ``features`` are principal components, else None.
    split : CountSplit or None
        Which counts the clusters were found on, where known (set by
        :func:`~nanosims_helpers.pipeline.cluster_image`): with ``ratios``, half the counts of the
        tested masses, the other half held out (``split.held_out``) for
        :func:`~nanosims_helpers.isotopes.isotope_table`.
    confidence : ndarray of float, shape (y, x), or None
        Posterior probability of each pixel's cluster, from methods that model the counts
        (:func:`nanosims_helpers.poisson_model.poisson_map`); None from the others.
    preprocessed : ndarray of float, shape (y, x, n_masses), or None
        The clustered masses' counts after the preprocessing (set by
        :func:`~nanosims_helpers.pipeline.cluster_image`): what scores and cluster profiles are
        computed on, whichever the method (the counting methods cluster the counts themselves).

    The arrays are read-only views: copy one (``result.labels.copy()``) to edit it.

    Examples
    --------
    >>> result = ClusterResult(np.array([[0, 1]]), np.zeros((2, 3)), np.zeros((1, 2, 3)))
    >>> result.n_clusters
    2
    """

    labels: np.ndarray
    centers: np.ndarray
    features: np.ndarray
    pca: PCA | None = None
    split: CountSplit | None = None
    confidence: np.ndarray | None = None
    preprocessed: np.ndarray | None = None

    def __post_init__(self):
        for field in ("labels", "centers", "features", "confidence", "preprocessed"):
            if getattr(self, field) is not None:
                object.__setattr__(self, field, read_only(getattr(self, field)))

    @property
    def n_clusters(self) -> int:
        """Number of clusters, k."""
        return self.centers.shape[0]


def kmeans_map(features, n_clusters: int, *, random_state=0) -> ClusterResult:
    """Cluster every pixel with KMeans and return the label map.

    Parameters
    ----------
    features : array_like, shape (y, x, n_features)
        Preprocessed channels (see :func:`nanosims_helpers.preprocessing.preprocess`).
    n_clusters : int
        Number of clusters, k >= 2.
    random_state : int
        Seed of the k-means++ initialisation: the same seed gives the same labels.

    Returns
    -------
    ClusterResult
        With ``pca=None``.

    Raises
    ------
    NanoSIMSError
        If ``features`` is not a finite 3-D array, is constant, has fewer pixels or fewer
        distinct pixels than ``n_clusters``, or ``n_clusters`` < 2.

    Examples
    --------
    >>> features = np.zeros((2, 4, 1))
    >>> features[:, 2:] = 1.0
    >>> kmeans_map(features, 2).labels.shape
    (2, 4)
    """
    values = check_features(features, ndim=(3,))
    table = values.reshape(-1, values.shape[2])
    n_clusters = check_n_clusters(n_clusters, table.shape[0])
    model = KMeans(n_clusters=n_clusters, n_init=KMEANS_N_INIT, random_state=random_state)
    fit_kmeans(model, table)
    return ClusterResult(model.labels_.reshape(values.shape[:2]), model.cluster_centers_, values)


def fit_kmeans(model: KMeans, features: np.ndarray, name: str = "n_clusters") -> KMeans:
    """Fit ``model`` on a (pixel, feature) table and return it.

    Raises
    ------
    NanoSIMSError
        If the features take fewer distinct values than ``model.n_clusters``, so that some
        clusters would be empty; ``name`` is the argument the message names.
    """
    with warnings.catch_warnings():
        # Raised when there are fewer distinct features than clusters; reported as an error below.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features)
    found = np.unique(model.labels_).size
    if found < model.n_clusters:
        distinct = np.unique(features, axis=0).shape[0]
        raise NanoSIMSError(
            f"{name}={model.n_clusters}: only {found} cluster(s) have features, as the features have only {distinct} "
            f"distinct pixel value(s); use at most {min(distinct, model.n_clusters - 1)} clusters."
        )
    return model


def pca_components(features, n_components: int = 2, *, random_state=0) -> tuple[np.ndarray, PCA]:
    """Project every pixel on the first principal components of the channels.

    Parameters
    ----------
    features : array_like, shape (y, x, n_features)
        Preprocessed channels, at least 2.
    n_components : int
        Number of components, 1 <= n_components <= n_features.
    random_state : int
        Seed, used by PCA's randomized solver on large images.

    Returns
    -------
    components : ndarray of float, shape (y, x, n_components)
    pca : sklearn.decomposition.PCA
        The fitted PCA (``explained_variance_ratio_``, ``components_`` = loadings per channel).

    Raises
    ------
    NanoSIMSError
        If ``features`` is not a finite 3-D array, is constant, has a single channel, or
        ``n_components`` is not between 1 and the number of channels (or pixels, if fewer).

    Examples
    --------
    >>> features = np.random.default_rng(0).normal(size=(8, 8, 3))
    >>> components, pca = pca_components(features, 2)
    >>> components.shape, pca.n_components_
    ((8, 8, 2), 2)
    """
    values = check_features(features, ndim=(3,))
    n_features = values.shape[2]
    if n_features < 2:
        raise NanoSIMSError(
            "features: PCA needs at least 2 channels, got 1; cluster the single channel with kmeans_map."
        )
    table = values.reshape(-1, n_features)
    n_components = check_whole_number(
        n_components, "n_components", minimum=1, maximum=min(table.shape),
        maximum_reason=f"the number of channels, {n_features}, or of pixels, {table.shape[0]}, whichever is smaller",
    )
    pca = PCA(n_components=n_components, random_state=random_state)
    components = pca.fit_transform(table)
    return components.reshape(*values.shape[:2], n_components), pca


def pca_kmeans_map(features, n_clusters: int, *, n_components: int = 2, random_state=0) -> ClusterResult:
    """Cluster the pixels with KMeans on their first principal components.

    What the reference notebook did in its second part. With 2 components the clusters can be
    drawn in a scatter plot of the components.

    Parameters
    ----------
    features : array_like, shape (y, x, n_features)
        Preprocessed channels, at least 2.
    n_clusters : int
        Number of clusters, k >= 2.
    n_components : int
        Number of principal components to cluster, 1 <= n_components <= n_features.
    random_state : int
        Seed for PCA and KMeans.

    Returns
    -------
    ClusterResult
        ``features`` are the principal components, ``pca`` the fitted PCA.

    Raises
    ------
    NanoSIMSError
        As :func:`pca_components` and :func:`kmeans_map`.

    Examples
    --------
    >>> features = np.zeros((2, 4, 3))
    >>> features[:, 2:] = [1.0, 2.0, 0.5]
    >>> result = pca_kmeans_map(features, 2)
    >>> result.features.shape, result.n_clusters
    ((2, 4, 2), 2)
    """
    components, pca = pca_components(features, n_components, random_state=random_state)
    return replace(kmeans_map(components, n_clusters, random_state=random_state), pca=pca)

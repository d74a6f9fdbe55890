"""Choosing the number of clusters k: score KMeans for a range of k, then find the knee of a curve.

:func:`sweep_k` clusters the pixels for every k and scores each clustering; :func:`find_knee`
reads the k where a curve (entropy or inertia) stops falling steeply.

The fast sweep (the default) is several times quicker than running KMeans on every pixel for
every k, both on the same threads (``benchmarks/bench_sweep.py``); on the kit's soil sample its
knees are those of the plain loop, within the plain loop's own variation from seed to seed (see :func:`find_knee`):

* KMeans, with the restarts of :func:`~nanosims_helpers.clustering.kmeans_map`
  (:data:`~nanosims_helpers.clustering.KMEANS_N_INIT`), is fitted on a fixed random sample of
  :data:`FIT_SAMPLE_SIZE` pixels, then every pixel gets the nearest centre. (Warm starts, each
  k starting from the previous k's centres plus one, were tried: faster, but on 7 channels their
  entropy knee lay about one k later than the plain loop's, on average over 10 seeds.)
* It runs on one thread unless told otherwise (``n_threads``): a fit on 10,000 pixels is too
  little work to share out, and when other programs used the CPU, KMeans on 10,000 pixels
  with 2 threads was up to 18x slower than with 1.
* Every score is computed on the label map of all pixels (the silhouette on a fixed sample of
  :data:`SWEEP_SILHOUETTE_SAMPLE_SIZE` pixels), reusing what does not depend on the labels.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from kneed import KneeLocator
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances
from tqdm.auto import tqdm

from ._lazy import renamed
from .clustering import KMEANS_N_INIT, fit_kmeans, limit_threads
from .errors import NanoSIMSError
from .metrics import (
    ENTROPY_BINS,
    _dispersion_scores,
    _entropy_of_bins,
    _feature_bins,
    _pixels,
    _sample_indices,
    _silhouette_of_distances,
)
from .validation import check_n_clusters

#: Columns of the table returned by :func:`sweep_k`.
SWEEP_COLUMNS = ("k", "inertia", "entropy", "calinski_harabasz", "davies_bouldin", "silhouette")
#: Degree of the polynomial :func:`find_knee` fits to the curve before looking for the knee.
KNEE_POLYNOMIAL_DEGREE = 7
#: Pixels KMeans is fitted on in the fast sweep.
FIT_SAMPLE_SIZE = 10_000
#: Pixels the silhouette is computed on in a sweep (small, so 30 silhouettes take well under 1 s).
SWEEP_SILHOUETTE_SAMPLE_SIZE = 2000


def _check_k_values(k_values, n_pixels: int) -> list[int]:
    """Return the k values sorted, without repeats, each checked to be 2 <= k <= n_pixels."""
    try:
        values = list(k_values)
    except TypeError as exc:
        raise NanoSIMSError(f"k_values: expected a list or range of whole numbers, got {k_values!r}.") from exc
    if not values:
        raise NanoSIMSError("k_values: empty; give the numbers of clusters to try, e.g. range(2, 32).")
    return sorted({check_n_clusters(k, n_pixels, name="k_values") for k in values})


def _compact_codes(labels: np.ndarray, n_clusters: int) -> tuple[np.ndarray, int]:
    """Renumber KMeans labels 0..k'-1, in case a centre received no pixel."""
    present = np.bincount(labels, minlength=n_clusters) > 0
    return (np.cumsum(present) - 1)[labels], int(present.sum())


class _SweepScorer:
    """Scores label maps of one set of pixels, reusing what does not depend on the labels."""

    def __init__(self, pixels: np.ndarray, random_state):
        self.pixels = np.asfortranarray(pixels)  # the scores run feature by feature
        self.cells = _feature_bins(pixels, ENTROPY_BINS)
        size = min(SWEEP_SILHOUETTE_SAMPLE_SIZE, pixels.shape[0])
        self.sample = _sample_indices(pixels.shape[0], size, random_state)
        # float32 halves the time of the matrix products; the scores change by < 1e-6
        self.distances = pairwise_distances(pixels[self.sample]).astype(np.float32)

    def score(self, k: int, labels: np.ndarray) -> dict[str, float]:
        codes, n_clusters = _compact_codes(labels, k)
        row = {"k": k, **_dispersion_scores(self.pixels, codes, n_clusters)}
        row["entropy"] = _entropy_of_bins(self.cells, codes, n_clusters, ENTROPY_BINS)
        sample_codes = codes[self.sample]
        if 2 <= np.unique(sample_codes).size < sample_codes.size:
            row["silhouette"] = _silhouette_of_distances(self.distances, sample_codes, n_clusters)
        else:  # the sample holds a single cluster: no silhouette, marked missing
            row["silhouette"] = np.nan
        return row


def _plain_labels(pixels: np.ndarray, k_values: list[int], random_state):
    """KMeans from scratch on every pixel for each k (the slow reference)."""
    for k in k_values:
        model = KMeans(n_clusters=k, n_init=KMEANS_N_INIT, random_state=random_state)
        yield fit_kmeans(model, pixels, "k").labels_


def _sample_fit_labels(pixels: np.ndarray, k_values: list[int], random_state):
    """KMeans fitted on a fixed pixel sample for each k; every pixel gets the nearest centre."""
    sample = pixels[_sample_indices(pixels.shape[0], min(FIT_SAMPLE_SIZE, pixels.shape[0]), random_state)]
    for k in k_values:
        model = KMeans(n_clusters=k, n_init=KMEANS_N_INIT, random_state=random_state)
        yield fit_kmeans(model, sample, "k").predict(pixels)


@renamed(values="features", k_values="n_clusters_range")
def sweep_k(
    features, n_clusters_range=range(2, 32), *, random_state=0, fast: bool = True, progress: bool = True, n_threads=1
) -> pd.DataFrame:
    """Cluster with KMeans for each k and score every clustering.

    Parameters
    ----------
    features : array_like, shape (y, x, n_features) or (n_pixels, n_features)
        What to cluster, e.g. preprocessed channels or principal components.
    n_clusters_range : iterable of int
        Numbers of clusters to try, each >= 2 (sorted, repeats dropped).
    random_state : int
        Seed of KMeans and of the pixel samples: the same seed gives the same table.
    fast : bool
        True: fit KMeans on a sample of :data:`FIT_SAMPLE_SIZE` pixels (several times faster;
        see the module description). False: KMeans on every pixel for each k, as in a plain loop.
    progress : bool
        Show a progress bar.
    n_threads : int or None
        Threads KMeans and the scores use (:func:`~nanosims_helpers.clustering.limit_threads`);
        None for the libraries' default, one per core.

    Returns
    -------
    pandas.DataFrame
        One row per k, columns :data:`SWEEP_COLUMNS`: ``inertia`` (within-cluster sum of squared
        distances to the cluster means), ``entropy`` (:func:`~nanosims_helpers.metrics.clustering_entropy`),
        ``calinski_harabasz``, ``davies_bouldin`` and ``silhouette`` (on a fixed sample of
        :data:`SWEEP_SILHOUETTE_SAMPLE_SIZE` pixels; NaN in the rare case the sample holds one
        cluster), all computed on every pixel's label.

    Raises
    ------
    NanoSIMSError
        If ``features`` holds NaN or infinite values, a k is below 2 or above the number of
        pixels, or the pixels take fewer distinct values than a k.

    Examples
    --------
    >>> features = np.repeat([[0.0], [1.0], [5.0], [9.0]], 10, axis=0)
    >>> table = sweep_k(features, range(2, 5), progress=False)
    >>> table["k"].tolist(), bool(table["inertia"].is_monotonic_decreasing)
    ([2, 3, 4], True)
    """
    pixels = _pixels(features)
    k_list = _check_k_values(n_clusters_range, pixels.shape[0])
    with limit_threads(n_threads):
        scorer = _SweepScorer(pixels, random_state)
        labels = (_sample_fit_labels if fast else _plain_labels)(pixels, k_list, random_state)
        steps = tqdm(zip(k_list, labels), total=len(k_list), desc="KMeans for each k", disable=not progress)
        rows = [scorer.score(k, k_labels) for k, k_labels in steps]
    return pd.DataFrame(rows, columns=list(SWEEP_COLUMNS))


def _knee_curve(table, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the k values and the column of a sweep table, checked."""
    if not isinstance(table, pd.DataFrame) or "k" not in table.columns:
        raise NanoSIMSError("table: expected the DataFrame returned by sweep_k, with a 'k' column.")
    if column not in table.columns:
        scores = [name for name in table.columns if name != "k"]
        raise NanoSIMSError(f"column={column!r}: not in the table; choose one of {scores}.")
    curve = table.sort_values("k")
    k, y = curve["k"].to_numpy(), curve[column].to_numpy(dtype=float)
    if k.size < 3:
        raise NanoSIMSError(f"table: {k.size} row(s); a knee needs at least 3 values of k.")
    if not np.isfinite(y).all():
        raise NanoSIMSError(f"column={column!r}: holds NaN or infinite values; choose another column.")
    return k, y


def _farthest_from_chord(k: np.ndarray, y: np.ndarray, curve: str) -> int | None:
    """The k farthest from the straight line through the first and last points, on the side the
    curve bends to (below it when convex, above when concave), or None when no point is."""
    x_scaled = (k - k[0]) / (k[-1] - k[0])
    span = y.max() - y.min()
    y_scaled = (y - y.min()) / span if span > 0 else np.zeros_like(y)
    gap = y_scaled[0] + (y_scaled[-1] - y_scaled[0]) * x_scaled - y_scaled
    gap = gap if curve == "convex" else -gap
    best = int(np.argmax(gap))
    return int(k[best]) if gap[best] > 1e-9 else None


def find_knee(table, column: str = "entropy", *, curve: str = "convex", direction: str = "decreasing") -> int:
    """Return the k at the knee of a sweep curve: where adding clusters stops paying off.

    Uses the Kneedle method (``kneed.KneeLocator``) on a polynomial of degree
    :data:`KNEE_POLYNOMIAL_DEGREE` fitted to the curve, as the reference notebook did. The fit
    irons out the bumps KMeans' local optima leave: on the 7 channels of the kit's soil sample,
    the inertia knee was 6 for each of 10 seeds, in the fast and in the plain sweep, where the
    unsmoothed curves gave 6 to 8. A sharp elbow may come out one k late. The entropy curve of
    that sample bends gradually: its knee still ranged over 9-12 with the seed (7-13
    unsmoothed), so treat a knee as a suggestion and look at the curve (``plot_sweep``).
    :func:`nanosims_helpers.split_half.recommend_k` uses the knee as an upper bound and keeps the
    largest k below it that two independent halves of the counts reproduce.

    If kneed finds no knee, a ``UserWarning`` says so and the k farthest from the straight line
    through the first and last points is returned, or the smallest k if the curve does not bend.

    Parameters
    ----------
    table : pandas.DataFrame
        The table returned by :func:`sweep_k` (at least 3 rows).
    column : str
        The score to read, e.g. ``"entropy"`` or ``"inertia"`` (falling, convex).
    curve : {"convex", "concave"}
        Shape of the curve.
    direction : {"decreasing", "increasing"}
        Whether the score falls or rises with k.

    Returns
    -------
    int
        A k from the table.

    Raises
    ------
    NanoSIMSError
        If ``table`` has no ``k`` or ``column`` column, fewer than 3 rows or non-finite values,
        or ``curve`` / ``direction`` are not one of the names above.

    Examples
    --------
    >>> table = pd.DataFrame({"k": range(2, 10), "entropy": [8, 4, 2, 1.6, 1.4, 1.3, 1.2, 1.1]})
    >>> find_knee(table)
    4
    """
    if curve not in ("convex", "concave") or direction not in ("decreasing", "increasing"):
        raise NanoSIMSError(
            f"curve={curve!r}, direction={direction!r}: use curve 'convex' or 'concave' and "
            "direction 'decreasing' or 'increasing'."
        )
    k, y = _knee_curve(table, column)
    degree = min(KNEE_POLYNOMIAL_DEGREE, k.size - 1)  # a short table gets a lower degree
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kneed's own "no knee" warning is replaced by ours
        knee = KneeLocator(
            k, y, curve=curve, direction=direction, interp_method="polynomial", polynomial_degree=degree
        ).knee
    if knee is not None:
        return int(knee)
    fallback = _farthest_from_chord(k, y, curve)
    reason = "the k farthest from the straight line through the first and last points"
    if fallback is None:
        fallback, reason = int(k[0]), "the smallest k, as the curve does not bend"
    warnings.warn(
        f"find_knee: kneed found no knee in the {column!r} curve; using k={fallback}, {reason}. "
        "Look at the curve before trusting this k.",
        UserWarning,
        stacklevel=2,
    )
    return fallback

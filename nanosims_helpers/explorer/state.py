"""The computing side of the interactive explorer: settings in, cached clusterings and scores out.

Moving the k slider must answer in well under a second on a 256 x 256 image, so every step
that does not depend on k is computed once per setting and kept:

* the preprocessed channels, per (preprocessing, masses) (the ``"spatial"`` method, the default,
  smooths and preprocesses the counts itself: its maps are cached per setting);
* the principal components, per (preprocessing, masses, number of components);
* for a method whose maps are cuts of one tree (hierarchical clustering: the Ward tree), the
  tree: a new k only cuts it again;
* labels and scores per full setting, so going back to an earlier k costs nothing.

Everything here is plain Python, usable and testable without a browser;
:mod:`nanosims_helpers.explorer` puts widgets on top.
"""

from __future__ import annotations

import collections
import functools
import warnings
from dataclasses import dataclass

import numpy as np

from .._lazy import renamed
from ..clustering import limit_threads, pca_components
from ..defaults import DEFAULT_THREADS
from ..errors import NanoSIMSError
from ..image import NanoSIMSImage, check_image
from ..methods import DEFAULT_METHOD, default_preprocessing, get_method, load, method_names, on_components
from ..metrics import score_table
from ..pipeline import cluster_image
from ..preprocessing import PREPROCESSING, preprocess
from ..validation import check_label_map, read_only

__all__ = ["SILHOUETTE_SAMPLE", "ExplorerState", "Settings", "explorer_methods"]


def explorer_methods() -> tuple[str, ...]:
    """The methods of the explorer's menu: the registry's (:mod:`nanosims_helpers.methods`), but those
    that are another method on principal components (``"pca-kmeans"``): the PCA switch picks them."""
    return tuple(name for name in method_names() if get_method(name).components_of is None)


#: Pixels in the explorer's silhouette sample. The silhouette's cost grows with the square of
#: the sample: 2000 pixels take about a sixth of the time of score_table's 5000, which keeps an
#: update after a change of k under half a second; the value moves by about 0.01.
SILHOUETTE_SAMPLE = 2000


@dataclass(frozen=True)
class Settings:
    """One choice of every control of the explorer (hashable, so it can key a cache).

    Attributes
    ----------
    n_clusters : int
        Number of clusters k.
    method : str
        One of :func:`explorer_methods`: ``"spatial"`` (the kit's default, see
        :func:`nanosims_helpers.pipeline.cluster_image`), ``"poisson"``, ``"kmeans"`` or
        ``"hierarchical"`` (fast Ward).
    preprocessing : str
        A key of :data:`nanosims_helpers.preprocessing.PREPROCESSING`; by default the one of the
        default method (``"composition"``).
    masses : tuple of str, optional
        Masses to cluster on; None means every mass of the image.
    pca : bool
        Cluster the first ``n_components`` principal components instead of the channels: the
        registry's method on components (``"kmeans"`` with PCA is ``"pca-kmeans"``, see
        :attr:`method_name`); only for methods that have one.
    n_components : int
        Number of principal components, used only when ``pca`` is True.

    Examples
    --------
    >>> Settings(n_clusters=5, masses=["12C", "16O"]).masses
    ('12C', '16O')
    """

    n_clusters: int = 4
    method: str = DEFAULT_METHOD
    preprocessing: str = default_preprocessing(DEFAULT_METHOD)
    masses: tuple[str, ...] | None = None
    pca: bool = False
    n_components: int = 2

    def __post_init__(self):
        if self.masses is not None:
            object.__setattr__(self, "masses", tuple(self.masses))

    @property
    def method_name(self) -> str | None:
        """The registry's name of the method these settings run: ``method``, or with ``pca`` the
        method that is ``method`` on principal components (None if there is none).

        Examples
        --------
        >>> Settings(method="kmeans", pca=True).method_name
        'pca-kmeans'
        """
        return on_components(self.method) if self.pca else self.method

    def describe(self) -> str:
        """A short one-line description, for titles and captions.

        Examples
        --------
        >>> Settings(n_clusters=3, method="kmeans", preprocessing="asinh", pca=True).describe()
        'kmeans, k = 3, asinh, PCA 2'
        """
        pca = f", PCA {self.n_components}" if self.pca else ""
        return f"{self.method}, k = {self.n_clusters}, {self.preprocessing}{pca}"


class ExplorerState:
    """Cached clusterings of one image, keyed on :class:`Settings`.

    Parameters
    ----------
    image : NanoSIMSImage
        The image to explore.
    truth : array_like of int, shape (y, x), optional
        A map to compare every clustering with (e.g. the true phases of a sample); adds an
        ``"adjusted_rand"`` score.
    random_state : int
        Seed of KMeans, of the Ward micro-clusters and of the silhouette's pixel sample.
    n_threads : int or None
        Threads the clusterings and scores run on (see
        :func:`~nanosims_helpers.clustering.limit_threads`); None for the libraries' default.

    Attributes
    ----------
    computed : collections.Counter
        Step name (``"preprocess"``, ``"pca"``, ``"tree"``, ``"cluster"``, ``"scores"``)
        -> how many times it was computed rather than taken from the cache.
    preprocessed, clustered_values, tree : callable
        The cached steps (:func:`functools.lru_cache`, so ``.cache_info()`` tells hits and
        misses). Arrays they return are read-only, as they are shared by every later call.

    Raises
    ------
    NanoSIMSError
        If ``image`` is not a NanoSIMSImage or ``truth`` does not match its shape.

    Examples
    --------
    >>> counts = np.zeros((4, 6, 2))
    >>> counts[:, 3:] = [30.0, 2.0]
    >>> counts[:, :3] = [1.0, 25.0]
    >>> state = ExplorerState(NanoSIMSImage(counts, ("12C", "16O")))
    >>> state.labels(Settings(n_clusters=2)).shape
    (4, 6)
    >>> for method in ("kmeans", "hierarchical"):
    ...     _ = state.labels(Settings(n_clusters=2, method=method))
    >>> state.computed["preprocess"], state.computed["cluster"]
    (1, 3)
    """

    @renamed(reference="truth", threads="n_threads")
    def __init__(self, image: NanoSIMSImage, *, truth=None, random_state=0, n_threads=DEFAULT_THREADS):
        self.image = check_image(image, "load one with load_image(path) or load_sample(name)[0]")
        self.truth = None if truth is None else _check_truth(truth, image)
        self.random_state = random_state
        self.n_threads = n_threads
        self.computed = collections.Counter()
        self.preprocessed = functools.lru_cache(maxsize=8)(self._preprocessed)
        self.clustered_values = functools.lru_cache(maxsize=8)(self._clustered_values)
        self.tree = functools.lru_cache(maxsize=4)(self._tree)
        self._labels = functools.lru_cache(maxsize=32)(self._compute_labels)
        self._scores = functools.lru_cache(maxsize=32)(self._compute_scores)

    def check(self, settings: Settings) -> Settings:
        """Return ``settings`` with ``masses`` filled in, or raise a message the user can act on."""
        masses = self.image.ion_masses if settings.masses is None else settings.masses
        if not masses:
            raise NanoSIMSError("masses: no mass selected; select at least one (ctrl- or shift-click in the list).")
        for mass in masses:
            self.image.mass_index(mass)
        if settings.method not in explorer_methods():
            raise NanoSIMSError(f"method={settings.method!r}: unknown; use one of {list(explorer_methods())}.")
        if settings.preprocessing not in PREPROCESSING:
            raise NanoSIMSError(f"preprocessing={settings.preprocessing!r}: unknown; use one of {list(PREPROCESSING)}.")
        if settings.method_name is None:
            with_pca = [name for name in explorer_methods() if on_components(name)]
            raise NanoSIMSError(
                f"PCA applies to {' and '.join(with_pca)}, not to {settings.method!r}; switch PCA off or choose "
                "another method."
            )
        if settings.pca and len(masses) < 2:
            raise NanoSIMSError("PCA needs at least 2 selected masses; select more masses or switch PCA off.")
        if settings.pca and not 1 <= settings.n_components <= len(masses):
            raise NanoSIMSError(
                f"n_components={settings.n_components}: PCA of {len(masses)} selected masses gives 1 to "
                f"{len(masses)} components; choose fewer components or select more masses."
            )
        return Settings(settings.n_clusters, settings.method, settings.preprocessing, tuple(masses),
                        settings.pca, settings.n_components)

    def _preprocessed(self, preprocessing: str, masses: tuple) -> tuple[np.ndarray, tuple[str, ...]]:
        """Preprocessed channels of ``masses``, and the warnings met on the way (as text)."""
        self.computed["preprocess"] += 1
        selected = self.image.select(masses)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            features = preprocess(selected.counts, preprocessing, masses=selected.masses)
        return read_only(features), tuple(str(warning.message) for warning in caught)

    def _clustered_values(self, preprocessing: str, masses: tuple, n_components: int | None) -> np.ndarray:
        """What is clustered: the preprocessed channels, or their first ``n_components`` components."""
        features, _ = self.preprocessed(preprocessing, masses)
        if n_components is None:
            return features
        self.computed["pca"] += 1
        return read_only(pca_components(features, n_components, random_state=self.random_state)[0])

    def _tree(self, space: tuple, build: str):
        self.computed["tree"] += 1
        return load(build)(self.clustered_values(*space), random_state=self.random_state)

    def labels(self, settings: Settings) -> np.ndarray:
        """Label map (y, x) of the clustering chosen by ``settings``; cached per setting.

        Raises
        ------
        NanoSIMSError
            If the settings are invalid (see :meth:`check`) or the clustering cannot be done.
        """
        settings = self.check(settings)
        with limit_threads(self.n_threads):
            return self._labels(settings)

    def scores(self, settings: Settings) -> dict[str, float]:
        """Scores of that clustering, computed on what was clustered; cached per setting.

        The keys of :func:`nanosims_helpers.metrics.score_table` (``"adjusted_rand"`` against
        the truth, if there is one); the silhouette on :data:`SILHOUETTE_SAMPLE` pixels.
        """
        settings = self.check(settings)
        with limit_threads(self.n_threads):
            return self._scores(settings)

    def _compute_labels(self, settings: Settings) -> np.ndarray:
        """The method's map: the counting methods through ``cluster_image``; the others on the cached
        features or components (a method on components is its base method on them), a tree's
        method by cutting its cached tree."""
        self.computed["cluster"] += 1
        if get_method(settings.method_name).needs_counts:
            with warnings.catch_warnings():  # the same warnings as features() reports
                warnings.simplefilter("ignore", UserWarning)
                result = cluster_image(self.image.select(settings.masses), settings.n_clusters,
                                       method=settings.method_name, preprocessing=settings.preprocessing,
                                       random_state=self.random_state)
            return read_only(result.labels)
        method = get_method(settings.method)
        if method.tree is not None:
            build, cut = method.tree
            return read_only(load(cut)(self.tree(_space(settings), build), n_clusters=settings.n_clusters))
        values = self.clustered_values(*_space(settings))
        return read_only(method.load()(values, settings.n_clusters, random_state=self.random_state).labels)

    def _compute_scores(self, settings: Settings) -> dict[str, float]:
        """The scores of :func:`nanosims_helpers.metrics.score_table`, silhouette on a smaller sample."""
        self.computed["scores"] += 1
        return score_table(
            self.clustered_values(*_space(settings)),
            self._labels(settings),
            truth=self.truth,
            silhouette_sample_size=SILHOUETTE_SAMPLE,
            random_state=self.random_state,
        )

    def features(self, settings: Settings) -> tuple[np.ndarray, tuple[str, ...]]:
        """Preprocessed channels of the selected masses, and any preprocessing warnings as text."""
        settings = self.check(settings)
        return self.preprocessed(settings.preprocessing, settings.masses)


def _space(settings: Settings) -> tuple:
    """Cache key of what gets clustered: preprocessing, masses, and PCA components (or None)."""
    return settings.preprocessing, settings.masses, settings.n_components if settings.pca else None


def _check_truth(truth, image: NanoSIMSImage) -> np.ndarray:
    shape = image.shape[:2]
    return check_label_map(truth, shape, name="truth").reshape(shape)

"""The clustering methods of the kit, one record each: the one place that maps a name to a function.

:func:`~nanosims_helpers.pipeline.cluster_image`, the command line (``--method``), the explorer's
menu, the choice of k by split-half and the study model all read this registry; none of them
tests a method's name. A record names its function as ``"module:function"``, imported when the
method runs, so reading the registry (``nanosims-cluster --help``) loads no numerical library.

A method is called in one of two ways, which its record says:

* it needs the counts (``needs_counts``: it smooths or models them):
  ``function(counts, n_clusters, *, masses, random_state[, preprocessing])``;
* it takes features (the preprocessed channels):
  ``function(features, n_clusters, *, random_state[, n_components])``.

Either returns a :class:`~nanosims_helpers.clustering.ClusterResult`.

Adding a method is one record in :data:`REGISTRY`.

Examples
--------
>>> method_names()
('spatial', 'poisson', 'kmeans', 'pca-kmeans', 'hierarchical')
>>> get_method("pca-kmeans").takes_components, get_method("spatial").needs_counts
(True, True)
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from .errors import NanoSIMSError
from .preprocessing import RECOMMENDED_PREPROCESSING

__all__ = [
    "DEFAULT_METHOD", "METHODS", "REGISTRY", "STUDY_METHOD", "Method", "default_preprocessing", "get_method",
    "method_names", "method_names_with", "on_components",
]


@dataclass(frozen=True)
class Method:
    """One clustering method of the kit.

    Attributes
    ----------
    name : str
        Its name, in Python (``method=``), on the command line (``--method``) and in the explorer.
    function : str
        ``"module:function"`` that clusters, imported when the method runs (see the module's
        docstring for how it is called).
    needs_counts : bool
        True if it takes the counts (it smooths or models them before any preprocessing); False if
        it takes the preprocessed features.
    preprocessing : str
        Its default preprocessing (a key of :data:`nanosims_helpers.preprocessing.PREPROCESSING`).
    description : str
        One line for menus and help.
    takes_components : bool
        True if it clusters the first ``n_components`` principal components of the features.
    components_of : str or None
        The method it is, on principal components (``"pca-kmeans"`` is ``"kmeans"`` on them): the
        explorer offers it as that method with its PCA switch on.
    takes_preprocessing : bool
        For a method that needs the counts: True if it is given the preprocessing (it clusters
        preprocessed, smoothed counts); False if it models the counts themselves.
    tolerance_px : int
        Pixels a boundary may move between the two halves of the counts in the split-half check
        of k: 1 for methods that give coherent maps (whose boundaries move by the beam blur), 0 for
        pixel-by-pixel methods.
    tree : tuple of str, or None
        ``("module:build", "module:cut")`` for a method whose maps for every k are cuts of one tree
        (``cut(build(features, random_state=...), n_clusters=k)`` equals its map): the explorer
        builds the tree once and cuts it for each k.
    gives_confidence : bool
        True if its result holds a confidence map (each pixel's posterior probability of its
        cluster, :attr:`~nanosims_helpers.clustering.ClusterResult.confidence`).
    recommends_k : str or None
        For a method that counts its clusters with its own statistics (it takes
        ``n_clusters=None``): ``"module:function"`` that recommends that count with its evidence
        (``recommend(image, n_clusters=..., tolerance_px=..., random_state=...)`` returns a
        :class:`~nanosims_helpers.split_half.KChoice`; ``n_clusters`` the count of a fit already
        made). ``-k auto`` fits such a method once with ``n_clusters=None`` and calls it, instead of
        sweeping k. None: ``-k auto`` sweeps k (:func:`~nanosims_helpers.split_half.recommend_k`).
    """

    name: str
    function: str
    needs_counts: bool
    preprocessing: str
    description: str
    takes_components: bool = False
    components_of: str | None = None
    takes_preprocessing: bool = True
    tolerance_px: int = 0
    tree: tuple[str, str] | None = None
    gives_confidence: bool = False
    recommends_k: str | None = None

    def load(self):
        """Import and return the function that clusters."""
        return load(self.function)


def load(target: str):
    """The object ``"module:name"`` names, its module imported now."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


#: The methods, by name; the first is the default.
REGISTRY: dict[str, Method] = {method.name: method for method in (
    Method("spatial", "nanosims_helpers.spatial:spatial_map", needs_counts=True, preprocessing="composition",
           description="composition features, phases found away from boundaries, Potts clean-up (the default)",
           tolerance_px=1),
    Method("poisson", "nanosims_helpers.poisson_model:poisson_map", needs_counts=True, preprocessing="composition",
           description="counting-statistics model: compositions under an ion-yield field, beam blur, Potts prior",
           takes_preprocessing=False, tolerance_px=1, gives_confidence=True,
           recommends_k="nanosims_helpers.split_half:recommend_counted_k"),
    Method("kmeans", "nanosims_helpers.clustering:kmeans_map", needs_counts=False,
           preprocessing=RECOMMENDED_PREPROCESSING, description="k-means on the preprocessed channels, pixel by pixel"),
    Method("pca-kmeans", "nanosims_helpers.clustering:pca_kmeans_map", needs_counts=False,
           preprocessing=RECOMMENDED_PREPROCESSING, description="k-means on the first principal components",
           takes_components=True, components_of="kmeans"),
    Method("hierarchical", "nanosims_helpers.hierarchical:hierarchical_map", needs_counts=False,
           preprocessing=RECOMMENDED_PREPROCESSING, description="Ward clustering of every pixel through micro-clusters",
           tree=("nanosims_helpers.hierarchical:ward_tree", "nanosims_helpers.hierarchical:cut_tree")),
)}

#: The method :func:`~nanosims_helpers.pipeline.cluster_image`, the command line and the explorer use
#: unless told otherwise.
DEFAULT_METHOD = "spatial"

#: The method a study model (:mod:`nanosims_helpers.study`, ``--joint``) fits over many images.
STUDY_METHOD = "spatial"

#: The names of the methods the kit ships with (:func:`method_names` also lists methods added later).
METHODS = tuple(REGISTRY)


def method_names() -> tuple[str, ...]:
    """The names of the registered methods, the default first."""
    return tuple(REGISTRY)


def method_names_with(flag: str) -> tuple[str, ...]:
    """The names of the methods whose record has ``flag`` set (e.g. ``"gives_confidence"``).

    Examples
    --------
    >>> method_names_with("gives_confidence"), method_names_with("takes_components")
    (('poisson',), ('pca-kmeans',))
    """
    return tuple(name for name in method_names() if getattr(REGISTRY[name], flag))


def on_components(name: str) -> str | None:
    """The name of the method that is method ``name`` on principal components, or None if there is none.

    Examples
    --------
    >>> on_components("kmeans"), on_components("spatial")
    ('pca-kmeans', None)
    """
    return next((method.name for method in REGISTRY.values() if method.components_of == name), None)


def get_method(name) -> Method:
    """Return the record of method ``name``.

    Raises
    ------
    NanoSIMSError
        If no method has that name.

    Examples
    --------
    >>> get_method("kmeans").preprocessing
    'asinh'
    >>> get_method("ward")
    Traceback (most recent call last):
    ...
    nanosims_helpers.errors.NanoSIMSError: method='ward': unknown; use one of ['spatial', 'poisson', 'kmeans', \
'pca-kmeans', 'hierarchical'].
    """
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise NanoSIMSError(f"method={name!r}: unknown; use one of {list(REGISTRY)}.") from None


def default_preprocessing(method: str) -> str:
    """Return the preprocessing ``method`` uses unless told otherwise.

    ``"composition"`` for ``"poisson"`` and ``"spatial"`` (``"poisson"`` models the counts
    themselves: the preprocessing only serves the scores and the choice of k computed beside it);
    :data:`~nanosims_helpers.preprocessing.RECOMMENDED_PREPROCESSING` (``"asinh"``) for the
    pixel-by-pixel methods.

    Raises
    ------
    NanoSIMSError
        If ``method`` is not registered.

    Examples
    --------
    >>> default_preprocessing("poisson"), default_preprocessing("spatial"), default_preprocessing("kmeans")
    ('composition', 'composition', 'asinh')
    """
    return get_method(method).preprocessing

"""One clustering for a whole study: a model fitted on pixels of many images, applied to any image.

Clustering each image on its own numbers the clusters anew every time: cluster 2 is organic
matter in one image and iron oxide in the next, and nothing can be compared. A study model is
fitted once on pixels drawn from every image and then labels each image with the same clusters,
so their area fractions and profiles compare across the study.

A :class:`StudyModel` is three things:

1. the **feature transform**: :func:`nanosims_helpers.pipeline.image_features` with the settings
   the model records (today the preprocessing, e.g. asinh) on the model's masses. It runs on each
   whole image, exactly as :func:`~nanosims_helpers.pipeline.cluster_image` does for one image;
2. the **fitted centres**: KMeans (:func:`nanosims_helpers.clustering.kmeans_map`, the kit's
   settings) on a sample of those features drawn from every image;
3. the **per-image step**: :func:`nanosims_helpers.pipeline.labels_from_centers`, which gives each
   pixel of an image its cluster.

Fitting (:func:`fit_study`) reads one image at a time, computes its features, keeps a random
sample of ``sample_size // n_images`` pixels (every image weighs the same, whatever its size) and
lets the image go: memory holds the sample, never the study. Images whose masses differ are
clustered on the masses all of them have; the model lists the others as dropped. Pixel sizes may
differ. Everything random is seeded (``random_state``, and each image's position in the list),
so the same inputs give the same model, whether the images are read here or by Dask workers
(``runner``, see :mod:`nanosims_helpers.batch`).

Models are saved as plain JSON (:func:`save_model`, :func:`load_model`): masses, feature
settings, centres (exact: JSON keeps every digit of a float), seed, sample and kit version.
"""

from __future__ import annotations

import inspect
import json
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .batch import Outcome, Runner
from .clustering import ClusterResult, kmeans_map
from .errors import NanoSIMSError
from .io.files import replacing
from .io.image import NanoSIMSImage, check_image, normalize_mass_name
from .io.loading import load_image
from .io.outputs import kit_version
from .pipeline import image_features, labels_from_centers
from .preprocessing import PREPROCESSING, RECOMMENDED_PREPROCESSING
from .validation import check_finite_array

__all__ = [
    "MODEL_FORMAT", "STUDY_SAMPLE_SIZE", "StudyModel", "StudySample", "apply_model", "fit_model", "fit_study",
    "load_model", "sample_study", "save_model",
]

#: Pixels sampled over the whole study to fit the centres (``sample_size // n_images`` per image).
#: 100,000 pixels of 7 masses take 5.6 MB, and KMeans fits them in about a second.
STUDY_SAMPLE_SIZE = 100_000

#: The ``"format"`` entry of a saved model, and the version of that format this kit writes.
MODEL_FORMAT = "nanosims-study-model"
MODEL_FORMAT_VERSION = 1

_MODEL_KEYS = ("format", "format_version", "kit_version", "n_clusters", "masses", "features", "centers",
               "random_state", "images", "pixels_per_image", "sample_pixels", "dropped_masses")


def _frozen(array) -> np.ndarray:
    array = np.array(array, dtype=float)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class StudyModel:
    """A clustering fitted on a study: feature settings, masses and centres, applied by :func:`apply_model`.

    Attributes
    ----------
    centers : ndarray of float, shape (k, n_features)
        Cluster centres in feature space (read-only).
    masses : tuple of str
        The masses the features are computed from, in order; an image needs all of them.
    features : mapping
        Keyword arguments of :func:`nanosims_helpers.pipeline.image_features` besides the
        masses (today ``{"preprocessing": "asinh"}``), read-only.
    random_state : int
        Seed of the pixel sample and of KMeans.
    images : tuple of str
        The images the model was fitted on.
    pixels_per_image : int
        Pixels sampled from each image (all of an image's pixels if it has fewer).
    sample_pixels : int
        Pixels the centres were fitted on.
    dropped_masses : tuple of str
        Masses some images had but not all, left out of the model.
    kit_version : str
        Version of the kit that fitted the model.

    Examples
    --------
    >>> model = StudyModel(np.array([[0.0, 1.0], [2.0, 0.5]]), ("12C", "16O"), {"preprocessing": "asinh"})
    >>> model.n_clusters, model.preprocessing, model.centers.flags.writeable
    (2, 'asinh', False)
    """

    centers: np.ndarray
    masses: tuple[str, ...]
    features: dict = field(default_factory=lambda: {"preprocessing": RECOMMENDED_PREPROCESSING})
    random_state: int = 0
    images: tuple[str, ...] = ()
    pixels_per_image: int = 0
    sample_pixels: int = 0
    dropped_masses: tuple[str, ...] = ()
    kit_version: str = field(default_factory=kit_version)

    def __post_init__(self):
        centers = check_finite_array(self.centers, "centers", ndim=(2,))
        masses = tuple(str(m) for m in self.masses)
        if centers.shape[0] < 2 or not masses:
            raise NanoSIMSError(
                f"model: {centers.shape[0]} centre(s) on masses {list(masses)}; a model needs at least "
                "2 centres and 1 mass."
            )
        object.__setattr__(self, "centers", _frozen(centers))
        object.__setattr__(self, "masses", masses)
        object.__setattr__(self, "features", MappingProxyType(dict(self.features)))
        for name in ("images", "dropped_masses"):
            object.__setattr__(self, name, tuple(str(item) for item in getattr(self, name)))

    def __reduce__(self):
        # Rebuilt through __post_init__, so a copy sent to a worker process is read-only too.
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["features"] = dict(self.features)
        return (self.__class__, tuple(values.values()))

    @property
    def n_clusters(self) -> int:
        """Number of clusters, k."""
        return self.centers.shape[0]

    @property
    def preprocessing(self) -> str:
        """The preprocessing of the counts (a key of :data:`~nanosims_helpers.preprocessing.PREPROCESSING`)."""
        return self.features["preprocessing"]


@dataclass(frozen=True, eq=False)
class StudySample:
    """Pixels sampled from every image of a study, ready for :func:`fit_model`.

    Attributes
    ----------
    names : tuple of str
        The images sampled, in input order (failed images left out).
    tables : tuple of ndarray, shape (pixels, n_features)
        Each image's sampled features.
    masses : tuple of str
        The masses every sampled image has (or the masses asked for).
    features : dict
        Settings of :func:`~nanosims_helpers.pipeline.image_features`.
    random_state : int
        Seed of the sample.
    pixels_per_image : int
        Pixels asked of each image.
    dropped_masses : tuple of (str, tuple of str)
        Each mass left out, with the images that lack it.
    failures : tuple of Outcome
        The images that could not be read or sampled, each with a one-line error.
    """

    names: tuple[str, ...]
    tables: tuple[np.ndarray, ...]
    masses: tuple[str, ...]
    features: dict
    random_state: int
    pixels_per_image: int
    dropped_masses: tuple = ()
    failures: tuple[Outcome, ...] = ()

    @property
    def pixels(self) -> np.ndarray:
        """All sampled pixels, (pixels, n_features), image after image."""
        if not self.tables:
            raise NanoSIMSError("study: no image could be sampled, so there is nothing to fit; see the errors above.")
        return np.concatenate(self.tables)


def _name(item) -> str:
    return item.name if isinstance(item, NanoSIMSImage) else str(item)


def _image(item) -> NanoSIMSImage:
    return item if isinstance(item, NanoSIMSImage) else load_image(item)


def _sample_one(item, index: int, n_pixels: int, masses, features: dict, random_state: int):
    """Read one image, compute its features and return (its masses, ``n_pixels`` random feature rows)."""
    image = _image(item)
    masses = image.masses if masses is None else tuple(image.masses[image.mass_index(m)] for m in masses)
    table = image_features(image, masses=masses, **features)
    table = table.reshape(-1, table.shape[-1])
    rng = np.random.default_rng([random_state, index])
    rows = np.sort(rng.choice(table.shape[0], min(n_pixels, table.shape[0]), replace=False))
    return masses, table[rows]


def _check_items(items) -> list:
    if isinstance(items, (str, Path, NanoSIMSImage)):
        items = [items]
    items = list(items)
    if not items:
        raise NanoSIMSError("paths: no image given; give a list of image files (or NanoSIMSImage objects).")
    return items


def _check_seed(random_state) -> int:
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)) or random_state < 0:
        raise NanoSIMSError(f"random_state={random_state!r}: give a whole number >= 0, e.g. 0.")
    return int(random_state)


def _check_features(features: dict) -> dict:
    """Feature settings that :func:`image_features` accepts, with a known preprocessing."""
    accepted = set(inspect.signature(image_features).parameters) - {"image", "masses"}
    unknown = sorted(set(features) - accepted)
    if unknown:
        raise NanoSIMSError(
            f"features: unknown setting(s) {unknown}; this kit's image_features takes {sorted(accepted)}. "
            "A model from a newer kit needs that kit."
        )
    preprocessing = features.get("preprocessing", RECOMMENDED_PREPROCESSING)
    if preprocessing not in PREPROCESSING:
        raise NanoSIMSError(f"preprocessing={preprocessing!r}: unknown; use one of {sorted(PREPROCESSING)}.")
    return {"preprocessing": preprocessing, **features}


def _shared_masses(mass_lists) -> tuple[tuple[str, ...], tuple]:
    """The masses every list has (in the order of the first), and each other mass with the lists lacking it."""
    normalized = [{normalize_mass_name(m) for m in masses} for masses in mass_lists]
    shared = tuple(m for m in mass_lists[0] if all(normalize_mass_name(m) in names for names in normalized))
    others = dict.fromkeys(m for masses in mass_lists for m in masses if normalize_mass_name(m) not in
                           {normalize_mass_name(s) for s in shared})
    lacking = tuple((mass, tuple(i for i, names in enumerate(normalized) if normalize_mass_name(mass) not in names))
                    for mass in others)
    return shared, lacking


def sample_study(
    paths,
    *,
    masses=None,
    preprocessing: str = RECOMMENDED_PREPROCESSING,
    sample_size: int = STUDY_SAMPLE_SIZE,
    random_state: int = 0,
    runner: Runner | None = None,
) -> StudySample:
    """Draw the same number of random pixels from the features of every image.

    Each image is read, its features computed on the whole image, ``sample_size // len(paths)``
    pixels kept, and the image released. Without ``masses``, the images are first sampled on
    their own masses; those whose masses differ from the masses all images share are sampled
    again on the shared ones.

    Parameters
    ----------
    paths : sequence of str, Path or NanoSIMSImage
        The study's images.
    masses : sequence of str, optional
        Masses to use; an image lacking one fails. Default: the masses every image has.
    preprocessing : str
        A key of :data:`~nanosims_helpers.preprocessing.PREPROCESSING`.
    sample_size : int
        Pixels over the whole study (at least 1 per image).
    random_state : int
        Seed; image ``i`` is sampled with the seed ``[random_state, i]``.
    runner : Runner, optional
        Where to read the images (:class:`~nanosims_helpers.batch.Runner`); here by default.

    Returns
    -------
    StudySample
        Failed images are listed in ``failures``, not raised.

    Raises
    ------
    NanoSIMSError
        If the arguments are bad, or the images share no mass.

    Examples
    --------
    >>> from nanosims_helpers.synthetic import simulate_soil_image
    >>> images = [simulate_soil_image((32, 32), random_state=s)[0] for s in (1, 2)]
    >>> sample = sample_study(images, sample_size=100)
    >>> [table.shape for table in sample.tables], sample.masses[:2]
    ([(50, 7), (50, 7)], ('12C', '13C'))
    """
    items = _check_items(paths)
    features = _check_features({"preprocessing": preprocessing})
    random_state = _check_seed(random_state)
    if isinstance(sample_size, bool) or not isinstance(sample_size, (int, np.integer)) or sample_size < 1:
        raise NanoSIMSError(f"sample_size={sample_size!r}: give a whole number of pixels, 1 or more.")
    per_image = max(1, int(sample_size) // len(items))
    masses = None if masses is None else tuple(masses)
    with runner or Runner(progress=False) as active:
        outcomes = _sample_all(active, items, range(len(items)), per_image, masses, features, random_state)
        done = sorted(i for i, outcome in outcomes.items() if outcome.ok)
        lacking = ()
        if masses is None and done:
            masses, lacking = _shared_masses([outcomes[i].value[0] for i in done])
            if not masses:
                raise NanoSIMSError(
                    "study: no mass is in every image; cluster groups of images with the same masses separately."
                )
            wanted = [normalize_mass_name(m) for m in masses]
            again = [i for i in done if [normalize_mass_name(m) for m in outcomes[i].value[0]] != wanted]
            outcomes.update(_sample_all(active, items, again, per_image, masses, features, random_state))
    done = sorted(i for i, outcome in outcomes.items() if outcome.ok)
    return StudySample(
        names=tuple(_name(items[i]) for i in done),
        tables=tuple(outcomes[i].value[1] for i in done),
        masses=tuple(masses or ()),
        features=features,
        random_state=random_state,
        pixels_per_image=per_image,
        dropped_masses=tuple((mass, tuple(_name(items[done[i]]) for i in where)) for mass, where in lacking),
        failures=tuple(outcomes[i] for i in sorted(outcomes) if not outcomes[i].ok),
    )


def _sample_all(runner, items, indices, per_image, masses, features, random_state) -> dict[int, Outcome]:
    indices = list(indices)
    jobs = [(items[i], i, per_image, masses, features, random_state) for i in indices]
    labels = [_name(items[i]) for i in indices]
    return {
        indices[outcome.index]: Outcome(indices[outcome.index], outcome.value, outcome.error, outcome.warnings)
        for outcome in runner.run(_sample_one, jobs, labels=labels, desc="sampling")
    }


def fit_model(sample: StudySample, n_clusters: int) -> StudyModel:
    """Fit the study's cluster centres on its sampled pixels (KMeans with the kit's settings).

    Parameters
    ----------
    sample : StudySample
        From :func:`sample_study`.
    n_clusters : int
        Number of clusters, k >= 2.

    Returns
    -------
    StudyModel

    Raises
    ------
    NanoSIMSError
        If no image was sampled, or the sample cannot be split into ``n_clusters`` clusters.
    """
    if not isinstance(sample, StudySample):
        raise NanoSIMSError(f"sample: expected a StudySample from sample_study, got {type(sample).__name__}.")
    pixels = sample.pixels
    result = kmeans_map(pixels[:, np.newaxis, :], n_clusters, random_state=sample.random_state)
    return StudyModel(
        centers=result.centers,
        masses=sample.masses,
        features=sample.features,
        random_state=sample.random_state,
        images=sample.names,
        pixels_per_image=sample.pixels_per_image,
        sample_pixels=pixels.shape[0],
        dropped_masses=tuple(mass for mass, _ in sample.dropped_masses),
    )


def fit_study(
    paths,
    n_clusters: int,
    *,
    masses=None,
    preprocessing: str = RECOMMENDED_PREPROCESSING,
    sample_size: int = STUDY_SAMPLE_SIZE,
    random_state: int = 0,
    runner: Runner | None = None,
) -> StudyModel:
    """Fit one clustering on pixels sampled from every image of a study.

    :func:`sample_study` then :func:`fit_model`; the module description explains the model.

    Parameters
    ----------
    paths : sequence of str, Path or NanoSIMSImage
        The study's images (files are read one at a time).
    n_clusters : int
        Number of clusters, k >= 2.
    masses, preprocessing, sample_size, random_state, runner
        As :func:`sample_study`.

    Returns
    -------
    StudyModel
        Apply it with :func:`apply_model`, save it with :func:`save_model`.

    Raises
    ------
    NanoSIMSError
        If an image cannot be read or lacks a mass asked for (all such images are named), the
        images share no mass, or the arguments are bad.

    Examples
    --------
    >>> from nanosims_helpers.synthetic import simulate_soil_image
    >>> images = [simulate_soil_image((32, 32), random_state=seed)[0] for seed in (1, 2, 3)]
    >>> model = fit_study(images, 4, sample_size=1500)
    >>> model.n_clusters, model.sample_pixels, apply_model(model, images[0]).labels.shape
    (4, 1500, (32, 32))
    """
    sample = sample_study(
        paths, masses=masses, preprocessing=preprocessing, sample_size=sample_size,
        random_state=random_state, runner=runner,
    )
    if sample.failures:
        raise NanoSIMSError(
            "study: " + "; ".join(outcome.error for outcome in sample.failures)
            + ". Fix or leave out these images."
        )
    return fit_model(sample, n_clusters)


def _check_model(model) -> StudyModel:
    if not isinstance(model, StudyModel):
        raise NanoSIMSError(
            f"model: expected a StudyModel (from fit_study or load_model), got {type(model).__name__}."
        )
    return model


def apply_model(model: StudyModel, image) -> ClusterResult:
    """Label the pixels of ``image`` with a study model's clusters.

    Parameters
    ----------
    model : StudyModel
        From :func:`fit_study` or :func:`load_model`.
    image : NanoSIMSImage
        Any image that has the model's masses (other masses are ignored).

    Returns
    -------
    ClusterResult
        ``labels`` (y, x) numbered as the model's clusters (a cluster may have no pixel in
        this image), the model's ``centers`` and the image's ``features``.

    Raises
    ------
    NanoSIMSError
        If the image lacks a mass of the model (the message names them).

    Examples
    --------
    >>> model = StudyModel(np.array([[0.0], [3.0]]), ("16O",), {"preprocessing": "asinh"})
    >>> image = NanoSIMSImage(np.array([[[1.0, 0.0], [90.0, 2.0]]]), ("16O", "12C"))
    >>> apply_model(model, image).labels.tolist()
    [[0, 1]]
    >>> apply_model(model, NanoSIMSImage(np.ones((1, 2, 1)), ("12C",)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nanosims_helpers.errors.NanoSIMSError: image: the model was fitted on ['16O'], and this image lacks ['16O'] ...
    """
    model = _check_model(model)
    check_image(image)
    have = {normalize_mass_name(m) for m in image.masses}
    missing = [m for m in model.masses if normalize_mass_name(m) not in have]
    if missing:
        raise NanoSIMSError(
            f"{image.name}: the model was fitted on {list(model.masses)}, and this image lacks {missing} "
            f"(it has {list(image.masses)}). Apply a model fitted on masses every image has "
            "(fit_study(..., masses=[...]) or nanosims-cluster --joint --masses)."
        )
    features = image_features(image, masses=model.masses, **model.features)
    return ClusterResult(labels_from_centers(features, model.centers), model.centers, features)


def model_dict(model: StudyModel) -> dict:
    """The model as the plain values :func:`save_model` writes (JSON keeps every float exactly)."""
    model = _check_model(model)
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "kit_version": model.kit_version,
        "n_clusters": model.n_clusters,
        "masses": list(model.masses),
        "features": dict(model.features),
        "centers": model.centers.tolist(),
        "random_state": model.random_state,
        "images": list(model.images),
        "pixels_per_image": model.pixels_per_image,
        "sample_pixels": model.sample_pixels,
        "dropped_masses": list(model.dropped_masses),
    }


def save_model(model: StudyModel, path) -> Path:
    """Save ``model`` as a JSON file that :func:`load_model` reads back exactly (no pickle).

    The file is written under a temporary name and then renamed, so it is complete or absent.

    Parameters
    ----------
    model : StudyModel
    path : str or Path
        The file to write (``model.json``); its folder must exist.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    NanoSIMSError
        If ``model`` is not a StudyModel or the folder does not exist.

    Examples
    --------
    >>> import tempfile
    >>> model = StudyModel(np.array([[0.1, 1.0], [2.0, 0.3]]), ("12C", "16O"))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     loaded = load_model(save_model(model, Path(folder) / "model.json"))
    >>> bool((loaded.centers == model.centers).all()), loaded.masses
    (True, ('12C', '16O'))
    """
    values = model_dict(model)
    path = Path(path)
    if not path.parent.is_dir():
        raise NanoSIMSError(f"{path}: the folder {path.parent} does not exist; create it first.")
    with replacing(path) as temporary:
        temporary.write_text(json.dumps(values, indent=1) + "\n", encoding="utf-8")
    return path


def load_model(path) -> StudyModel:
    """Read a model saved by :func:`save_model`, checking everything it holds.

    A model saved by another version of the kit is read with a ``UserWarning``: its features may
    be computed differently there, so refit it if the labels matter.

    Parameters
    ----------
    path : str or Path
        A ``model.json`` file.

    Returns
    -------
    StudyModel

    Raises
    ------
    NanoSIMSError
        If the file is missing, not JSON, not a study model, from a newer model format, or
        holds values that do not fit together (centres for other masses, unknown preprocessing).
    """
    path = Path(path)
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NanoSIMSError(f"{path}: cannot read the model ({exc.strerror or exc}).") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NanoSIMSError(
            f"{path}: not a JSON file ({exc}); give a model.json written by nanosims-cluster --joint."
        ) from None
    if not isinstance(values, dict) or values.get("format") != MODEL_FORMAT:
        raise NanoSIMSError(f"{path}: not a study model (no \"format\": \"{MODEL_FORMAT}\"); give a model.json "
                            "written by nanosims-cluster --joint or save_model.")
    missing = [key for key in _MODEL_KEYS if key not in values]
    if missing:
        raise NanoSIMSError(f"{path}: the model lacks {missing}; save it again with save_model.")
    if not isinstance(values["format_version"], int) or values["format_version"] > MODEL_FORMAT_VERSION:
        raise NanoSIMSError(
            f"{path}: model format {values['format_version']!r}, but this kit reads up to {MODEL_FORMAT_VERSION}; "
            "update the kit."
        )
    try:
        model = _model_from(values)
    except NanoSIMSError as exc:
        raise NanoSIMSError(f"{path}: {exc}") from None
    if model.kit_version != kit_version():
        warnings.warn(
            f"{path.name}: fitted with kit version {model.kit_version}, this is {kit_version()}; features may be "
            "computed differently, so refit the model if the labels must match.",
            UserWarning,
        )
    return model


def _model_from(values: dict) -> StudyModel:
    masses, features, centers = values["masses"], values["features"], values["centers"]
    if not isinstance(masses, list) or not all(isinstance(m, str) and m.strip() for m in masses) or len(
        {normalize_mass_name(m) for m in masses}
    ) != len(masses):
        raise NanoSIMSError(f"masses {masses!r}: expected a list of distinct mass names.")
    if not isinstance(features, dict):
        raise NanoSIMSError(f"features {features!r}: expected the settings of image_features, e.g. "
                            '{"preprocessing": "asinh"}.')
    features = _check_features(features)
    try:
        centers = np.array(centers, dtype=float)
    except (TypeError, ValueError):
        raise NanoSIMSError("centers: expected a list of k lists of numbers.") from None
    model = StudyModel(
        centers=centers, masses=tuple(masses), features=features, random_state=values["random_state"],
        images=values["images"], pixels_per_image=values["pixels_per_image"],
        sample_pixels=values["sample_pixels"], dropped_masses=values["dropped_masses"],
        kit_version=str(values["kit_version"]),
    )
    if model.n_clusters != values["n_clusters"]:
        raise NanoSIMSError(f"n_clusters is {values['n_clusters']!r} but there are {model.n_clusters} centres.")
    probe = NanoSIMSImage(np.arange(4.0 * len(masses)).reshape(2, 2, len(masses)), tuple(masses))
    width = image_features(probe, masses=model.masses, **model.features).shape[-1]
    if width != model.centers.shape[1]:
        raise NanoSIMSError(
            f"centers: {model.centers.shape[1]} feature(s) per centre, but the masses {list(masses)} give {width}; "
            "the file was changed or comes from another kit."
        )
    return model

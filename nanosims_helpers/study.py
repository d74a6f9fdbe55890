"""One clustering for a whole study: phases found on pixels of many images, applied to any image.

Clustering each image on its own numbers the clusters anew every time: cluster 2 is organic
matter in one image and iron oxide in the next, and nothing can be compared. A study model is
fitted once on pixels drawn from every image and then labels each image with the same clusters,
so their area fractions and profiles compare across the study.

A :class:`StudyModel` is the kit's default method (:mod:`nanosims_helpers.spatial`) fitted on a
study instead of one image:

1. **features**: the composition of every pixel (:func:`~nanosims_helpers.preprocessing.composition_transform`
   of lightly smoothed counts: each pixel rescaled to its image's mean total, then asinh), then
   standardized with the *study's* mean and standard deviation of every mass, which the model
   keeps. A per-image z-score would move a phase's features with the share of the image the
   other phases take; the study's scale keeps them fixed. Because the composition rescales every
   pixel to its own image's mean total, an image counted three times longer, or with a higher ion
   yield, gets the same labels;
2. **phases**: in each image the core pixels (away from boundaries, :func:`~nanosims_helpers.spatial.core_mask`)
   are found as for one image; the same number of them is drawn at random from every image, and
   the pooled sample is clustered into micro-clusters and merged by Ward
   (:func:`~nanosims_helpers.spatial.core_phases`). A phase's centre is the mean of its sampled
   pixels; phases are numbered by their share of the sample, largest first;
3. **per image**: every pixel its nearest centre, then the Potts clean-up
   (:func:`~nanosims_helpers.spatial.assign_phases`).

Fitting (:func:`fit_study`) reads one image at a time, keeps its sampled pixels and a few sums
per mass, and lets the image go: memory holds the sample, never the study. Images whose masses
differ are clustered on the masses all of them have; the model lists the others as dropped.
Pixel sizes may differ. Everything random is seeded (``random_state``, and each image's position
in the list), so the same inputs give the same model, whether the images are read here or by
Dask workers (``runner``, see :mod:`nanosims_helpers.batch`).

Models are saved as plain JSON (:func:`save_model`, :func:`load_model`): masses, the study's
feature scale, centres (exact: JSON keeps every digit of a float), smoothing, Potts weight, seed,
sample and kit version.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from .batch import Outcome, Runner
from .clustering import ClusterResult
from .defaults import MAX_SEED, STUDY_SAMPLE_SIZE
from .errors import NanoSIMSError
from .hierarchical import largest_first
from .image import NanoSIMSImage, check_image, normalize_mass_name
from .io.files import replacing
from .io.loading import load_image
from .isotopes import split_for_ratios
from .methods import STUDY_METHOD, get_method
from .preprocessing import composition_transform, composition_values
from .spatial import (
    ASSIGN_SMOOTHING_PX,
    FIT_SMOOTHING_PX,
    POTTS_BETA,
    assign_phases,
    core_mask,
    core_phases,
    phase_centers,
    smooth_counts,
)
from .validation import check_finite_array, check_n_clusters, check_non_negative
from .version import kit_version

__all__ = [
    "MODEL_FORMAT", "STUDY_PREPROCESSING", "STUDY_SAMPLE_SIZE", "ImageSample", "StudyModel", "StudySample",
    "apply_model", "fit_model", "fit_study", "load_model", "sample_study", "save_model", "study_features",
]

#: The preprocessing of a study model's features, for the records written beside its maps.
STUDY_PREPROCESSING = get_method(STUDY_METHOD).preprocessing

#: The ``"format"`` entry of a saved model, and the version of that format this kit writes
#: (version 1, written by earlier kits, held k-means centres on asinh features).
MODEL_FORMAT = "nanosims-study-model"
MODEL_FORMAT_VERSION = 2

_MODEL_KEYS = ("format", "format_version", "kit_version", "method", "preprocessing", "n_clusters", "masses",
               "feature_mean", "feature_scale", "reference_total", "smoothing_px", "beta", "centers", "random_state",
               "images", "pixels_per_image", "sample_pixels", "dropped_masses")


def _frozen(array) -> np.ndarray:
    array = np.array(array, dtype=float)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class StudyModel:
    """Phases fitted on a study: masses, feature scale and centres, applied by :func:`apply_model`.

    Attributes
    ----------
    centers : ndarray of float, shape (k, n_masses)
        Phase centres in the study's standardized feature space (read-only).
    masses : tuple of str
        The masses the features are computed from, in order; an image needs all of them.
    feature_mean, feature_scale : ndarray of float, shape (n_masses,)
        The study's mean and standard deviation of every mass's composition feature
        (:func:`study_features` subtracts and divides by them; read-only).
    reference_total : float
        The total counts every pixel is rescaled to before the asinh: the median over the
        study's images of their mean total per pixel.
    smoothing_px : float
        Gaussian smoothing of the counts before the features, in pixels.
    beta : float
        Weight of a neighbour's vote in the Potts clean-up (0: nearest centre only).
    random_state : int
        Seed of the pixel sample and of the micro-clusters.
    images : tuple of str
        The images the model was fitted on.
    pixels_per_image : int
        Core pixels sampled from each image (all of them if it has fewer).
    sample_pixels : int
        Pixels the phases were fitted on.
    dropped_masses : tuple of str
        Masses some images had but not all, left out of the model.
    kit_version : str
        Version of the kit that fitted the model.

    Examples
    --------
    >>> model = StudyModel(np.array([[0.0, 1.0], [2.0, 0.5]]), ("12C", "16O"), [1.0, 2.0], [0.5, 0.5], 300.0)
    >>> model.n_clusters, model.preprocessing, model.centers.flags.writeable
    (2, 'composition', False)
    """

    centers: np.ndarray
    masses: tuple[str, ...]
    feature_mean: np.ndarray
    feature_scale: np.ndarray
    reference_total: float
    smoothing_px: float = ASSIGN_SMOOTHING_PX
    beta: float = POTTS_BETA
    random_state: int = 0
    images: tuple[str, ...] = ()
    pixels_per_image: int = 0
    sample_pixels: int = 0
    dropped_masses: tuple[str, ...] = ()
    kit_version: str = field(default_factory=kit_version)

    def __post_init__(self):
        centers = check_finite_array(self.centers, "centers", ndim=(2,))
        masses = tuple(str(m) for m in self.masses)
        if centers.shape[0] < 2 or not masses or centers.shape[1] != len(masses):
            raise NanoSIMSError(
                f"model: {centers.shape[0]} centre(s) of {centers.shape[1]} feature(s) on masses {list(masses)}; "
                "a model needs at least 2 centres, each with one feature per mass."
            )
        for name in ("feature_mean", "feature_scale"):
            values = check_finite_array(getattr(self, name), name, ndim=(1,))
            if values.shape != (len(masses),) or (name == "feature_scale" and not (values > 0).all()):
                raise NanoSIMSError(f"{name}: expected {len(masses)} number(s), one per mass"
                                    + (", all above 0." if name == "feature_scale" else "."))
            object.__setattr__(self, name, _frozen(values))
        object.__setattr__(self, "centers", _frozen(centers))
        object.__setattr__(self, "masses", masses)
        reference = check_non_negative(self.reference_total, "reference_total")
        if not 0 < reference < np.inf:
            raise NanoSIMSError(
                f"reference_total={self.reference_total!r}: give the typical counts per pixel, above 0."
            )
        object.__setattr__(self, "reference_total", reference)
        object.__setattr__(self, "smoothing_px", check_non_negative(self.smoothing_px, "smoothing_px"))
        object.__setattr__(self, "beta", check_non_negative(self.beta, "beta"))
        for name in ("images", "dropped_masses"):
            object.__setattr__(self, name, tuple(str(item) for item in getattr(self, name)))

    def __reduce__(self):
        # Rebuilt through __post_init__, so a copy sent to a worker process is read-only too.
        return (self.__class__, tuple(getattr(self, f.name) for f in fields(self)))

    @property
    def n_clusters(self) -> int:
        """Number of clusters, k."""
        return self.centers.shape[0]

    @property
    def method(self) -> str:
        """The clustering method the model carries over to a study: :data:`~nanosims_helpers.methods.STUDY_METHOD`."""
        return STUDY_METHOD

    @property
    def preprocessing(self) -> str:
        """The preprocessing of the counts: :data:`STUDY_PREPROCESSING`, standardized over the study."""
        return STUDY_PREPROCESSING


@dataclass(frozen=True, eq=False)
class ImageSample:
    """Pixels drawn from one image of a study: smoothed counts, not yet features.

    Attributes
    ----------
    fit_core, assign_core : ndarray, shape (pixels, n_masses)
        Random core pixels (away from boundaries): the counts smoothed for finding the phases and
        for assigning pixels to them.
    fit_any, assign_any : ndarray, shape (pixels, n_masses)
        Random pixels of the whole image, for the study's feature mean and scale.
    typical_total : float
        The image's mean total counts per pixel.
    """

    fit_core: np.ndarray
    assign_core: np.ndarray
    fit_any: np.ndarray
    assign_any: np.ndarray
    typical_total: float


@dataclass(frozen=True, eq=False)
class StudySample:
    """Pixels sampled from every image of a study, ready for :func:`fit_model`.

    Attributes
    ----------
    names : tuple of str
        The images sampled, in input order (failed images left out).
    images : tuple of ImageSample
        What was drawn from each of them.
    masses : tuple of str
        The masses every sampled image has (or the masses asked for).
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
    images: tuple[ImageSample, ...]
    masses: tuple[str, ...]
    random_state: int
    pixels_per_image: int
    dropped_masses: tuple = ()
    failures: tuple[Outcome, ...] = ()

    @property
    def reference_total(self) -> float:
        """The total every pixel is rescaled to: the median of the images' mean totals."""
        if not self.images:
            raise NanoSIMSError("study: no image could be sampled, so there is nothing to fit; see the errors above.")
        return float(np.median([image.typical_total for image in self.images]))

    def features(self, kind: str) -> np.ndarray:
        """The composition features (not standardized) of one kind of rows of every image, pooled.

        ``kind`` is an attribute of :class:`ImageSample`: ``"fit_core"``, ``"assign_core"``,
        ``"fit_any"`` or ``"assign_any"``. Each image's rows are rescaled to
        :attr:`reference_total`, with that image's own mean total for the near-empty pixels.
        """
        reference = self.reference_total
        return np.concatenate([
            composition_values(getattr(image, kind), typical_total=image.typical_total, reference_total=reference)
            for image in self.images
        ])


def _mean_scale(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of every column; a column that never varies gets scale 1."""
    scale = values.std(axis=0)
    return values.mean(axis=0), np.where(scale > 0, scale, 1.0)


def _typical_total(counts: np.ndarray) -> float:
    return float(counts.sum(axis=-1).mean())


def study_features(model: "StudyModel", image: NanoSIMSImage) -> np.ndarray:
    """The (y, x, mass) features a study model labels ``image`` on: composition, standardized over the study.

    Parameters
    ----------
    model : StudyModel
    image : NanoSIMSImage
        Holding the model's masses (others are ignored).

    Returns
    -------
    ndarray of float, shape (y, x, n_masses)

    Raises
    ------
    NanoSIMSError
        If the image lacks a mass of the model.

    Examples
    --------
    >>> model = StudyModel(np.array([[0.0, 0.0], [1.0, 1.0]]), ("12C", "16O"), [0.0, 0.0], [1.0, 1.0], 30.0,
    ...                    smoothing_px=0)
    >>> image = NanoSIMSImage(np.array([[[40.0, 10.0], [20.0, 5.0]]]), ("12C", "16O"))
    >>> features = study_features(model, image)
    >>> bool(np.allclose(features[0, 0], features[0, 1]))   # the same composition, half the ions
    True
    """
    counts = _model_image(model, image).counts
    raw = composition_values(smooth_counts(counts, model.smoothing_px), typical_total=_typical_total(counts),
                             reference_total=model.reference_total)
    return (raw - model.feature_mean) / model.feature_scale


def _name(item) -> str:
    return item.name if isinstance(item, NanoSIMSImage) else str(item)


def _image(item) -> NanoSIMSImage:
    return item if isinstance(item, NanoSIMSImage) else load_image(item)


def _sample_one(item, index: int, n_pixels: int, masses, random_state: int, ratios=None):
    """Read one image; return its masses and :func:`_image_sample` of them (of the selection half of
    the ratios' masses, with ``ratios``: see :func:`study_split`)."""
    loaded = _image(item)
    image = loaded.for_clustering(masses)  # without masses: every ion mass (SE and the like left out)
    split = study_split(loaded, image.masses, ratios, random_state=random_state)
    if split is not None:
        image = split.selection.select(image.masses)
    return image.masses, _image_sample(image, index, n_pixels, random_state)


def study_split(image: NanoSIMSImage, masses, ratios, *, random_state: int):
    """The split of ``image``'s counts a study model is fitted on and labels with ``ratios``; None without.

    The selection half of the ratios' masses
    (:func:`~nanosims_helpers.isotopes.split_for_ratios` with the study's seed, so the same split in
    the sample and in the labelling): the tests of the clusters use counts neither the fit nor the
    labelling saw. ``masses`` the image lacks are left to the caller's own error.
    """
    if not ratios:
        return None
    have = {normalize_mass_name(m) for m in image.masses}
    present = [m for m in masses if normalize_mass_name(m) in have]
    return split_for_ratios(image, ratios, present, random_state=random_state)


def _image_sample(image: NanoSIMSImage, index: int, n_pixels: int, random_state: int) -> ImageSample:
    """``n_pixels`` random core pixels and ``n_pixels`` random pixels of ``image``, as smoothed counts.

    The core is found as :func:`~nanosims_helpers.spatial.spatial_map` finds it for one image.
    """
    fit = smooth_counts(image.counts, FIT_SMOOTHING_PX)
    assign = smooth_counts(image.counts, ASSIGN_SMOOTHING_PX)
    core = np.flatnonzero(core_mask(composition_transform(fit, masses=image.masses)))
    fit, assign = (table.reshape(-1, table.shape[-1]) for table in (fit, assign))
    rng = np.random.default_rng([random_state, index])
    core_rows = np.sort(rng.choice(core, min(n_pixels, core.size), replace=False))
    any_rows = np.sort(rng.choice(len(fit), min(n_pixels, len(fit)), replace=False))
    return ImageSample(fit[core_rows], assign[core_rows], fit[any_rows], assign[any_rows],
                       _typical_total(image.counts))


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
    sample_size: int = STUDY_SAMPLE_SIZE,
    random_state: int = 0,
    runner: Runner | None = None,
    ratios=None,
) -> StudySample:
    """Draw the same number of random pixels from every image: from its core, and from anywhere.

    Each image is read, its counts smoothed, its core pixels found
    (:func:`~nanosims_helpers.spatial.core_mask`), ``sample_size // len(paths)`` of them and as
    many pixels from anywhere kept (:class:`ImageSample`), and the image released. Without
    ``masses``, the images are first sampled on their own ion masses; those whose masses differ
    from the masses all images share are sampled again on the shared ones.

    Parameters
    ----------
    paths : sequence of str, Path or NanoSIMSImage
        The study's images.
    masses : sequence of str, optional
        Masses to use; an image lacking one fails. Default: the ion masses every image has
        (non-ion channels such as ``SE`` left out, with a warning).
    sample_size : int
        Pixels over the whole study (at least 1 per image).
    random_state : int
        Seed; image ``i`` is sampled with the seed ``[random_state, i]``.
    runner : Runner, optional
        Where to read the images (:class:`~nanosims_helpers.batch.Runner`); here by default.
    ratios : str or sequence, optional
        Isotope ratios to be tested on the clusters: the sample holds only the selection half of
        their masses' counts (:func:`study_split`).

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
    >>> from nanosims_helpers.teaching.synthetic import simulate_soil_image
    >>> images = [simulate_soil_image((32, 32), random_state=s)[0] for s in (1, 2)]
    >>> sample = sample_study(images, sample_size=100)
    >>> [image.fit_core.shape for image in sample.images], sample.masses[:2]
    ([(50, 7), (50, 7)], ('12C', '13C'))
    """
    items = _check_items(paths)
    random_state = _check_seed(random_state)
    if isinstance(sample_size, bool) or not isinstance(sample_size, (int, np.integer)) or sample_size < 1:
        raise NanoSIMSError(f"sample_size={sample_size!r}: give a whole number of pixels, 1 or more.")
    per_image = max(1, int(sample_size) // len(items))
    masses = None if masses is None else tuple(masses)
    with runner or Runner(progress=False) as active:
        outcomes = _sample_all(active, items, range(len(items)), per_image, masses, random_state, ratios)
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
            outcomes.update(_sample_all(active, items, again, per_image, masses, random_state, ratios))
    done = sorted(i for i, outcome in outcomes.items() if outcome.ok)
    return StudySample(
        names=tuple(_name(items[i]) for i in done),
        images=tuple(outcomes[i].value[1] for i in done),
        masses=tuple(masses or ()),
        random_state=random_state,
        pixels_per_image=per_image,
        dropped_masses=tuple((mass, tuple(_name(items[done[i]]) for i in where)) for mass, where in lacking),
        failures=tuple(outcomes[i] for i in sorted(outcomes) if not outcomes[i].ok),
    )


def _sample_all(runner, items, indices, per_image, masses, random_state, ratios=None) -> dict[int, Outcome]:
    indices = list(indices)
    jobs = [(items[i], i, per_image, masses, random_state, ratios) for i in indices]
    labels = [_name(items[i]) for i in indices]
    return {
        indices[outcome.index]: Outcome(indices[outcome.index], outcome.value, outcome.error, outcome.warnings)
        for outcome in runner.run(_sample_one, jobs, labels=labels, desc="sampling")
    }


def fit_model(sample: StudySample, n_clusters: int) -> StudyModel:
    """Find the study's phases on its sampled core pixels, as the default method does on one image.

    Every sampled pixel is rescaled to the study's reference total and standardized with the mean
    and standard deviation of the pixels drawn anywhere in the images (every image weighs the
    same). The core pixels' fitting features are clustered by
    :func:`~nanosims_helpers.spatial.core_phases` (micro-clusters merged by Ward); each phase's
    centre is the mean of its pixels' assigning features; phases are numbered by their share of
    the sample, largest first.

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
        If no image was sampled, or the sample cannot be split into ``n_clusters`` phases.
    """
    if not isinstance(sample, StudySample):
        raise NanoSIMSError(f"sample: expected a StudySample from sample_study, got {type(sample).__name__}.")
    fit_mean, fit_scale = _mean_scale(sample.features("fit_any"))
    mean, scale = _mean_scale(sample.features("assign_any"))
    fit_pixels = (sample.features("fit_core") - fit_mean) / fit_scale
    n_clusters = check_n_clusters(n_clusters, fit_pixels.shape[0])
    groups = core_phases(fit_pixels, n_clusters, random_state=sample.random_state)
    centers = phase_centers((sample.features("assign_core") - mean) / scale, groups, n_clusters)
    rank = largest_first(np.bincount(groups[groups >= 0], minlength=n_clusters))
    return StudyModel(
        centers=centers[np.argsort(rank)],
        masses=sample.masses,
        feature_mean=mean,
        feature_scale=scale,
        reference_total=sample.reference_total,
        random_state=sample.random_state,
        images=sample.names,
        pixels_per_image=sample.pixels_per_image,
        sample_pixels=fit_pixels.shape[0],
        dropped_masses=tuple(mass for mass, _ in sample.dropped_masses),
    )


def fit_study(
    paths,
    n_clusters: int,
    *,
    masses=None,
    sample_size: int = STUDY_SAMPLE_SIZE,
    random_state: int = 0,
    runner: Runner | None = None,
    ratios=None,
) -> StudyModel:
    """Fit one clustering on pixels sampled from every image of a study.

    :func:`sample_study` then :func:`fit_model`; the module description explains the model.

    Parameters
    ----------
    paths : sequence of str, Path or NanoSIMSImage
        The study's images (files are read one at a time).
    n_clusters : int
        Number of clusters, k >= 2.
    masses, sample_size, random_state, runner, ratios
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
    >>> from nanosims_helpers.teaching.synthetic import simulate_soil_image
    >>> images = [simulate_soil_image((32, 32), random_state=seed)[0] for seed in (1, 2, 3)]
    >>> model = fit_study(images, 4, sample_size=1500)
    >>> model.n_clusters, model.sample_pixels, apply_model(model, images[0]).labels.shape
    (4, 1500, (32, 32))
    """
    sample = sample_study(paths, masses=masses, sample_size=sample_size, random_state=random_state, runner=runner,
                          ratios=ratios)
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


def _model_image(model: StudyModel, image) -> NanoSIMSImage:
    """``image`` holding only the model's masses, in the model's order; a clear error if it lacks one."""
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
    return image.select(model.masses)


def apply_model(model: StudyModel, image) -> ClusterResult:
    """Label the pixels of ``image`` with a study model's phases.

    The features (:func:`study_features`), every pixel's nearest centre, and the Potts clean-up
    (:func:`~nanosims_helpers.spatial.assign_phases`) with the model's ``beta``.

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
    >>> centers = np.array([[1.8, 0.2], [0.2, 1.8]])   # a C-rich and an O-rich phase
    >>> model = StudyModel(centers, ("12C", "16O"), [0.0, 0.0], [1.0, 1.0], 32.0, smoothing_px=0, beta=0)
    >>> image = NanoSIMSImage(np.array([[[2.0, 30.0], [30.0, 2.0]]]), ("16O", "12C"))
    >>> apply_model(model, image).labels.tolist()
    [[0, 1]]
    >>> apply_model(model, NanoSIMSImage(np.ones((1, 2, 1)), ("12C",)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nanosims_helpers.errors.NanoSIMSError: image: the model was fitted on ['12C', '16O'], and this image lacks ...
    """
    features = study_features(model, image)
    return ClusterResult(assign_phases(features, model.centers, model.beta), model.centers, features)


def model_dict(model: StudyModel) -> dict:
    """The model as the plain values :func:`save_model` writes (JSON keeps every float exactly)."""
    model = _check_model(model)
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "kit_version": model.kit_version,
        "method": model.method,
        "preprocessing": model.preprocessing,
        "n_clusters": model.n_clusters,
        "masses": list(model.masses),
        "feature_mean": model.feature_mean.tolist(),
        "feature_scale": model.feature_scale.tolist(),
        "reference_total": model.reference_total,
        "smoothing_px": model.smoothing_px,
        "beta": model.beta,
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
    >>> model = StudyModel(np.array([[0.1, 1.0], [2.0, 0.3]]), ("12C", "16O"), [1.5, 0.2], [0.7, 0.1], 250.0)
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
        holds values that do not fit together (centres for other masses, a scale of 0).
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
    if values.get("format_version") == 1:
        raise NanoSIMSError(f"{path}: a model of an earlier kit (k-means centres on asinh features); fit the study "
                            "again with nanosims-cluster --joint or fit_study.")
    missing = [key for key in _MODEL_KEYS if key not in values]
    if missing:
        raise NanoSIMSError(f"{path}: the model lacks {missing}; save it again with save_model.")
    version = values["format_version"]
    if _whole(version) and version > MODEL_FORMAT_VERSION:
        raise NanoSIMSError(f"{path}: model format {version}, but this kit reads up to {MODEL_FORMAT_VERSION}; "
                            "update the kit.")
    try:
        _check_model_fields(values)
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


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(value, length: int, above_zero: bool = False) -> bool:
    return (isinstance(value, list) and len(value) == length
            and all(_finite(item) and (item > 0 or not above_zero) for item in value))


def _texts(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _check_model_fields(values: dict) -> None:
    """Check every field of a saved model for its type, length and range; one line naming the first bad one."""
    masses = values["masses"]
    n_masses = len(masses) if isinstance(masses, list) else 0
    k = values["n_clusters"]
    rules = [
        ("format_version", lambda v: _whole(v) and v == MODEL_FORMAT_VERSION,
         f"the whole number {MODEL_FORMAT_VERSION}"),
        ("kit_version", lambda v: isinstance(v, str), "text, e.g. \"0.1.0\""),
        ("method", lambda v: v == STUDY_METHOD, f"\"{STUDY_METHOD}\" (fit the study again with this kit)"),
        ("preprocessing", lambda v: v == STUDY_PREPROCESSING, f"\"{STUDY_PREPROCESSING}\" (fit the study again)"),
        ("masses", lambda v: _texts(v) and v and all(m.strip() for m in v)
         and len({normalize_mass_name(m) for m in v}) == len(v), "a list of distinct, non-empty mass names"),
        ("n_clusters", lambda v: _whole(v) and v >= 2, "a whole number of clusters, 2 or more"),
        ("centers", lambda v: isinstance(v, list) and len(v) == k and all(_numbers(row, n_masses) for row in v),
         f"n_clusters ({k!r}) lists of {n_masses} finite numbers, one per mass"),
        ("feature_mean", lambda v: _numbers(v, n_masses), f"{n_masses} finite numbers, one per mass"),
        ("feature_scale", lambda v: _numbers(v, n_masses, above_zero=True),
         f"{n_masses} finite numbers above 0, one per mass"),
        ("reference_total", lambda v: _finite(v) and v > 0, "a finite number above 0"),
        ("smoothing_px", lambda v: _finite(v) and v >= 0, "a finite number, 0 or more"),
        ("beta", lambda v: _finite(v) and v >= 0, "a finite number, 0 or more"),
        ("random_state", lambda v: _whole(v) and 0 <= v <= MAX_SEED, f"a whole number from 0 to {MAX_SEED}"),
        ("images", _texts, "a list of file names"),
        ("pixels_per_image", lambda v: _whole(v) and v >= 0, "a whole number, 0 or more"),
        ("sample_pixels", lambda v: _whole(v) and v >= 0, "a whole number, 0 or more"),
        ("dropped_masses", _texts, "a list of mass names"),
    ]
    for name, rule, expected in rules:
        value = values[name]
        if not rule(value):
            shown = repr(value) if len(repr(value)) <= 60 else f"{repr(value)[:57]}..."
            raise NanoSIMSError(f"\"{name}\" is {shown}, expected {expected}; fit the study again or restore the "
                                "file saved by nanosims-cluster --joint.")


def _model_from(values: dict) -> StudyModel:
    """The model of checked values (:func:`_check_model_fields`)."""
    arrays = {name: np.array(values[name], dtype=float) for name in ("centers", "feature_mean", "feature_scale")}
    return StudyModel(
        masses=tuple(values["masses"]), reference_total=values["reference_total"],
        smoothing_px=values["smoothing_px"], beta=values["beta"], random_state=values["random_state"],
        images=values["images"], pixels_per_image=values["pixels_per_image"], sample_pixels=values["sample_pixels"],
        dropped_masses=values["dropped_masses"], kit_version=values["kit_version"], **arrays,
    )

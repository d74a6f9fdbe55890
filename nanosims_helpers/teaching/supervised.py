"""A supervised reference: a classifier trained on simulated images whose true phases are known.

Clustering finds groups without being told what they are; a classifier trained on images with a
truth map learns which differences matter (a weak N/C difference, a few 13C counts more) and which
do not (the ion-yield ramp, grain-to-grain variation). On images like those it was trained on, it
shows how far a map can get: the *ceiling* the hackathon's baselines are measured against.

The features of a pixel (:func:`pixel_features`) are its counts seen at several scales: for each
Gaussian smoothing width in :data:`SCALES` (0 = the pixel itself), the centred log-ratios of the
smoothed counts (the log of each mass minus the mean log over the masses: the composition, free
of the ion yield, which multiplies every mass of a pixel alike) and the log of the smoothed total
against its broad neighbourhood (brightness, with the slow yield field divided out). A
histogram gradient-boosting classifier (scikit-learn) learns the phases from pixels drawn from
the training images, each phase weighed by the inverse of its share, so that small phases count;
it stops adding trees when a tenth of the training pixels, held out, stops improving.

Examples
--------
>>> from nanosims_helpers.teaching.realistic import simulate_realistic_image
>>> train = simulate_realistic_image((48, 48), random_state=1)
>>> model = train_classifier([train.image], [train.truth], n_pixels=1000, random_state=0)
>>> test = simulate_realistic_image((48, 48), random_state=2)
>>> float((predict_phases(model, test.image) == test.truth).mean()) > 0.8
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..clustering import limit_threads
from ..defaults import DEFAULT_THREADS
from ..errors import NanoSIMSError
from ..image import NanoSIMSImage, check_image
from ..validation import check_whole_number

__all__ = ["SCALES", "SupervisedModel", "pixel_features", "predict_phases", "train_classifier"]

#: Gaussian smoothing widths in pixels at which :func:`pixel_features` sees the counts (0: none).
SCALES = (0.0, 1.0, 2.0, 4.0, 8.0)
# Width of the neighbourhood a pixel's brightness is compared with (slower than any phase).
_BACKGROUND_PX = 24.0
# Added to smoothed counts before the log: half a count keeps empty pixels finite.
_PSEUDOCOUNT = 0.5


@dataclass(frozen=True)
class SupervisedModel:
    """A trained classifier and what it was trained on.

    Attributes
    ----------
    classifier : sklearn.ensemble.HistGradientBoostingClassifier
        Fitted on :func:`pixel_features`.
    masses : tuple of str
        The masses of the training images, in order; an image to label must have them.
    n_phases : int
        Number of phases of the training truth (phase indices 0..n_phases-1).
    """

    classifier: object
    masses: tuple[str, ...]
    n_phases: int


def _smooth(counts: np.ndarray, sigma: float) -> np.ndarray:
    return ndimage.gaussian_filter(counts, (sigma, sigma, 0), mode="reflect") if sigma > 0 else counts


def pixel_features(image) -> np.ndarray:
    """Return the multi-scale composition and brightness features of every pixel.

    Parameters
    ----------
    image : NanoSIMSImage
        Counts summed over planes; the ion masses are used (non-ion channels such as SE are left out).

    Returns
    -------
    ndarray of float32, shape (y, x, len(SCALES) * (n_masses + 1))
        Per scale: the centred log-ratio of each mass, then the log total against its broad
        neighbourhood.

    Examples
    --------
    >>> counts = np.ones((8, 8, 3))
    >>> counts[:, 4:, 0] = 10.0
    >>> features = pixel_features(NanoSIMSImage(counts, ("12C", "16O", "12C14N")))
    >>> features.shape
    (8, 8, 20)
    >>> bool(features[0, 7, 0] > features[0, 0, 0])   # more 12C on the right
    True
    """
    image = check_image(image).for_clustering()
    counts = image.counts.astype(float)
    columns = []
    for sigma in SCALES:
        smoothed = _smooth(counts, sigma)
        logs = np.log(smoothed + _PSEUDOCOUNT)
        columns.append(logs - logs.mean(axis=-1, keepdims=True))
        total = smoothed.sum(axis=-1)
        background = ndimage.gaussian_filter(counts.sum(axis=-1), _BACKGROUND_PX, mode="reflect")
        columns.append(np.log((total + _PSEUDOCOUNT) / (background + _PSEUDOCOUNT))[..., None])
    return np.concatenate(columns, axis=-1).astype(np.float32)


def train_classifier(images, truths, *, n_pixels: int = 60_000, random_state=0,
                     n_threads: int | None = DEFAULT_THREADS) -> SupervisedModel:
    """Train a phase classifier on images whose true phase maps are known.

    Parameters
    ----------
    images : sequence of NanoSIMSImage
        Training images, all with the same masses (e.g. simulated with settings like the images
        to label).
    truths : sequence of array_like of int, shape (y, x)
        The true phase index of every pixel of each image.
    n_pixels : int
        Pixels drawn (evenly from the images, without replacement) to train on, at least 100.
    random_state : int
        Seed of the draw and of the classifier.
    n_threads : int or None
        Threads of the classifier (None: one per core). One by default: on a busy 2-core
        machine, scikit-learn's gradient boosting took 3.8 s on one thread and 74 s on two for
        the same fit.

    Returns
    -------
    SupervisedModel

    Raises
    ------
    NanoSIMSError
        If there are no images, a truth does not fit its image, the masses differ between
        images, or the truth holds fewer than two phases.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    images, truths = list(images), list(truths)
    if not images or len(images) != len(truths):
        raise NanoSIMSError(f"images, truths: give one truth map per image, got {len(images)} and {len(truths)}.")
    n_pixels = check_whole_number(n_pixels, "n_pixels", minimum=100)
    rng = np.random.default_rng(random_state)
    masses = check_image(images[0]).for_clustering().masses
    tables, targets = [], []
    for number, (image, truth) in enumerate(zip(images, truths)):
        image, truth = check_image(image), _check_truth(truth, image, number)
        if image.for_clustering().masses != masses:
            raise NanoSIMSError(
                f"images[{number}]: masses {image.for_clustering().masses} differ from the first image's {masses}; "
                "train on images with the same masses."
            )
        drawn = rng.choice(truth.size, size=min(truth.size, n_pixels // len(images)), replace=False)
        tables.append(pixel_features(image).reshape(truth.size, -1)[drawn])
        targets.append(truth.ravel()[drawn])
    target = np.concatenate(targets)
    if np.unique(target).size < 2:
        raise NanoSIMSError("truths: the training pixels hold one phase only; give truth maps with two or more.")
    classifier = HistGradientBoostingClassifier(
        max_iter=100, early_stopping=True, class_weight="balanced", random_state=random_state
    )
    with limit_threads(n_threads):
        classifier.fit(np.concatenate(tables), target)
    return SupervisedModel(classifier, masses, int(target.max()) + 1)


def _check_truth(truth, image: NanoSIMSImage, number: int) -> np.ndarray:
    truth = np.asarray(truth)
    if truth.shape != image.shape[:2] or not np.issubdtype(truth.dtype, np.integer) or truth.min() < 0:
        raise NanoSIMSError(
            f"truths[{number}]: expected whole phase indices >= 0 of shape {image.shape[:2]}, got {truth.dtype} "
            f"of shape {truth.shape}; give the truth map of images[{number}]."
        )
    return truth


def predict_phases(model: SupervisedModel, image, *, n_threads: int | None = DEFAULT_THREADS) -> np.ndarray:
    """Label every pixel of ``image`` with the phase ``model`` finds most likely.

    Parameters
    ----------
    model : SupervisedModel
        From :func:`train_classifier`.
    image : NanoSIMSImage
        With the masses the model was trained on.
    n_threads : int or None
        Threads of the classifier, as in :func:`train_classifier`.

    Returns
    -------
    ndarray of int, shape (y, x)
        Phase indices, as in the training truth.

    Raises
    ------
    NanoSIMSError
        If the image's masses are not the model's.
    """
    image = check_image(image)
    if image.for_clustering().masses != model.masses:
        raise NanoSIMSError(
            f"image: masses {image.for_clustering().masses}, but the model was trained on {model.masses}; "
            "train a model on images with these masses."
        )
    features = pixel_features(image)
    with limit_threads(n_threads):
        labels = model.classifier.predict(features.reshape(-1, features.shape[-1]))
    return labels.astype(np.intp).reshape(image.shape[:2])

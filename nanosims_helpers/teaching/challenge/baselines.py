"""The reference rows of the leaderboard and the benchmark: what the kit and a supervised model get.

* **kit default, k auto**: :func:`~nanosims_helpers.pipeline.cluster_image` with its default
  method, k from :func:`~nanosims_helpers.split_half.recommend_k`: what a team gets for free.
* **kit default, true k**: the same method told the true number of phases.
* **reference notebook, true k**: :func:`~nanosims_helpers.pipeline.reference_pipeline` told it too.
* **supervised reference**: a classifier (:mod:`nanosims_helpers.teaching.supervised`) trained on another
  image simulated with the same settings and its truth: a ceiling, not a baseline.

Each makes a phase map and a cell map (:func:`~nanosims_helpers.teaching.challenge.submissions.find_cells`
on the map; for the supervised model, its "labelled cells" phase), whose 13C atom % comes from
the counts.
"""

from __future__ import annotations

import numpy as np

from ...pipeline import cluster_image, reference_pipeline
from ...split_half import recommend_k
from ..supervised import predict_phases, train_classifier
from .design import ChallengeImage
from .submissions import find_cells

__all__ = ["BASELINES", "SUPERVISED", "TOLD_K", "baseline_maps", "default_auto_k", "supervised_model"]

SUPERVISED = "supervised reference"
#: The reference rows, in the order they are shown.
BASELINES = ("kit default, k auto", "kit default, true k", "reference notebook, true k", SUPERVISED)
#: Rows that were told the number of phases (or learned it): not ranked on choosing k.
TOLD_K = BASELINES[1:]
_CELLS_PHASE = "labelled cells"


def default_auto_k(image, *, random_state=0) -> int:
    """The k :func:`~nanosims_helpers.split_half.recommend_k` recommends for the default method."""
    return int(recommend_k(image, random_state=random_state).k)


def supervised_model(training: ChallengeImage, *, random_state=0, n_pixels: int = 60_000):
    """Train the supervised reference on a training image and its truth."""
    return train_classifier([training.sample.image], [training.sample.truth], n_pixels=n_pixels,
                            random_state=random_state)


def baseline_maps(challenge: ChallengeImage, training: ChallengeImage, *, random_state=0,
                  n_pixels: int = 60_000) -> dict:
    """Phase maps and cell maps of every reference row on one challenge image.

    Parameters
    ----------
    challenge : ChallengeImage
        The image to label (its truth gives the true k to the rows told it).
    training : ChallengeImage
        Another image with the same settings, for the supervised reference.
    random_state : int
        Seed of the clusterings and the classifier.
    n_pixels : int
        Training pixels of the supervised reference.

    Returns
    -------
    dict
        Row name (:data:`BASELINES`) -> (labels, cells).
    """
    image = challenge.sample.image
    true_k = int(np.unique(challenge.sample.truth).size)
    maps = {
        BASELINES[0]: cluster_image(image, default_auto_k(image, random_state=random_state),
                                    random_state=random_state).labels,
        BASELINES[1]: cluster_image(image, true_k, random_state=random_state).labels,
        BASELINES[2]: reference_pipeline(image, true_k, random_state=random_state).labels,
    }
    rows = {name: (labels, find_cells(image, labels)) for name, labels in maps.items()}
    model = supervised_model(training, random_state=random_state, n_pixels=n_pixels)
    labels = predict_phases(model, image)
    cells_phase = challenge.sample.phase_names.index(_CELLS_PHASE)
    rows[SUPERVISED] = (labels, find_cells(image, labels, cluster=cells_phase))
    return rows

"""The hackathon challenge: an image whose true phases are known to the scorer, not to you.

``challenge_image()`` is a simulated soil image made with settings that none of the shipped
samples use (larger, fewer counts, many small 13C/15N-labelled hotspots). Cluster it any way
you like, then hand your label map to ``score_submission``; it compares your map with the
hidden truth and returns numbers, never the truth itself. Collect your attempts with
``results_table``.

Fair play: the truth is computed inside this module. Reading the source to get it is possible,
and it spoils the game.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from .io.image import NanoSIMSImage
from .metrics import adjusted_rand
from .synthetic import PHASES, simulate_soil_image
from .validation import check_labels

CHALLENGE_SHAPE = (384, 384)
_SETTINGS = dict(n_planes=3, count_scale=0.4, n_hotspots=40, enrichment=0.03, random_state=20240308)
SCORE_COLUMNS = ("adjusted_rand", "mean_f1", *(f"f1 {phase}" for phase in PHASES), "n_clusters")


@lru_cache(maxsize=1)
def _simulate() -> tuple[NanoSIMSImage, np.ndarray]:
    return simulate_soil_image(CHALLENGE_SHAPE, **_SETTINGS)


def challenge_image() -> NanoSIMSImage:
    """Return the challenge image (384 x 384 pixels, the seven soil masses, low counts).

    Returns
    -------
    NanoSIMSImage
        A fresh copy each call, so changing it cannot change the next one.

    Examples
    --------
    >>> image = challenge_image()
    >>> image.shape
    (384, 384, 7)
    """
    image, _ = _simulate()
    return NanoSIMSImage(image.counts.copy(), image.masses, pixel_size_um=image.pixel_size_um)


def best_match_f1(labels, truth) -> np.ndarray:
    """Return, for each phase of ``truth``, the F1 score of the cluster that matches it best.

    F1 of phase p and cluster c is ``2 |p and c| / (|p| + |c|)``: 1 when the cluster is exactly
    the phase. Phases absent from ``truth`` get NaN. One cluster may be the best match of
    several phases; the adjusted Rand index penalises that, F1 alone does not.

    Parameters
    ----------
    labels, truth : array_like of int
        Cluster labels and true phase indices (into ``PHASES``), one per pixel.

    Returns
    -------
    ndarray of float, shape (len(PHASES),)

    Examples
    --------
    >>> best_match_f1([0, 0, 1, 1], [2, 2, 3, 3])[2:4]
    array([1., 1.])
    """
    truth = np.asarray(truth).ravel()
    _, clusters = np.unique(np.asarray(labels).ravel(), return_inverse=True)
    n_clusters = clusters.max() + 1
    both = np.bincount(truth * n_clusters + clusters, minlength=len(PHASES) * n_clusters)
    both = both.reshape(len(PHASES), n_clusters)
    phase_sizes = both.sum(axis=1, keepdims=True)
    cluster_sizes = both.sum(axis=0, keepdims=True)
    f1 = 2 * both / np.maximum(phase_sizes + cluster_sizes, 1)
    return np.where(phase_sizes[:, 0] > 0, f1.max(axis=1), np.nan)


def score_submission(labels) -> dict:
    """Score a label map of ``challenge_image()`` against the hidden true phases.

    Parameters
    ----------
    labels : array_like of int, shape (384, 384) or (147456,)
        One cluster label per pixel; any integers (they need not be 0..k-1).

    Returns
    -------
    dict
        "adjusted_rand" (1 = the phases exactly, about 0 = no better than chance), "mean_f1"
        (mean over phases of the best-matching cluster's F1), "f1 <phase>" per phase, and
        "n_clusters".

    Raises
    ------
    NanoSIMSError
        If there is not one integer label per pixel of the challenge image.

    Examples
    --------
    >>> scores = score_submission(np.zeros((384, 384), dtype=int))
    >>> scores["adjusted_rand"], scores["n_clusters"]
    (0.0, 1)
    """
    _, truth = _simulate()
    flat = check_labels(labels, truth.size, name="labels (one per pixel of challenge_image())")
    f1 = best_match_f1(flat, truth)
    scores = {"adjusted_rand": adjusted_rand(flat, truth.ravel()), "mean_f1": float(np.nanmean(f1))}
    scores.update({f"f1 {phase}": float(value) for phase, value in zip(PHASES, f1)})
    scores["n_clusters"] = int(np.unique(flat).size)
    return scores


def results_table(rows=()) -> pd.DataFrame:
    """Return your attempts as a table, best adjusted Rand index first.

    Parameters
    ----------
    rows : iterable of dict
        One dict per attempt: your own columns (method, preprocessing, notes, ...) together
        with the output of :func:`score_submission`.

    Returns
    -------
    pandas.DataFrame
        Your columns first, then the score columns; empty with the score columns when
        ``rows`` is empty.

    Examples
    --------
    >>> table = results_table([{"method": "all one cluster", "adjusted_rand": 0.0}])
    >>> list(table.columns[:2]), len(table)
    (['method', 'adjusted_rand'], 1)
    """
    table = pd.DataFrame(list(rows))
    scores = [column for column in SCORE_COLUMNS if column in table.columns] or list(SCORE_COLUMNS)
    own = [column for column in table.columns if column not in SCORE_COLUMNS]
    table = table.reindex(columns=own + scores)
    if "adjusted_rand" in table.columns and len(table):
        table = table.sort_values("adjusted_rand", ascending=False, ignore_index=True)
    return table

"""The challenge's three tracks, each scored against one image's truth.

* **Phase map** (:func:`phase_map_scores`): for every true phase, the F1 of the cluster that
  matches it best, averaged over the phases (``mean_f1``, the track's score; a small phase weighs
  as much as a large one); the adjusted Rand index breaks ties.
* **Labelled cells** (:func:`cell_scores`): each true labelled cell is *found* when a submitted
  cell region overlaps it; the error of its 13C atom % is the distance between the value reported
  for the region that overlaps it most and the cell's true atom % (from the noise-free expected
  counts), capped at :data:`CELL_ERROR_CAP`. A missed cell, and a region that overlaps no cell,
  count the cap. ``cell_error`` is the mean over cells and such false regions: 0 is perfect,
  lower is better; the share of cells found breaks ties.
* **Choosing k** (:func:`k_error`): the distance between the number of clusters in the map and
  the number of true phases; lower is better, ``mean_f1`` breaks ties.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ...errors import NanoSIMSError
from ...metrics import adjusted_rand, f1_matrix

__all__ = [
    "CELL_ERROR_CAP", "RANKING_SCORE", "TRACKS", "ImageTruth", "best_match_f1", "cell_scores", "image_scores",
    "k_error", "phase_map_scores", "true_cell_atom_percent",
]

#: The phase-map track's score (higher is better); ``adjusted_rand`` breaks ties.
RANKING_SCORE = "mean_f1"
#: Largest error, in 13C atom %, one labelled cell can cost (also the cost of a missed cell or a false region).
CELL_ERROR_CAP = 5.0
#: Track -> (score column, higher is better, tie-break column, higher is better).
TRACKS = {
    "phase map": ("mean_f1", True, "adjusted_rand", True),
    "labelled cells": ("cell_error", False, "cells_found", True),
    "choosing k": ("k_error", False, "mean_f1", True),
}
_C12, _C13 = 0, 1  # columns of 12C and 13C in the realistic simulator's masses


@dataclass(frozen=True)
class ImageTruth:
    """What the scorer knows of one challenge image.

    Attributes
    ----------
    name : str
        The image's name ("practice", "image_a", ...).
    image_hash : str
        :func:`~nanosims_helpers.teaching.challenge.design.image_hash` of the image.
    truth : ndarray of int, shape (y, x)
        True phase index of every pixel.
    phase_names : tuple of str
        Name of each phase index.
    cells : ndarray of int, shape (y, x)
        True labelled cell 1..n of every pixel, 0 outside cells.
    cell_atom_percent : ndarray of float, shape (n,)
        True 13C atom % of each cell (cell i at index i - 1).
    scored : ndarray of bool, shape (y, x)
        The pixels the phase map is scored on (all of them, or the private part of a split).
    """

    name: str
    image_hash: str
    truth: np.ndarray
    phase_names: tuple
    cells: np.ndarray
    cell_atom_percent: np.ndarray
    scored: np.ndarray

    @property
    def n_phases(self) -> int:
        """Number of phases present in the image."""
        return int(np.unique(self.truth).size)


def true_cell_atom_percent(expected: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """13C atom % of each labelled cell from noise-free expected counts: 100 13C / (12C + 13C), summed.

    Parameters
    ----------
    expected : ndarray, shape (y, x, mass)
        Expected counts with 12C and 13C in the first two columns (the realistic simulator's masses).
    cells : ndarray of int, shape (y, x)
        Cell 1..n of every pixel, 0 outside.

    Examples
    --------
    >>> expected = np.zeros((1, 3, 2))
    >>> expected[0, :, 0], expected[0, :, 1] = [90.0, 99.0, 50.0], [10.0, 1.0, 50.0]
    >>> true_cell_atom_percent(expected, np.array([[1, 1, 2]])).round(2).tolist()
    [5.5, 50.0]
    """
    n_cells = int(cells.max())
    index = np.arange(1, n_cells + 1)
    carbon_12 = ndimage.sum_labels(expected[..., _C12], cells, index)
    carbon_13 = ndimage.sum_labels(expected[..., _C13], cells, index)
    return 100.0 * np.asarray(carbon_13) / (np.asarray(carbon_12) + np.asarray(carbon_13))


def best_match_f1(labels, truth, n_phases: int) -> np.ndarray:
    """Return, for each phase of ``truth``, the F1 score of the cluster that matches it best.

    F1 of phase p and cluster c is ``2 |p and c| / (|p| + |c|)``: 1 when the cluster is exactly
    the phase. Phases absent from ``truth`` get NaN. One cluster may be the best match of
    several phases; the adjusted Rand index penalises that, F1 alone does not.

    Parameters
    ----------
    labels, truth : array_like of int
        Cluster labels and true phase indices, one per pixel.
    n_phases : int
        Number of phases, above the largest index in ``truth`` (``len(phase_names)``).

    Returns
    -------
    ndarray of float, shape (n_phases,)

    Examples
    --------
    >>> best_match_f1([0, 0, 1, 1], [2, 2, 3, 3], 5)[2:4]
    array([1., 1.])
    >>> round(float(best_match_f1([0, 0, 0, 1], [0, 0, 5, 5], n_phases=6)[5]), 3)
    0.667
    """
    truth = np.asarray(truth).ravel()
    if truth.max() >= n_phases:
        raise NanoSIMSError(f"truth: phase index {truth.max()} for {n_phases} phases; pass n_phases.")
    _, clusters = np.unique(np.asarray(labels).ravel(), return_inverse=True)
    f1 = f1_matrix(truth, n_phases, clusters, int(clusters.max()) + 1)
    present = np.bincount(truth, minlength=n_phases) > 0
    return np.where(present, f1.max(axis=1), np.nan)


def phase_map_scores(labels: np.ndarray, truth: np.ndarray, phase_names, scored=None) -> dict:
    """Score a label map against the true phases, on the pixels ``scored`` (all by default).

    Returns
    -------
    dict
        ``mean_f1`` (the track's score), ``adjusted_rand`` and ``f1 <phase>`` for every phase
        (NaN for a phase absent from the image).

    Examples
    --------
    >>> truth = np.array([[0, 0, 1, 1]])
    >>> scores = phase_map_scores(np.array([[7, 7, 7, 3]]), truth, ("a", "b"))
    >>> round(scores["mean_f1"], 3), scores["f1 b"]
    (0.733, 0.6666666666666666)
    """
    labels, truth = np.asarray(labels), np.asarray(truth)
    if scored is not None:
        labels, truth = labels[scored], truth[scored]
    f1 = best_match_f1(labels, truth, len(phase_names))
    scores = {"mean_f1": float(np.nanmean(f1)), "adjusted_rand": adjusted_rand(labels.ravel(), truth.ravel())}
    scores.update({f"f1 {phase}": float(value) for phase, value in zip(phase_names, f1)})
    return scores


def cell_scores(cells: np.ndarray, reported: dict, true_cells: np.ndarray, true_atom_percent,
                cap: float = CELL_ERROR_CAP) -> dict:
    """Score submitted cell regions and their reported 13C atom % against the true cells.

    Parameters
    ----------
    cells : ndarray of int, shape (y, x)
        Submitted region 1..m of every pixel, 0 outside regions.
    reported : dict of int to float
        Reported 13C atom % of each region; a region without a finite value counts as wrong by ``cap``.
    true_cells : ndarray of int, shape (y, x)
        True cell 1..n of every pixel, 0 outside.
    true_atom_percent : array_like of float, shape (n,)
        True 13C atom % of each cell.
    cap : float
        Largest error one cell or false region can cost.

    Returns
    -------
    dict
        ``cell_error`` (mean of the capped errors over the true cells and the false regions),
        ``cells_found`` (share of true cells overlapped by a region) and ``false_regions``.

    Examples
    --------
    One cell found with an error of 1 atom %, one missed (the cap, 5), one false region (5):

    >>> true = np.array([[1, 1, 0, 2, 2, 0, 0]])
    >>> submitted = np.array([[0, 4, 4, 0, 0, 0, 9]])
    >>> scores = cell_scores(submitted, {4: 6.0, 9: 1.1}, true, [5.0, 8.0])
    >>> scores["cell_error"], scores["cells_found"], scores["false_regions"]
    (3.6666666666666665, 0.5, 1)
    """
    cells, true_cells = np.asarray(cells).ravel(), np.asarray(true_cells).ravel()
    true_atom_percent = np.asarray(true_atom_percent, dtype=float)
    n_true = true_atom_percent.size
    both = (cells > 0) & (true_cells > 0)
    pairs, overlap = np.unique(np.stack([true_cells[both], cells[both]]), axis=1, return_counts=True)
    errors = np.full(n_true, cap)
    found = np.zeros(n_true, dtype=bool)
    for cell in range(1, n_true + 1):
        mine = pairs[0] == cell
        if not mine.any():
            continue
        region = int(pairs[1, mine][np.argmax(overlap[mine])])
        value = reported.get(region, np.nan)
        found[cell - 1] = True
        if np.isfinite(value):
            errors[cell - 1] = min(abs(value - true_atom_percent[cell - 1]), cap)
    n_false = np.setdiff1d(np.unique(cells[cells > 0]), pairs[1]).size
    n_entries = n_true + n_false
    return {
        "cell_error": float((errors.sum() + cap * n_false) / n_entries) if n_entries else 0.0,
        "cells_found": float(found.mean()) if n_true else 1.0,
        "false_regions": int(n_false),
    }


def k_error(labels, truth) -> int:
    """Distance between the number of clusters in ``labels`` and the number of phases in ``truth``.

    Examples
    --------
    >>> k_error([0, 1, 1, 4], [0, 0, 1, 1])
    1
    """
    return abs(int(np.unique(np.asarray(labels)).size) - int(np.unique(np.asarray(truth)).size))


def image_scores(labels: np.ndarray, cells: np.ndarray, reported: dict, truth: ImageTruth) -> dict:
    """Every track's scores of one submission for one image, with ``n_clusters``."""
    return {
        **phase_map_scores(labels, truth.truth, truth.phase_names, truth.scored),
        **cell_scores(cells, reported, truth.cells, truth.cell_atom_percent),
        "k_error": k_error(labels, truth.truth),
        "n_clusters": int(np.unique(labels).size),
    }

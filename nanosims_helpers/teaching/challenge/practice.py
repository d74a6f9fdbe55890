"""What a participant calls: the practice image and its scores, the held-out image, the final score.

* The **practice image** (:func:`challenge_image`, with its public truth in
  :func:`practice_sample`): cluster it as often as you like and score each attempt with
  :func:`score_submission`; :func:`results_table` collects the attempts.
* The **held-out images** come from the instructor as files (``image_a.tif``, ...), made with a
  secret by ``nanosims-challenge prepare``; nobody but the instructor can score them. A team
  saves its map of each with :func:`~nanosims_helpers.teaching.challenge.submissions.save_submission`.

Self-study with a shared secret
-------------------------------
Without an instructor, the held-out images can be made on your own machine from a secret in the
environment variable ``NANOSIMS_CHALLENGE_SECRET`` (or a file named by
``NANOSIMS_CHALLENGE_SECRET_FILE``): :func:`final_image` then simulates them and
:func:`final_score` scores a submission. Whoever holds the secret can rebuild the truth (it is one
call away), so this mode is for practising alone; at an event the secret stays with the instructor
and the images are handed out as files.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ...errors import NanoSIMSError
from ...image import NanoSIMSImage
from .design import HELD_OUT, PRACTICE, ChallengeImage, challenge_sample, read_secret_file
from .scores import RANKING_SCORE, image_scores
from .submissions import check_cells, check_map, read_submission
from .truths import image_truth, match_submission, read_truth_folder

__all__ = [
    "SCORE_COLUMNS", "SECRET_FILE_VARIABLE", "SECRET_VARIABLE", "challenge_image", "challenge_status",
    "final_image", "final_score", "practice_sample", "results_table", "score_submission",
]

#: Environment variables of the self-study mode: the secret itself, or the path of a file holding it.
SECRET_VARIABLE = "NANOSIMS_CHALLENGE_SECRET"
SECRET_FILE_VARIABLE = "NANOSIMS_CHALLENGE_SECRET_FILE"
#: The scores :func:`score_submission` returns, first the ranking score of each track.
SCORE_COLUMNS = ("mean_f1", "adjusted_rand", "cell_error", "cells_found", "false_regions", "k_error", "n_clusters")
_KIT_ROOT = Path(__file__).resolve().parents[3]
_LOAD_THE_FILE = (
    "at the event, load the file your instructor handed out: image = load_image('challenge/image_a.tif', "
    "keep_planes=True) (image_b.tif, image_c.tif likewise)"
)


def _secret() -> str | None:
    """The self-study secret from the environment, or None; read at every call."""
    text, file_name = os.environ.get(SECRET_VARIABLE, "").strip(), os.environ.get(SECRET_FILE_VARIABLE, "").strip()
    if text and file_name:
        raise NanoSIMSError(f"Both {SECRET_VARIABLE} and {SECRET_FILE_VARIABLE} are set; unset one of them, so that "
                            "it is clear which secret makes the challenge images.")
    if text or not file_name:
        return text or None
    path = Path(file_name).expanduser().resolve()
    if path.is_relative_to(_KIT_ROOT):
        raise NanoSIMSError(f"{SECRET_FILE_VARIABLE}={file_name}: the secret file is inside the kit's folder "
                            f"{_KIT_ROOT}, where it could be committed or read by everyone; move it outside "
                            "(e.g. to your home folder).")
    return read_secret_file(path, SECRET_FILE_VARIABLE)


def challenge_status() -> str:
    """Say which images this machine can make: the practice image only, or the held-out ones too.

    Never shows the secret.

    Examples
    --------
    >>> challenge_status().startswith(("Sealed", "Self-study"))
    True
    """
    if _secret() is None:
        return ("Sealed: the practice image and its truth are public; the held-out images come from your "
                "instructor as files, and only the instructor can score them.")
    return (f"Self-study: a secret is set ({SECRET_VARIABLE} or {SECRET_FILE_VARIABLE}), so final_image() makes the "
            "held-out images on this machine and final_score() scores them; anyone with the secret can read "
            "their truth, so use this mode only to practise alone.")


@lru_cache(maxsize=1)
def _practice() -> ChallengeImage:
    return challenge_sample(PRACTICE)


def practice_sample() -> ChallengeImage:
    """Return the practice image with its public truth: ``.sample.image``, ``.sample.truth``, ``.sample.cells``.

    The same every time (public settings, public seed); do not change its arrays, copy them.
    """
    return _practice()


def _copy(image: NanoSIMSImage) -> NanoSIMSImage:
    return NanoSIMSImage.from_planes(image.planes.copy(), image.masses, image.path, image.pixel_size_um)


def challenge_image() -> NanoSIMSImage:
    """Return the practice image (256 x 256 pixels, the seven soil masses, its planes kept).

    Returns
    -------
    NanoSIMSImage
        A fresh copy each call, so changing it cannot change the next one.

    Examples
    --------
    >>> image = challenge_image()
    >>> image.shape, image.name
    ((256, 256, 7), 'practice.tif')
    """
    return _copy(_practice().sample.image)


def score_submission(labels, cells=None, cell_atom_percent=None) -> dict:
    """Score a phase map (and, if given, labelled cells) of the practice image against its truth.

    Only the practice image: the held-out images are scored by the instructor alone.

    Parameters
    ----------
    labels : array_like of int, shape (256, 256)
        One cluster number per pixel of ``challenge_image()`` (any whole numbers).
    cells : array_like of int, shape (256, 256), optional
        Labelled-cell regions 1..m, 0 elsewhere (e.g. ``find_cells(image, labels)``).
    cell_atom_percent : dict of int to float, optional
        Your 13C atom % of each region; by default computed from the counts.

    Returns
    -------
    dict
        The three tracks: ``mean_f1`` (phase map: each phase's best-matching cluster's F1,
        averaged, so a small phase weighs as much as a large one) with ``adjusted_rand`` (its
        tie-break) and ``f1 <phase>``; ``cell_error`` (13C atom %, lower is better, capped per
        cell; every cell counts as missed without ``cells``), ``cells_found``, ``false_regions``;
        ``k_error`` (distance of your number of clusters to the true number of phases) and
        ``n_clusters``.

    Raises
    ------
    NanoSIMSError
        If the labels or cells are not a (256, 256) map of whole numbers.

    Examples
    --------
    >>> import numpy as np
    >>> scores = score_submission(np.zeros((256, 256), dtype=int))
    >>> scores["adjusted_rand"], scores["n_clusters"], scores["cells_found"]
    (0.0, 1, 0.0)
    """
    practice = _practice()
    image = practice.sample.image
    labels = check_map(labels, image.shape[:2], "labels (the phase map of challenge_image())")
    cells, reported = check_cells(cells, cell_atom_percent, image)
    return image_scores(labels, cells, reported, image_truth(practice))


def results_table(rows=()) -> pd.DataFrame:
    """Return your attempts as a table, best first (by :data:`RANKING_SCORE`, then adjusted Rand).

    Parameters
    ----------
    rows : iterable of dict
        One dict per attempt: your own columns (method, preprocessing, notes, ...) together
        with the output of :func:`score_submission`.

    Returns
    -------
    pandas.DataFrame
        Your columns first, then the score columns (the phase-map F1 of each phase last);
        empty with the score columns when ``rows`` is empty.

    Examples
    --------
    >>> table = results_table([{"method": "all one cluster", "mean_f1": 0.3, "adjusted_rand": 0.0}])
    >>> list(table.columns[:3]), len(table)
    (['method', 'mean_f1', 'adjusted_rand'], 1)
    """
    table = pd.DataFrame(list(rows))
    scores = [column for column in SCORE_COLUMNS if column in table.columns] or list(SCORE_COLUMNS)
    phases = [column for column in table.columns if column.startswith("f1 ")]
    own = [column for column in table.columns if column not in scores and column not in phases]
    table = table.reindex(columns=own + scores + phases)
    order = [column for column in (RANKING_SCORE, "adjusted_rand") if column in table.columns]
    if order and len(table):
        table = table.sort_values(order, ascending=False, ignore_index=True)
    return table


def final_image(name: str = HELD_OUT[0]) -> NanoSIMSImage:
    """Return held-out image ``name`` in the self-study mode (a secret set on this machine).

    Parameters
    ----------
    name : str
        One of "image_a", "image_b", "image_c".

    Raises
    ------
    NanoSIMSError
        If no secret is set (the sealed mode): the message names the file to load instead.
    """
    if name not in HELD_OUT:
        raise NanoSIMSError(f"name={name!r}: the held-out images are {list(HELD_OUT)}.")
    secret = _secret()
    if secret is None:
        raise NanoSIMSError(f"final_image({name!r}): the held-out images are not made on this machine; "
                            f"{_LOAD_THE_FILE.replace('image_a', name)}. (For self-study alone, set "
                            f"{SECRET_VARIABLE}; see the challenge's documentation.)")
    return _copy(challenge_sample(name, secret).sample.image)


def final_score(path, truth=None) -> dict:
    """Score a submission file against the truth of the image it was made for.

    Parameters
    ----------
    path : str or pathlib.Path
        A file written by ``save_submission``.
    truth : str or pathlib.Path, optional
        The instructor's folder written by ``nanosims-challenge prepare`` (the phase map is then
        scored on the private part of the pixels). Without it: the practice image, and in the
        self-study mode the held-out images made from the secret.

    Returns
    -------
    dict
        The scores of :func:`score_submission`, with ``image``, the image's name.

    Raises
    ------
    NanoSIMSError
        If the file is not a submission, or was made for an image that is not among those
        known (the message names both).
    """
    submission = read_submission(path)
    truths = {PRACTICE: image_truth(_practice())}
    others = {}
    if truth is not None:
        folder = read_truth_folder(truth)
        truths, others = folder.images, folder.others
    elif _secret() is not None:
        truths.update({name: image_truth(challenge_sample(name, _secret())) for name in HELD_OUT})
    matched = match_submission(submission, truths, others)
    return {"image": matched.name, **image_scores(submission.labels, submission.cells,
                                                  submission.cell_atom_percent, matched)}


"""The hackathon challenge: two simulated images whose true phases are known to the scorer only.

* The **practice image**, ``challenge_image()``: cluster it as often as you like and score each
  attempt with ``score_submission(labels)``; ``results_table`` collects the attempts.
* The **held-out image**, ``final_image()``: made with the same settings from another seed. A
  team clusters it once, with the method it chose on the practice image, and saves the label map
  with ``save_submission``. Only ``final_score(path)`` (the instructor's call) scores it, and
  ``final_ranking(paths)`` ranks the teams. ``score_submission`` never sees its truth, so tuning
  a map against the practice score does not carry over.

Teams are ranked by :data:`RANKING_SCORE`, the mean over the phases of the best-matching
cluster's F1 (see :func:`score_submission`); the adjusted Rand index breaks ties.

The secret
----------
Both images come from the simulator with seeds derived from a secret that the instructor sets in
the environment variable ``NANOSIMS_CHALLENGE_SECRET`` (the secret itself) or
``NANOSIMS_CHALLENGE_SECRET_FILE`` (the path of a text file outside the kit's folder that holds
it). The seed is a SHA-256 hash of the secret and the image's name, so the truth cannot be
rebuilt from the public code without the secret, and another secret gives other images. With
neither variable set, fixed public seeds give the *practice truth*: fine for learning, open to
anyone who reads this file. :func:`challenge_status` says which is in use.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from .errors import NanoSIMSError
from .io.files import replacing
from .io.image import NanoSIMSImage
from .metrics import adjusted_rand, f1_matrix
from .synthetic import PHASES, simulate_soil_image
from .validation import check_labels

CHALLENGE_SHAPE = (384, 384)
_SETTINGS = dict(n_planes=3, count_scale=0.4, n_hotspots=40, enrichment=0.03)
#: Environment variables the instructor sets: the secret itself, or the path of a file holding it.
SECRET_VARIABLE = "NANOSIMS_CHALLENGE_SECRET"
SECRET_FILE_VARIABLE = "NANOSIMS_CHALLENGE_SECRET_FILE"
#: The images of the challenge, and their public seeds when no secret is set (practice truth).
IMAGES = ("practice", "held-out")
_PUBLIC_SEEDS = {"practice": 20240308, "held-out": 20240309}
#: The score that ranks the teams (higher is better); ``adjusted_rand`` breaks ties.
RANKING_SCORE = "mean_f1"
SCORE_COLUMNS = ("mean_f1", "adjusted_rand", *(f"f1 {phase}" for phase in PHASES), "n_clusters")
_KIT_ROOT = Path(__file__).resolve().parents[1]
_SUBMISSION_KIND = "nanosims-challenge submission"


# --- the secret and the images -------------------------------------------------------------------


def _secret() -> tuple[str | None, str]:
    """Return (secret or None, where it came from), read from the environment at every call."""
    text, file_name = os.environ.get(SECRET_VARIABLE, "").strip(), os.environ.get(SECRET_FILE_VARIABLE, "").strip()
    if text and file_name:
        raise NanoSIMSError(
            f"Both {SECRET_VARIABLE} and {SECRET_FILE_VARIABLE} are set; unset one of them, so that "
            "it is clear which secret makes the challenge images."
        )
    if text:
        return text, SECRET_VARIABLE
    if not file_name:
        return None, "no secret"
    path = Path(file_name).expanduser().resolve()
    if not path.is_file():
        raise NanoSIMSError(f"{SECRET_FILE_VARIABLE}={file_name}: no such file; give the path of the secret file.")
    if path.is_relative_to(_KIT_ROOT):
        raise NanoSIMSError(
            f"{SECRET_FILE_VARIABLE}={file_name}: the secret file is inside the kit's folder {_KIT_ROOT}, "
            "where it could be committed or read by everyone; move it outside (e.g. to your home folder)."
        )
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise NanoSIMSError(f"{SECRET_FILE_VARIABLE}={file_name}: the file is empty; write the secret into it.")
    return secret, f"the file named by {SECRET_FILE_VARIABLE}"


def _seed(image: str) -> int:
    """The simulator's seed of ``image`` (one of IMAGES): public without a secret, else a hash of it."""
    secret, _ = _secret()
    if secret is None:
        return _PUBLIC_SEEDS[image]
    digest = hashlib.sha256(f"nanosims-challenge/{image}/{secret}".encode("utf-8")).digest()
    return int.from_bytes(digest[:16], "big")


@lru_cache(maxsize=4)
def _simulate_seed(seed: int) -> tuple[NanoSIMSImage, np.ndarray]:
    return simulate_soil_image(CHALLENGE_SHAPE, **_SETTINGS, random_state=seed)


def _simulate(image: str = "practice") -> tuple[NanoSIMSImage, np.ndarray]:
    return _simulate_seed(_seed(image))


def challenge_status() -> str:
    """Say whether the challenge uses the instructor's secret or the public practice truth.

    Never shows the secret.

    Examples
    --------
    >>> challenge_status().startswith(("Practice truth", "Secret truth"))
    True
    """
    secret, source = _secret()
    if secret is None:
        return (
            f"Practice truth: {SECRET_VARIABLE} is not set, so both challenge images come from the public "
            "seeds in nanosims_helpers/challenge.py. Scores are for practice; at the event the instructor "
            "sets the secret and the images change."
        )
    return f"Secret truth: the challenge images are made from the instructor's secret (from {source})."


def _copy(image: NanoSIMSImage) -> NanoSIMSImage:
    return NanoSIMSImage(image.counts.copy(), image.masses, pixel_size_um=image.pixel_size_um)


def challenge_image() -> NanoSIMSImage:
    """Return the practice image (384 x 384 pixels, the seven soil masses, low counts).

    Returns
    -------
    NanoSIMSImage
        A fresh copy each call, so changing it cannot change the next one.

    Raises
    ------
    NanoSIMSError
        If the secret is set badly (see :func:`challenge_status`).

    Examples
    --------
    >>> image = challenge_image()
    >>> image.shape
    (384, 384, 7)
    """
    return _copy(_simulate("practice")[0])


def final_image() -> NanoSIMSImage:
    """Return the held-out image: the practice image's settings, another seed, no score but the final one.

    Cluster it once, with the method you chose on :func:`challenge_image`, and save the labels
    with :func:`save_submission`.

    Returns
    -------
    NanoSIMSImage
        A fresh copy each call, of the same shape as :func:`challenge_image`.

    Examples
    --------
    >>> final_image().shape
    (384, 384, 7)
    """
    return _copy(_simulate("held-out")[0])


# --- scores --------------------------------------------------------------------------------------


def best_match_f1(labels, truth, n_phases: int = len(PHASES)) -> np.ndarray:
    """Return, for each phase of ``truth``, the F1 score of the cluster that matches it best.

    F1 of phase p and cluster c is ``2 |p and c| / (|p| + |c|)``: 1 when the cluster is exactly
    the phase. Phases absent from ``truth`` get NaN. One cluster may be the best match of
    several phases; the adjusted Rand index penalises that, F1 alone does not.

    Parameters
    ----------
    labels, truth : array_like of int
        Cluster labels and true phase indices (into ``PHASES``), one per pixel.
    n_phases : int
        Number of phases, above the largest index in ``truth``: ``len(PHASES)`` by default,
        ``len(REALISTIC_PHASES)`` (6) for the realistic samples.

    Returns
    -------
    ndarray of float, shape (n_phases,)

    Examples
    --------
    >>> best_match_f1([0, 0, 1, 1], [2, 2, 3, 3])[2:4]
    array([1., 1.])
    >>> round(float(best_match_f1([0, 0, 0, 1], [0, 0, 5, 5], n_phases=6)[5]), 3)
    0.667
    """
    truth = np.asarray(truth).ravel()
    if truth.max() >= n_phases:
        raise NanoSIMSError(f"truth: phase index {truth.max()} for {n_phases} phases; pass n_phases.")
    _, clusters = np.unique(np.asarray(labels).ravel(), return_inverse=True)
    n_clusters = clusters.max() + 1
    f1 = f1_matrix(truth, n_phases, clusters, n_clusters)
    present = np.bincount(truth, minlength=n_phases) > 0
    return np.where(present, f1.max(axis=1), np.nan)


def _scores(flat: np.ndarray, truth: np.ndarray) -> dict:
    f1 = best_match_f1(flat, truth)
    scores = {"mean_f1": float(np.nanmean(f1)), "adjusted_rand": adjusted_rand(flat, truth.ravel())}
    scores.update({f"f1 {phase}": float(value) for phase, value in zip(PHASES, f1)})
    scores["n_clusters"] = int(np.unique(flat).size)
    return scores


def score_submission(labels) -> dict:
    """Score a label map of the practice image, ``challenge_image()``, against its hidden phases.

    Only the practice image: the held-out image is scored by :func:`final_score` alone.

    Parameters
    ----------
    labels : array_like of int, shape (384, 384) or (147456,)
        One cluster label per pixel; any integers (they need not be 0..k-1).

    Returns
    -------
    dict
        "mean_f1" (the ranking score: for each of the five phases, the F1 of the cluster that
        matches it best, averaged, so the small labelled hotspots weigh as much as a large
        phase), "adjusted_rand" (1 = the phases exactly, about 0 = no better than chance, can
        be negative), "f1 <phase>" per phase, and "n_clusters".

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
    _, truth = _simulate("practice")
    flat = check_labels(labels, truth.size, name="labels (one per pixel of challenge_image())")
    return _scores(flat, truth)


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
        Your columns first, then the score columns; empty with the score columns when
        ``rows`` is empty.

    Examples
    --------
    >>> table = results_table([{"method": "all one cluster", "mean_f1": 0.3, "adjusted_rand": 0.0}])
    >>> list(table.columns[:3]), len(table)
    (['method', 'mean_f1', 'adjusted_rand'], 1)
    """
    table = pd.DataFrame(list(rows))
    scores = [column for column in SCORE_COLUMNS if column in table.columns] or list(SCORE_COLUMNS)
    own = [column for column in table.columns if column not in SCORE_COLUMNS]
    table = table.reindex(columns=own + scores)
    order = [column for column in (RANKING_SCORE, "adjusted_rand") if column in table.columns]
    if order and len(table):
        table = table.sort_values(order, ascending=False, ignore_index=True)
    return table


# --- submissions and the final score -------------------------------------------------------------


def save_submission(labels, path, *, team: str, justification: str) -> Path:
    """Write a team's label map of :func:`final_image` as a TIFF that carries the team and its reasons.

    The labels are renumbered 0..k-1 and stored as 8-bit (16-bit above 256 clusters) integers;
    the TIFF description holds the team name and the justification as JSON, so the file opens
    in Fiji and :func:`read_submission` gives both back. The file is written under a temporary
    name and then renamed, so a scorer never reads half a file. Missing folders are created.

    Parameters
    ----------
    labels : array_like of int, shape (384, 384) or (147456,)
        One cluster label per pixel of the held-out image.
    path : str or pathlib.Path
        The file to write, ending in ``.tif``; an existing file is replaced.
    team : str
        The team's name, as it should appear in the ranking.
    justification : str
        A few sentences: which method and settings, and why you trust them.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    NanoSIMSError
        If the labels do not fit the held-out image, there are more than 65536 clusters, the
        name does not end in ``.tif`` or ``team`` or ``justification`` is empty.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_submission(np.zeros((384, 384), int), Path(folder) / "team.tif",
    ...                            team="demo", justification="one cluster, as a test")
    ...     read_submission(path)[1]["team"]
    'demo'
    """
    path = Path(path)
    if path.suffix.lower() not in (".tif", ".tiff"):
        raise NanoSIMSError(f"{path.name}: a submission is a TIFF file; end the name in .tif.")
    for name, text in (("team", team), ("justification", justification)):
        if not isinstance(text, str) or not text.strip():
            raise NanoSIMSError(f"{name}: give a non-empty text, got {text!r}.")
    flat = check_labels(labels, int(np.prod(CHALLENGE_SHAPE)), name="labels (one per pixel of final_image())")
    _, renumbered = np.unique(flat, return_inverse=True)
    if renumbered.max() >= 2**16:
        raise NanoSIMSError(f"labels: {renumbered.max() + 1} clusters; a submission holds at most 65536.")
    dtype = np.uint8 if renumbered.max() < 2**8 else np.uint16
    description = json.dumps({"shape": list(CHALLENGE_SHAPE), "kind": _SUBMISSION_KIND, "team": team.strip(),
                              "justification": justification.strip()})
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as partial:
        tifffile.imwrite(partial, renumbered.reshape(CHALLENGE_SHAPE).astype(dtype), description=description,
                         metadata=None)
    return path


def read_submission(path) -> tuple[np.ndarray, dict]:
    """Read a file written by :func:`save_submission`: the label map and {"team", "justification"}.

    Raises
    ------
    NanoSIMSError
        If the file is missing, is not a TIFF, or was not written by :func:`save_submission`.
    """
    path = Path(path)
    if not path.is_file():
        raise NanoSIMSError(f"{path}: no such submission file; check the name and the folder.")
    try:
        with tifffile.TiffFile(path) as tif:
            description = tif.pages[0].description
            labels = tif.pages[0].asarray()
        info = json.loads(description)
    except (tifffile.TiffFileError, ValueError, TypeError, IndexError) as exc:
        raise NanoSIMSError(
            f"{path.name}: not a challenge submission ({type(exc).__name__}: {exc}). Write it with "
            "save_submission(labels, path, team=..., justification=...)."
        ) from exc
    if not isinstance(info, dict) or info.get("kind") != _SUBMISSION_KIND:
        raise NanoSIMSError(
            f"{path.name}: this TIFF was not written by save_submission; write the label map with "
            "save_submission(labels, path, team=..., justification=...)."
        )
    return labels.astype(np.intp), {key: info.get(key, "") for key in ("team", "justification")}


def final_score(path) -> dict:
    """Score a submission file of the held-out image: the instructor's call, once per team.

    Parameters
    ----------
    path : str or pathlib.Path
        A file written by :func:`save_submission`.

    Returns
    -------
    dict
        The scores of :func:`score_submission`, against the held-out image's truth.

    Raises
    ------
    NanoSIMSError
        If the file is not a submission or does not hold one label per pixel of the image.
    """
    labels, _ = read_submission(path)
    _, truth = _simulate("held-out")
    return _scores(check_labels(labels, truth.size, name=f"{Path(path).name} (one label per pixel)"), truth)


def final_ranking(paths) -> pd.DataFrame:
    """Rank the teams: one row per submission file, best :data:`RANKING_SCORE` first.

    Parameters
    ----------
    paths : iterable of str or pathlib.Path
        Submission files, e.g. ``sorted(Path("submissions").glob("*.tif"))``.

    Returns
    -------
    pandas.DataFrame
        Columns ``rank``, ``team``, ``file``, ``justification``, then the score columns.

    Raises
    ------
    NanoSIMSError
        If ``paths`` is empty or a file is not a valid submission (the message names it).
    """
    rows = []
    for path in paths:
        _, info = read_submission(path)
        rows.append({"team": info["team"], "file": Path(path).name, "justification": info["justification"],
                     **final_score(path)})
    if not rows:
        raise NanoSIMSError("paths: no submission files given; collect the teams' .tif files first.")
    table = results_table(rows)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table

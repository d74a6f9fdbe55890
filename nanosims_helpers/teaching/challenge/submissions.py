"""A team's submission for one challenge image: one TIFF file with the phase map and the cells.

The file (written by :func:`save_submission`) has two pages: the phase map (one cluster number
per pixel) and the labelled-cell regions (region 1..m of every pixel, 0 outside); its description
holds, as JSON, the team, the justification, the reported 13C atom % of each region, and the
name and content hash (:func:`~nanosims_helpers.teaching.challenge.design.image_hash`) of the image the
team clustered. The scorer matches a submission to an image by that hash, so a map of another
image (the practice image, last year's) is refused instead of being scored low.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import tifffile

from ...errors import NanoSIMSError
from ...image import NanoSIMSImage
from ...io.files import replacing
from ...isotopes import isotope_table
from ...regions import cluster_regions, region_table
from .design import image_hash

__all__ = ["SUBMISSION_KIND", "Submission", "cell_atom_percent", "find_cells", "read_submission",
           "save_submission"]

#: The ``kind`` recorded in every submission file.
SUBMISSION_KIND = "nanosims-challenge submission"
_SAVE_HINT = "write it with save_submission(labels, path, image=image, team=..., justification=...)"


@dataclass(frozen=True)
class Submission:
    """What a submission file holds.

    Attributes
    ----------
    path : pathlib.Path
    team, justification : str
    image_name, image_hash : str
        The file name and content hash of the image the team clustered.
    labels : ndarray of int, shape (y, x)
        The phase map, clusters numbered 0..k-1.
    cells : ndarray of int, shape (y, x)
        Labelled-cell regions 1..m, 0 outside (all 0 when the team reported none).
    cell_atom_percent : dict of int to float
        Reported 13C atom % of each region.
    saved_utc : str
        When the file was written (ISO 8601, UTC), as the team's clock had it.
    """

    path: Path
    team: str
    justification: str
    image_name: str
    image_hash: str
    labels: np.ndarray
    cells: np.ndarray
    cell_atom_percent: dict
    saved_utc: str


def check_map(values, shape, name: str) -> np.ndarray:
    """A (y, x) map of whole numbers of exactly ``shape``: no reshaping, no floats, no NaN."""
    values = np.asarray(values)
    if values.shape != tuple(shape):
        raise NanoSIMSError(
            f"{name}: shape {values.shape}, but the image is {shape[0]} x {shape[1]} pixels; give the (y, x) map "
            "of the image you clustered (cluster_image(image, k).labels), not a reshaped or flattened one."
        )
    if values.dtype == bool or not np.issubdtype(values.dtype, np.number):
        raise NanoSIMSError(f"{name}: {values.dtype} values; give whole numbers, one per pixel.")
    if not np.issubdtype(values.dtype, np.integer):
        if not np.all(np.isfinite(values)):
            raise NanoSIMSError(f"{name}: holds NaN or infinite values; every pixel needs a whole number "
                                "(fill the gaps, e.g. with the nearest cluster, before saving).")
        raise NanoSIMSError(f"{name}: {values.dtype} values; give integers (labels.astype(int) once they are "
                            "whole numbers).")
    return values


def cell_atom_percent(image: NanoSIMSImage, cells) -> dict:
    """The 13C atom % of every cell region, from the counts (ratio of summed 13C and 12C counts).

    Uses :func:`~nanosims_helpers.regions.region_table`; regions need two pixels or more.

    Parameters
    ----------
    image : NanoSIMSImage
        The image the regions belong to, with 12C and 13C.
    cells : array_like of int, shape (y, x)
        Region 1..m of every pixel, 0 outside.

    Returns
    -------
    dict of int to float
    """
    cells = np.asarray(cells)
    if not cells.any():
        return {}
    table = region_table(image, cells, "13C/12C")
    return {int(region): float(value) for region, value in zip(table["region"], table["atom_percent"])}


def find_cells(image: NanoSIMSImage, labels, cluster: int | None = None, min_region_pixels: int = 5) -> np.ndarray:
    """Cut the cluster richest in 13C (or ``cluster``) into connected regions: a first map of labelled cells.

    The cluster with the highest 13C/12C of summed counts (:func:`~nanosims_helpers.isotopes.isotope_table`)
    is taken to be the labelled cells, and cut into connected regions of at least
    ``min_region_pixels`` pixels (:func:`~nanosims_helpers.regions.cluster_regions`).

    Parameters
    ----------
    image : NanoSIMSImage
        The image the labels belong to, with 12C and 13C.
    labels : array_like of int, shape (y, x)
        A phase map.
    cluster : int, optional
        The label value of the cells in ``labels``; by default the cluster richest in 13C.
    min_region_pixels : int
        Smallest region kept.

    Returns
    -------
    ndarray of int, shape (y, x)
        Region 1..m of every pixel, 0 outside (all 0 if ``cluster`` is not in the map).

    Examples
    --------
    >>> counts = np.zeros((6, 6, 2))
    >>> counts[..., 0], counts[..., 1] = 100.0, 1.0
    >>> counts[1:3, 1:4, 1] = 10.0                       # a 13C-rich patch
    >>> labels = np.zeros((6, 6), int)
    >>> labels[1:3, 1:4] = 7
    >>> cells = find_cells(NanoSIMSImage(counts, ("12C", "13C")), labels)
    >>> int(cells.max()), int((cells > 0).sum())
    (1, 6)
    """
    labels = np.asarray(labels)
    values, codes = np.unique(labels, return_inverse=True)
    codes = codes.reshape(labels.shape)
    if cluster is None:
        table = isotope_table(image, codes, "13C/12C")
        code = int(table["cluster"][np.nanargmax(table["ratio_of_sums"].to_numpy())])
    elif cluster in values:
        code = int(np.searchsorted(values, cluster))
    else:
        return np.zeros(labels.shape, dtype=np.intp)
    return cluster_regions(codes, code, min_region_pixels=min_region_pixels)


def check_cells(cells, reported, image: NanoSIMSImage) -> tuple[np.ndarray, dict]:
    """Cell regions of ``image`` (all 0 if None) and their 13C atom % (computed from the counts if None), checked."""
    if cells is None:
        if reported:
            raise NanoSIMSError("cell_atom_percent: given without cells; pass the region map as cells=... too.")
        return np.zeros(image.shape[:2], dtype=np.uint16), {}
    cells = check_map(cells, image.shape[:2], "cells")
    if cells.min() < 0 or cells.max() >= 2**16:
        raise NanoSIMSError("cells: give region numbers 1..65535 for the cells and 0 elsewhere "
                            "(e.g. find_cells(image, labels) or cluster_regions(labels, cluster)).")
    if reported is None:
        reported = cell_atom_percent(image, cells)
    regions = set(np.unique(cells[cells > 0]).tolist())
    try:
        reported = {int(region): float(value) for region, value in dict(reported).items()}
    except (TypeError, ValueError):
        raise NanoSIMSError("cell_atom_percent: give a dict {region number: 13C atom %}.") from None
    if set(reported) != regions or not all(0 <= v <= 100 for v in reported.values()):
        raise NanoSIMSError(
            f"cell_atom_percent: give one 13C atom % from 0 to 100 for each region of cells ({len(regions)} "
            f"regions, {len(reported)} values); or leave it out to have it computed from the counts."
        )
    return cells.astype(np.uint16), reported


def save_submission(labels, path, *, image: NanoSIMSImage, team: str, justification: str, cells=None,
                    cell_atom_percent=None) -> Path:
    """Write a team's submission for ``image``: its phase map, its cells and the reasons, as one TIFF.

    The labels are renumbered 0..k-1 and stored as 8-bit (16-bit above 256 clusters) integers,
    the cells as 16-bit region numbers; the description holds the team, the justification, the
    reported atom % and the image's name and content hash as JSON, so the file opens in Fiji and
    :func:`read_submission` gives everything back. The file is written under a temporary name and
    then renamed, so a scorer never reads half a file. Missing folders are created.

    Parameters
    ----------
    labels : array_like of int, shape (y, x)
        One cluster number per pixel of ``image`` (any whole numbers).
    path : str or pathlib.Path
        The file to write, ending in ``.tif``; an existing file is replaced.
    image : NanoSIMSImage
        The image the labels belong to, as loaded from the file handed out (or
        ``challenge_image()`` for the practice image): its content hash goes into the file.
    team : str
        The team's name, as it should appear on the leaderboard.
    justification : str
        A few sentences: which method and settings, and why you trust them.
    cells : array_like of int, shape (y, x), optional
        For the labelled-cells track: region 1..m of every pixel you call a labelled cell, 0
        elsewhere (e.g. :func:`find_cells`).
    cell_atom_percent : dict of int to float, optional
        Your 13C atom % of each region; by default computed from the counts
        (:func:`cell_atom_percent`).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    NanoSIMSError
        If ``path`` is a folder or does not end in ``.tif``; the labels or cells are not a (y, x)
        map of whole numbers of the image's shape (floats, NaN, a flattened or reshaped map);
        there are more than 65536 clusters; ``team`` or ``justification`` is empty.

    Examples
    --------
    >>> import tempfile
    >>> image = NanoSIMSImage(np.ones((4, 4, 2)), ("12C", "13C"))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_submission(np.zeros((4, 4), int), Path(folder) / "team.tif", image=image,
    ...                            team="demo", justification="one cluster, as a test")
    ...     read_submission(path).team
    'demo'
    """
    path = Path(path)
    if path.is_dir():
        raise NanoSIMSError(f"{path}: is a folder; give a file name in it, e.g. {path / 'TEAM_image_a.tif'}.")
    if path.suffix.lower() not in (".tif", ".tiff"):
        raise NanoSIMSError(f"{path.name}: a submission is a TIFF file; end the name in .tif.")
    if not isinstance(image, NanoSIMSImage):
        raise NanoSIMSError(f"image: expected the NanoSIMSImage you clustered, got {type(image).__name__}; "
                            "load it with load_image(path) and pass it as image=...")
    for name, text in (("team", team), ("justification", justification)):
        if not isinstance(text, str) or not text.strip():
            raise NanoSIMSError(f"{name}: give a non-empty text, got {text!r}.")
    labels = check_map(labels, image.shape[:2], "labels")
    cells, reported = check_cells(cells, cell_atom_percent, image)
    _, renumbered = np.unique(labels, return_inverse=True)
    if renumbered.max() >= 2**16:
        raise NanoSIMSError(f"labels: {renumbered.max() + 1} clusters; a submission holds at most 65536.")
    dtype = np.uint8 if renumbered.max() < 2**8 else np.uint16
    description = json.dumps({
        "kind": SUBMISSION_KIND, "team": team.strip(), "justification": justification.strip(),
        "image": image.name, "image_hash": image_hash(image), "cell_atom_percent": reported,
        "saved_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as partial:
        with tifffile.TiffWriter(partial) as tif:
            tif.write(renumbered.reshape(labels.shape).astype(dtype), description=description, metadata=None)
            tif.write(cells, metadata=None)
    return path


def read_submission(path) -> Submission:
    """Read a file written by :func:`save_submission`.

    Raises
    ------
    NanoSIMSError
        If the file is missing, is not a TIFF, was not written by :func:`save_submission`, or
        holds labels that are not whole numbers.
    """
    path = Path(path)
    if not path.is_file():
        raise NanoSIMSError(f"{path}: no such submission file; check the name and the folder.")
    try:
        with tifffile.TiffFile(path) as tif:
            description = tif.pages[0].description
            pages = [page.asarray() for page in tif.pages[:2]]
        info = json.loads(description)
    except (tifffile.TiffFileError, ValueError, TypeError, IndexError, OSError) as exc:
        raise NanoSIMSError(f"{path.name}: not a challenge submission ({type(exc).__name__}: {exc}); "
                            f"{_SAVE_HINT}.") from None
    if not isinstance(info, dict) or info.get("kind") != SUBMISSION_KIND or len(pages) != 2:
        raise NanoSIMSError(f"{path.name}: this TIFF was not written by save_submission; {_SAVE_HINT}.")
    labels, cells = pages
    for name, values in (("labels", labels), ("cells", cells)):
        if not np.issubdtype(values.dtype, np.integer) or values.shape != labels.shape:
            raise NanoSIMSError(f"{path.name}: its {name} are {values.dtype} of shape {values.shape}, not whole "
                                f"numbers of one shape; {_SAVE_HINT}.")
    try:
        reported = {int(region): float(value) for region, value in info.get("cell_atom_percent", {}).items()}
    except (TypeError, ValueError, AttributeError):
        raise NanoSIMSError(f"{path.name}: its cell_atom_percent is not a table of numbers; {_SAVE_HINT}.") from None
    text = {key: str(info.get(key, "")) for key in ("team", "justification", "image", "image_hash", "saved_utc")}
    return Submission(path, text["team"], text["justification"], text["image"], text["image_hash"],
                      labels.astype(np.intp), cells.astype(np.intp), reported, text["saved_utc"])

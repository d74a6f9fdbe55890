"""The truth of the challenge images, kept in the instructor's folder, and matching submissions to it.

``nanosims-challenge prepare`` writes the instructor's folder: ``challenge.json`` (each image's
content hash, phases, true 13C atom % of its labelled cells, the settings drawn for it) and, per
image, ``NAME_truth.tif`` with three pages: the true phase map, the labelled cells and the public
part of the pixels. The public part is half of the image in blocks of :data:`BLOCK_PX` pixels,
drawn with the secret; phase maps are scored on the public part only for feedback during the
event, and on the other half (the private part) for the final ranking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import tifffile

from ...errors import NanoSIMSError
from ...io.files import replacing
from .design import ChallengeImage, image_hash
from .scores import ImageTruth, true_cell_atom_percent
from .submissions import Submission

__all__ = ["BLOCK_PX", "TRUTH_FILE", "TRUTH_KIND", "TruthFolder", "image_truth", "match_submission",
           "public_pixels", "read_truth_folder", "write_truth_folder"]

#: Side of the square blocks that make the public and private parts of an image.
BLOCK_PX = 32
#: The instructor folder's index file, and the ``kind`` it records.
TRUTH_FILE = "challenge.json"
TRUTH_KIND = "nanosims-challenge truth"
_VERSION = 1


def public_pixels(shape, *, random_state) -> np.ndarray:
    """The public part of an image: half of its blocks of :data:`BLOCK_PX` pixels, drawn at random.

    Examples
    --------
    >>> public = public_pixels((64, 96), random_state=0)
    >>> public.shape, float(public.mean())
    ((64, 96), 0.5)
    """
    rows, columns = -(-shape[0] // BLOCK_PX), -(-shape[1] // BLOCK_PX)
    blocks = np.zeros(rows * columns, dtype=bool)
    blocks[np.random.default_rng(random_state).permutation(blocks.size)[: blocks.size // 2]] = True
    grid = blocks.reshape(rows, columns).repeat(BLOCK_PX, axis=0).repeat(BLOCK_PX, axis=1)
    return grid[: shape[0], : shape[1]]


def image_truth(challenge: ChallengeImage, scored=None) -> ImageTruth:
    """The scorer's view of a simulated challenge image; ``scored``: the pixels its phase map is scored on."""
    sample = challenge.sample
    scored = np.ones(sample.truth.shape, dtype=bool) if scored is None else np.asarray(scored, dtype=bool)
    return ImageTruth(challenge.name, image_hash(sample.image), sample.truth, tuple(sample.phase_names),
                      sample.cells, true_cell_atom_percent(sample.expected, sample.cells), scored)


@dataclass(frozen=True)
class TruthFolder:
    """The instructor's folder as read back: the truth of every held-out image and their public parts.

    Attributes
    ----------
    folder : pathlib.Path
    images : dict of str to ImageTruth
        Scored on their private part.
    public : dict of str to ndarray of bool
        Each image's public part.
    others : dict of str to str
        Hashes of images that are not scored (the practice image), by name.
    """

    folder: Path
    images: dict
    public: dict
    others: dict

    def public_truths(self) -> dict:
        """The images' truths scored on their public part (feedback during the event)."""
        return {name: replace(truth, scored=self.public[name]) for name, truth in self.images.items()}


def write_truth_folder(folder, held_out: list[ChallengeImage], public: dict, practice_hash: str) -> Path:
    """Write the instructor's folder (see the module notes); return the index file's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    images = {}
    for challenge in held_out:
        truth = image_truth(challenge)
        pages = (truth.truth.astype(np.uint8), truth.cells.astype(np.uint16), public[challenge.name].astype(np.uint8))
        with replacing(folder / f"{challenge.name}_truth.tif") as partial:
            with tifffile.TiffWriter(partial) as tif:
                for page in pages:
                    tif.write(page, metadata=None)
        images[challenge.name] = {
            "hash": truth.image_hash, "shape": list(truth.truth.shape), "phases": list(truth.phase_names),
            "n_phases": truth.n_phases, "cell_atom_percent": [round(float(v), 6) for v in truth.cell_atom_percent],
            "settings": challenge.settings, "random_state": str(challenge.random_state),
        }
    index = {"kind": TRUTH_KIND, "version": _VERSION, "created_utc": datetime.now(timezone.utc).isoformat(
        timespec="seconds"), "images": images, "not_scored": {"practice": practice_hash}}
    with replacing(folder / TRUTH_FILE) as partial:
        partial.write_text(json.dumps(index, indent=2), encoding="utf-8")
    return folder / TRUTH_FILE


def read_truth_folder(folder) -> TruthFolder:
    """Read the instructor's folder written by ``nanosims-challenge prepare``.

    Raises
    ------
    NanoSIMSError
        If the folder or one of its files is missing or damaged (the message names it).
    """
    folder = Path(folder)
    index_path = folder / TRUTH_FILE
    if not index_path.is_file():
        raise NanoSIMSError(f"--truth {folder}: no {TRUTH_FILE} there; give the instructor's folder that "
                            "nanosims-challenge prepare wrote (OUT/instructor).")
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        if index.get("kind") != TRUTH_KIND or not isinstance(index.get("images"), dict):
            raise ValueError("not an index of challenge truths")
        images, public = {}, {}
        for name, record in index["images"].items():
            with tifffile.TiffFile(folder / f"{name}_truth.tif") as tif:
                truth, cells, shown = (page.asarray().astype(np.intp) for page in tif.pages[:3])
            images[name] = ImageTruth(name, record["hash"], truth, tuple(record["phases"]), cells,
                                      np.asarray(record["cell_atom_percent"], dtype=float), shown == 0)
            public[name] = shown == 1
    except (OSError, ValueError, KeyError, TypeError, AttributeError, tifffile.TiffFileError) as exc:
        raise NanoSIMSError(f"--truth {folder}: cannot read the challenge's truth ({type(exc).__name__}: {exc}); "
                            "prepare the challenge again with the same secret.") from None
    return TruthFolder(folder, images, public, dict(index.get("not_scored", {})))


def match_submission(submission: Submission, truths: dict, others: dict | None = None) -> ImageTruth:
    """Return the truth of the image ``submission`` was made for, found by its content hash.

    Raises
    ------
    NanoSIMSError
        If the hash is of no image in ``truths``, naming the image the file was made for and the
        images it could be scored against; or if the labels do not fit that image.
    """
    for truth in truths.values():
        if truth.image_hash == submission.image_hash:
            if submission.labels.shape != truth.truth.shape:
                raise NanoSIMSError(f"{submission.path.name}: a map of {submission.labels.shape} pixels for "
                                    f"{truth.name} of {truth.truth.shape}; save the map of that image.")
            return truth
    known = {hash_: name for name, hash_ in (others or {}).items()}
    made_for = known.get(submission.image_hash, submission.image_name or "an unnamed image")
    wanted = ", ".join(f"{name} ({truth.image_hash[:12]})" for name, truth in truths.items())
    raise NanoSIMSError(
        f"{submission.path.name}: made for {made_for} (image hash {submission.image_hash[:12]}), which is not "
        f"an image scored here: {wanted}. Cluster the image handed out for the challenge, load it with "
        "load_image, and save the submission with image= that image."
    )

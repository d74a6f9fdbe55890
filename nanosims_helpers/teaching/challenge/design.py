"""The challenge's images: which settings make each one, drawn from ranges with the instructor's secret.

Every image of the challenge comes from the realistic simulator
(:func:`~nanosims_helpers.teaching.realistic.simulate_realistic_image`). The *practice image* uses fixed,
public settings and a public seed, so its truth is public. Each *held-out image* has a character
(:data:`RANGES`: many planes and a strong, element-dependent yield gradient; low counts and a rare
phase; two organic phases that differ only in N/C) and ranges for the simulator's knobs; its
settings and seeds are drawn from a SHA-256 hash of the instructor's secret and the image's name,
so another secret gives other images, and without the secret the truth cannot be rebuilt.

The ranges are the instructor's material: participants are told the rules and the phase names,
not the ranges. An instructor who wants ranges nobody has read in the kit's source gives their
own (``nanosims-challenge prepare --ranges FILE.json``, in the form of :data:`RANGES`).

Knobs a range may set (:data:`KNOBS`): the simulator's ``n_planes`` and ``count_scale``;
the :class:`~nanosims_helpers.teaching.realistic.RealisticSettings` fields ``cell_fraction``,
``wobble_sigma``, ``composition_sigma``, ``beam_sigma_px``, ``rare_fraction``, ``yield_tilt``
(each ``[low, high]``, drawn uniformly) and ``yield_ramp``, ``cell_radius_px``, ``cell_13c``,
``cell_15n``, ``rare_radius_px`` (ranges passed to the simulator, which draws within them);
``microbial_n_to_c`` (12C14N/12C of microbial organic matter and the cells; plant debris has
0.09), ``rare_12c`` (12C of the rare phase) and ``without`` (phases left out of the layers).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ...errors import NanoSIMSError
from ..realistic import REALISTIC_PHASES, RealisticSample, RealisticSettings, simulate_realistic_image

__all__ = [
    "CHALLENGE_SHAPE", "HELD_OUT", "KNOBS", "PRACTICE", "RANGES", "ChallengeImage", "challenge_sample",
    "check_ranges", "derive_seed", "image_hash", "read_ranges", "read_secret_file",
]

#: Size of the challenge images in pixels.
CHALLENGE_SHAPE = (256, 256)
#: The practice image (public truth) and the held-out images (truth with the instructor).
PRACTICE = "practice"
HELD_OUT = ("image_a", "image_b", "image_c")
_PUBLIC_SEED = 20240308
_NATURAL_15N = (0.0037, 0.0037)

#: Image name -> knob -> value or [low, high]; "about" is the instructor's note on the character.
RANGES = {
    PRACTICE: {
        "about": "a bit of everything, at fixed public settings",
        "n_planes": [8, 8], "count_scale": [0.3, 0.3], "yield_ramp": [4.0, 5.0], "yield_tilt": [1.5, 1.5],
        "microbial_n_to_c": [0.2, 0.2], "rare_fraction": [0.005, 0.005], "rare_12c": [480.0, 480.0],
        "cell_13c": [0.03, 0.08], "cell_15n": list(_NATURAL_15N),
    },
    "image_a": {
        "about": "many planes; a strong ion-yield gradient that differs between elements; a wide beam; plant "
                 "and microbial organic matter closer in N/C; cells weakly labelled in 13C only",
        "n_planes": [12, 16], "count_scale": [0.3, 0.45], "yield_ramp": [6.0, 10.0], "wobble_sigma": [0.25, 0.35],
        "yield_tilt": [2.0, 3.0], "beam_sigma_px": [1.6, 2.2], "microbial_n_to_c": [0.17, 0.22],
        "cell_13c": [0.025, 0.05], "cell_15n": list(_NATURAL_15N),
    },
    "image_b": {
        "about": "low counts; a rare carbon-rich phase only a little brighter than resin; 13C-only labelled cells",
        "n_planes": [4, 6], "count_scale": [0.08, 0.13], "rare_fraction": [0.004, 0.008], "rare_12c": [380.0, 480.0],
        "cell_13c": [0.03, 0.08], "cell_15n": list(_NATURAL_15N),
    },
    "image_c": {
        "about": "plant and microbial organic matter that differ only in N/C, with wide grain-to-grain "
                 "variation; no iron oxide; cells weakly labelled in 13C only",
        "n_planes": [6, 8], "count_scale": [0.4, 0.6], "microbial_n_to_c": [0.14, 0.17],
        "composition_sigma": [0.16, 0.2], "without": ["iron oxide"], "cell_13c": [0.025, 0.05],
        "cell_15n": list(_NATURAL_15N),
    },
}

_DRAWN = ("n_planes", "count_scale", "cell_fraction", "wobble_sigma", "composition_sigma", "beam_sigma_px",
          "rare_fraction", "yield_tilt", "microbial_n_to_c", "rare_12c")
_PASSED = ("yield_ramp", "cell_radius_px", "cell_13c", "cell_15n", "rare_radius_px")
#: Every knob a range may set (see the module notes), and "about".
KNOBS = ("about", "without", *_DRAWN, *_PASSED)
_MICROBIAL, _CELLS = REALISTIC_PHASES.index("microbial organic matter"), REALISTIC_PHASES.index("labelled cells")


@dataclass(frozen=True)
class ChallengeImage:
    """One challenge image with its truth and what made it.

    Attributes
    ----------
    name : str
        "practice", "image_a", ...
    sample : RealisticSample
        The image (with planes), the truth map, the expected counts and the labelled cells.
    settings : dict
        The knobs drawn for it (see :data:`KNOBS`), for the instructor's record.
    random_state : int
        The simulator's seed.
    """

    name: str
    sample: RealisticSample
    settings: dict
    random_state: int


def read_secret_file(path, what: str = "--secret-file") -> str:
    """Return the secret held in the text file ``path`` (spaces around it removed).

    Raises
    ------
    NanoSIMSError
        If the file is missing, is a folder or is empty.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise NanoSIMSError(f"{what} {path}: no such file; write a secret into a text file outside the kit's folder "
                            "(python -c \"import secrets; print(secrets.token_hex(16))\" > ~/challenge-secret.txt).")
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise NanoSIMSError(f"{what} {path}: the file is empty; write the secret into it.")
    return secret


def derive_seed(secret: str | None, image: str, purpose: str) -> int:
    """A seed for ``purpose`` ("settings", "image", "training", "split") of ``image``, from the secret.

    Without a secret (None), a public seed: only the practice image is made that way.

    Examples
    --------
    >>> derive_seed("s", "image_a", "image") != derive_seed("s", "image_b", "image")
    True
    >>> derive_seed("s", "image_a", "image") != derive_seed("t", "image_a", "image")
    True
    """
    if secret is None:
        return _PUBLIC_SEED + sum(map(ord, image + purpose))
    digest = hashlib.sha256(f"nanosims-challenge/{image}/{purpose}/{secret}".encode("utf-8")).digest()
    return int.from_bytes(digest[:16], "big")


def check_ranges(ranges) -> dict:
    """Return ``ranges`` if every image holds known knobs with sensible values, else raise.

    Raises
    ------
    NanoSIMSError
        Naming the image and the knob, and what to write instead.
    """
    if not isinstance(ranges, dict) or not set(ranges) - {PRACTICE}:
        raise NanoSIMSError("ranges: give a dict of held-out images, each a dict of knobs "
                            "(see nanosims_helpers.teaching.challenge.design.RANGES).")
    for image, knobs in ranges.items():
        if not re.fullmatch(r"[a-z0-9_]{1,40}", str(image)):
            raise NanoSIMSError(f"ranges: image name {image!r}; use lower-case letters, digits and _ (it names files).")
        if not isinstance(knobs, dict):
            raise NanoSIMSError(f"ranges[{image!r}]: give a dict of knobs, got {type(knobs).__name__}.")
        for knob, value in knobs.items():
            if knob not in KNOBS:
                raise NanoSIMSError(f"ranges[{image!r}]: unknown knob {knob!r}; use some of {', '.join(KNOBS)}.")
            if knob in _DRAWN + _PASSED and not _is_range(value):
                raise NanoSIMSError(f"ranges[{image!r}][{knob!r}]={value!r}: give [low, high] with low <= high.")
            if knob == "without" and not set(value) <= set(REALISTIC_PHASES):
                raise NanoSIMSError(f"ranges[{image!r}]['without']={value!r}: name phases of {REALISTIC_PHASES}.")
        try:
            _draw(knobs, np.random.default_rng(0))
        except (NanoSIMSError, TypeError, ValueError) as exc:
            raise NanoSIMSError(f"ranges[{image!r}]: {exc}") from None
    return ranges


def _is_range(value) -> bool:
    return (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, (int, float)) and np.isfinite(v) for v in value) and value[0] <= value[1])


def read_ranges(path) -> dict:
    """Read ranges of the form of :data:`RANGES` from a JSON file and check them."""
    path = Path(path)
    try:
        ranges = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NanoSIMSError(f"--ranges {path}: cannot read it as JSON ({exc}); write it in the form of "
                            "nanosims_helpers.teaching.challenge.design.RANGES.") from None
    return check_ranges(ranges)


def _draw(knobs: dict, rng) -> tuple[dict, dict]:
    """Draw the knobs of one image: (simulator arguments with ``settings``, the drawn values)."""
    drawn = {}
    for knob in _DRAWN:
        if knob in knobs:
            low, high = knobs[knob]
            drawn[knob] = int(rng.integers(low, high + 1)) if knob == "n_planes" else float(rng.uniform(low, high))
    for knob in (*_PASSED, "without"):
        if knob in knobs:
            drawn[knob] = list(knobs[knob])
    fields = {k: drawn[k] for k in ("cell_fraction", "wobble_sigma", "composition_sigma", "beam_sigma_px",
                                    "rare_fraction", "yield_tilt") if k in drawn}
    fields.update({k: tuple(drawn[k]) for k in _PASSED if k in drawn})
    settings = RealisticSettings(**fields)
    means = [list(row) for row in settings.major_means]
    if "microbial_n_to_c" in drawn:
        for phase in (_MICROBIAL, _CELLS):
            means[phase][2] = drawn["microbial_n_to_c"] * means[phase][0]
    rare = list(settings.rare_means)
    if "rare_12c" in drawn:
        rare[0] = drawn["rare_12c"]
    layers = tuple(layer for layer in settings.layers if REALISTIC_PHASES[layer[0]] not in drawn.get("without", ()))
    settings = replace(settings, major_means=tuple(map(tuple, means)), rare_means=tuple(rare), layers=layers)
    arguments = {"n_planes": drawn.get("n_planes", 6), "count_scale": drawn.get("count_scale", 1.0),
                 "settings": settings}
    return arguments, drawn


def challenge_sample(name: str, secret: str | None = None, *, ranges=None, shape=CHALLENGE_SHAPE,
                     purpose: str = "image") -> ChallengeImage:
    """Simulate challenge image ``name``: its settings drawn from ``ranges`` with the secret.

    Parameters
    ----------
    name : str
        An image of ``ranges``: "practice" (public settings and seed; no secret needed) or a
        held-out image ("image_a", ...), which needs the secret.
    secret : str, optional
        The instructor's secret.
    ranges : dict, optional
        Knob ranges per image; default :data:`RANGES`.
    shape : tuple of int
        Image size in pixels; :data:`CHALLENGE_SHAPE` by default (smaller for tests).
    purpose : str
        "image" for the challenge image itself; "training" for another image drawn with the same
        settings and another seed (what the supervised reference is trained on).

    Returns
    -------
    ChallengeImage

    Raises
    ------
    NanoSIMSError
        If ``name`` is not an image of ``ranges``, or a held-out image is asked for without a secret.

    Examples
    --------
    >>> practice = challenge_sample("practice", shape=(64, 64))
    >>> practice.sample.image.shape, practice.settings["n_planes"]
    ((64, 64, 7), 8)
    """
    ranges = RANGES if ranges is None else ranges
    if name not in ranges:
        raise NanoSIMSError(f"image {name!r}: not an image of this challenge; use one of {list(ranges)}.")
    if name != PRACTICE and secret is None:
        raise NanoSIMSError(f"image {name!r}: a held-out image is made from the instructor's secret, and none is "
                            "given; load the image file your instructor handed out instead.")
    key = None if name == PRACTICE else secret
    arguments, drawn = _draw(ranges[name], np.random.default_rng(derive_seed(key, name, "settings")))
    seed = derive_seed(key, name, purpose)
    sample = simulate_realistic_image(shape, **arguments, random_state=seed)
    image = replace(sample.image, path=Path(f"{name}.tif"))
    return ChallengeImage(name, replace(sample, image=image), drawn, seed)


def image_hash(image) -> str:
    """A SHA-256 fingerprint of an image's counts and mass names: the same for a file and its simulation.

    Computed from the counts summed over planes, as 64-bit floats, so a TIFF written by
    :func:`~nanosims_helpers.io.loading.save_image_tiff` and read back gives the hash of the
    image it was written from.

    Examples
    --------
    >>> from nanosims_helpers.image import NanoSIMSImage
    >>> a = NanoSIMSImage(np.ones((2, 2, 1)), ("12C",))
    >>> image_hash(a) == image_hash(NanoSIMSImage(np.ones((2, 2, 1), dtype=np.uint16), ("12C",)))
    True
    >>> image_hash(a) == image_hash(NanoSIMSImage(np.ones((2, 2, 1)), ("13C",)))
    False
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([list(image.masses), list(image.counts.shape)]).encode("utf-8"))
    digest.update(np.ascontiguousarray(image.counts, dtype=np.float64).tobytes())
    return digest.hexdigest()
